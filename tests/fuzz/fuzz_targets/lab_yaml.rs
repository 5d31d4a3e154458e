//! A lab's `lab.yaml` (raw bytes, as a folder would hold them, beside the files a step names):
//! refused with located problems or parsed, never a panic.
#![no_main]

use std::collections::BTreeMap;

use labforge::check::files::LabFiles;
use labforge::lab::spec::Lab;
use labforge::scaffold::Templates;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut files = BTreeMap::new();
    files.insert("lab.yaml".to_string(), data.to_vec());
    files.insert("steps/first.md".to_string(), b"# First".to_vec());
    files.insert("solution/first/x.py".to_string(), b"x = 1".to_vec());
    let _ = Lab::parse(LabFiles::from_map("fuzz", files), &Templates::Embedded);
});
