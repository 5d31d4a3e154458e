//! labforge.yaml: any bytes are refused with located problems or parsed, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = labforge::stack::spec::StackSpec::parse("labforge.yaml", text);
    }
});
