//! The project's stack: `labforge.yaml` ([`spec`]). Running it on Docker comes with `labforge up`.

pub mod spec;
