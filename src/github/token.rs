//! The GitHub token, found where gh finds it, and the values of secrets: held in a type that
//! never prints them; labforge never writes a token anywhere.

use std::process::Stdio;
use std::time::Duration;

use super::Error;
use crate::context::Context;

/// How long `gh auth token` may take.
const GH_DEADLINE: Duration = Duration::from_secs(10);

/// A secret: a token or a secret's value. `Debug` and `Display` print `***`;
/// [`Secret::expose`] is the one way to the value (an Authorization header, a sealed box).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// A GitHub token.
pub type Token = Secret;

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The token and where it came from (`GH_TOKEN`, `GITHUB_TOKEN`, `gh auth token`), for messages.
pub async fn find(ctx: &Context, host: &str) -> Result<(Token, String), Error> {
    if let Some((name, value)) = ctx.github_token() {
        return Ok((Token::new(value.trim()), name.to_string()));
    }
    let missing = || {
        Error::Token(format!(
            "no GitHub token: set GH_TOKEN to a token with the `repo` and `workflow` scopes, or run `gh auth login --hostname {host} --scopes repo,workflow`"
        ))
    };
    let Some(gh) = ctx.which("gh") else { return Err(missing()) };
    let run = tokio::process::Command::new(gh)
        .args(["auth", "token", "--hostname", host])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(GH_DEADLINE, run).await {
        Ok(Ok(out)) if out.status.success() => {
            let value = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if value.is_empty() { Err(missing()) } else { Ok((Token::new(value), "gh auth token".to_string())) }
        }
        _ => Err(missing()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_never_prints() {
        let token = Token::new("ghp_canary0123456789");
        assert_eq!(format!("{token} {token:?} {:?}", Some(&token)), "*** *** Some(***)");
        assert_eq!(token.expose(), "ghp_canary0123456789");
    }
}
