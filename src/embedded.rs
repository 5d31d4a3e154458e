//! Files compiled into the binary by `build.rs`: the template catalog and the lab catalog.

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
