//! A project on GitHub through the REST API (octocrab): the token ([`token`]), a client that
//! waits out rate limits and explains refusals ([`client`]), the files a repository gets
//! ([`files`]) and their one-commit push ([`push`]), sealed Actions secrets ([`secrets`]), the
//! workflow lint ([`lint`]) and `ci setup` ([`setup`]).
//!
//! octocrab types stay inside this module. The API is tested against wiremock in
//! `tests/integration/github.rs`; what can be judged without it is unit-tested here.

pub mod client;
pub mod files;
pub mod lint;
pub mod push;
pub mod record;
pub mod runs;
pub mod secrets;
pub mod setup;
pub mod token;

/// Why a GitHub command could not do its job (exit 2). A workflow run that fails is not an
/// error: it is the command's verdict (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No token, or one that lacks what a step needs; the message says how to get it.
    #[error("{0}")]
    Token(String),
    /// A flag, the project or its files are wrong; the message says what to fix.
    #[error("{0}")]
    Usage(String),
    /// The workflows have problems, one `FILE:LINE:COLUMN: what` per line; nothing was pushed.
    #[error("{}", .0.join("\n"))]
    Workflow(Vec<String>),
    /// GitHub refused a call or could not be reached.
    #[error("{0}")]
    Api(String),
}
