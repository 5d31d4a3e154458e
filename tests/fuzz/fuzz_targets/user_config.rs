//! The user's config file (`LABFORGE_CONFIG`), read the way labforge reads it: refused with a
//! located problem or loaded, never a panic.
#![no_main]

use labforge::context::{Env, config::UserConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, data).unwrap();
    let _ = UserConfig::load(&Env::from_pairs([("LABFORGE_CONFIG", path.as_os_str())]));
});
