//! labforge's integration tests: one binary, the real `labforge` executable, real tools.

mod bad_input;
mod corpus;
mod faults;
mod generated;
mod github;
mod install;
mod k8s;
mod labs;
mod new;
mod prompts;
mod schemathesis;
mod snapshots;
mod stack;
mod support;
mod templates;
