//! GitHub's REST API through octocrab, as labforge needs it: every call with a deadline, rate
//! limits waited out (saying what for and until when), and every refusal turned into one line
//! that names what to fix.
//!
//! octocrab's own retries are off: it retries a 429 at once, with no regard for `Retry-After`.
//! Calls go through octocrab's raw methods with routes relative to the API root, so the token is
//! sent to that root only (octocrab attaches it to relative routes and to api.github.com).

use std::time::{Duration, Instant};

use http::{HeaderMap, Method, StatusCode};
use octocrab::Octocrab;
use octocrab::service::middleware::retry::RetryConfig;
use serde_json::Value;

use super::Error;
use super::token::Token;
use crate::report::{Event, Reporter};

/// The public API root.
pub const PUBLIC_API: &str = "https://api.github.com";
/// How long one request may take.
const REQUEST_DEADLINE: Duration = Duration::from_secs(30);
/// The longest labforge waits out rate limits in one command.
const RATE_LIMIT_BUDGET: Duration = Duration::from_secs(15 * 60);
/// GitHub's advice for a secondary limit that names no time: wait at least a minute.
const SECONDARY_WAIT: Duration = Duration::from_secs(60);

/// Where the API is: `--api-url`, else `https://HOST/api/v3` for `GH_HOST` (GitHub Enterprise
/// Server), else the public API. Returns the API root and the host gh knows it by.
pub fn api_root(flag: Option<&str>, gh_host: Option<&str>) -> Result<(String, String), Error> {
    let root = match (flag, gh_host) {
        (Some(url), _) => url.trim_end_matches('/').to_string(),
        (None, Some(host)) if host != "github.com" => format!("https://{host}/api/v3"),
        _ => PUBLIC_API.to_string(),
    };
    let uri: http::Uri = root
        .parse()
        .map_err(|_| Error::Usage(format!("--api-url {root}: not a URL (e.g. https://github.example.com/api/v3)")))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(Error::Usage(format!("--api-url {root}: must be an http(s) URL with a host")));
    }
    let host = match uri.host() {
        Some("api.github.com") => "github.com".to_string(),
        Some(host) => host.to_string(),
        None => unreachable!("checked above"),
    };
    Ok((root, host))
}

/// An answer of the API.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

/// A signed-in client.
pub struct GitHub<'r> {
    octo: Octocrab,
    /// The API root, for messages.
    pub api: String,
    /// The account the token belongs to.
    pub login: String,
    /// The scopes of a classic token (`x-oauth-scopes`); `None` for a fine-grained token, whose
    /// permissions only show when a call is refused.
    pub scopes: Option<Vec<String>>,
    /// Where the token came from, for messages.
    pub token_source: String,
    report: &'r dyn Reporter,
}

impl<'r> GitHub<'r> {
    /// Signs in at the API `api_flag` (else `LABFORGE_GITHUB_API`, else `GH_HOST`) names, with
    /// the token gh would use.
    pub async fn sign_in(
        api_flag: Option<&str>,
        ctx: &crate::context::Context,
        report: &'r dyn Reporter,
    ) -> Result<GitHub<'r>, Error> {
        let api_flag = api_flag.map(str::to_string).or_else(|| ctx.github_api());
        let (api, host) = api_root(api_flag.as_deref(), ctx.github_host().as_deref())?;
        let (token, source) = super::token::find(ctx, &host).await?;
        GitHub::connect(&api, token, source, report).await
    }

    /// Signs in with `token` at `api`: the token must be accepted (`GET /user`).
    pub async fn connect(
        api: &str,
        token: Token,
        token_source: String,
        report: &'r dyn Reporter,
    ) -> Result<GitHub<'r>, Error> {
        let octo = Octocrab::builder()
            .personal_token(token.expose().to_string())
            .base_uri(api)
            .map_err(|e| Error::Usage(format!("--api-url {api}: {e}")))?
            .add_retry_config(RetryConfig::None)
            .set_connect_timeout(Some(REQUEST_DEADLINE))
            .set_read_timeout(Some(REQUEST_DEADLINE))
            .build()
            .map_err(|e| Error::Api(format!("cannot make a GitHub client: {e}")))?;
        let mut github =
            GitHub { octo, api: api.to_string(), login: String::new(), scopes: None, token_source, report };
        let me = github.call(Method::GET, "/user", None, "check the token").await?;
        github.login = me.body.get("login").and_then(Value::as_str).unwrap_or_default().to_string();
        github.scopes = me
            .headers
            .get("x-oauth-scopes")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect());
        Ok(github)
    }

    /// Where this client reports its progress.
    pub fn report(&self) -> &'r dyn Reporter {
        self.report
    }

    /// Whether the token may do what `scope` allows: a classic token must list it (or a scope
    /// that includes it); a fine-grained one is judged by GitHub when the call is made.
    pub fn may(&self, scope: &str) -> bool {
        match &self.scopes {
            None => true,
            Some(scopes) => scopes.iter().any(|s| s == scope || (scope == "public_repo" && s == "repo")),
        }
    }

    /// `method route` with `body`; a non-2xx answer is an error that says what `what` needed.
    pub async fn call(&self, method: Method, route: &str, body: Option<&Value>, what: &str) -> Result<Reply, Error> {
        let reply = self.send(method, route, body, what).await?;
        if reply.status.is_success() { Ok(reply) } else { Err(self.refusal(&reply, what)) }
    }

    /// Like [`GitHub::call`], but a 404 is `None`.
    pub async fn get_opt(&self, route: &str, what: &str) -> Result<Option<Value>, Error> {
        let reply = self.send(Method::GET, route, None, what).await?;
        match reply.status {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => Ok(Some(reply.body)),
            _ => Err(self.refusal(&reply, what)),
        }
    }

    /// Sends, waiting out rate limits within the budget; any status comes back.
    pub async fn send(&self, method: Method, route: &str, body: Option<&Value>, what: &str) -> Result<Reply, Error> {
        let started = Instant::now();
        let mut secondary_wait = SECONDARY_WAIT;
        loop {
            let reply = self.once(method.clone(), route, body, what).await?;
            let Some(wait) = rate_limited(&reply, &mut secondary_wait) else { return Ok(reply) };
            if started.elapsed() + wait.duration > RATE_LIMIT_BUDGET {
                return Err(Error::Api(format!(
                    "{what}: GitHub's {} lasts until {}, longer than labforge waits ({} min): run it again then",
                    wait.which,
                    until(wait.duration),
                    RATE_LIMIT_BUDGET.as_secs() / 60
                )));
            }
            self.report.emit(Event::Waiting {
                what: format!("GitHub's {} ({what})", wait.which),
                until: until(wait.duration),
            });
            tokio::time::sleep(wait.duration).await;
        }
    }

    async fn once(&self, method: Method, route: &str, body: Option<&Value>, what: &str) -> Result<Reply, Error> {
        let octo = &self.octo;
        let sent = async {
            match method {
                Method::GET => octo._get(route).await,
                Method::POST => octo._post(route, body).await,
                Method::PUT => octo._put(route, body).await,
                Method::PATCH => octo._patch(route, body).await,
                Method::DELETE => octo._delete(route, body).await,
                other => unreachable!("labforge sends no {other}"),
            }
        };
        let response = match tokio::time::timeout(REQUEST_DEADLINE, sent).await {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => {
                return Err(Error::Api(format!("{what}: cannot reach {} ({})", self.api, crate::base::first_line(&e))));
            }
            Err(_) => {
                return Err(Error::Api(format!(
                    "{what}: {} did not answer within {}s",
                    self.api,
                    REQUEST_DEADLINE.as_secs()
                )));
            }
        };
        let (status, headers) = (response.status(), response.headers().clone());
        let text = self
            .octo
            .body_to_string(response)
            .await
            .map_err(|e| Error::Api(format!("{what}: {}", crate::base::first_line(&e))))?;
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok(Reply { status, headers, body })
    }

    /// The one line a refused call ends with: what failed, GitHub's reason, and the fix.
    fn refusal(&self, reply: &Reply, what: &str) -> Error {
        let message = reply.body.get("message").and_then(Value::as_str).unwrap_or("").trim().to_string();
        let details: Vec<String> = reply
            .body
            .get("errors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| {
                e.get("message").and_then(Value::as_str).map(str::to_string).or_else(|| e.as_str().map(str::to_string))
            })
            .collect();
        let said = match (message.is_empty(), details.is_empty()) {
            (true, _) => format!("{}", reply.status),
            (false, true) => message.clone(),
            (false, false) => format!("{message}: {}", details.join("; ")),
        };
        let needed = reply.headers.get("x-accepted-oauth-scopes").and_then(|v| v.to_str().ok()).unwrap_or("").trim();
        match reply.status.as_u16() {
            401 => Error::Token(format!(
                "{what}: GitHub refused the token from {} ({said}): it is wrong, expired or revoked; make a new one or run `gh auth login`",
                self.token_source
            )),
            403 if !needed.is_empty()
                && self
                    .scopes
                    .as_ref()
                    .is_some_and(|s| !needed.split(',').any(|n| s.contains(&n.trim().to_string()))) =>
            {
                Error::Token(format!(
                    "{what}: the token from {} lacks the `{needed}` scope ({said}); `gh auth refresh --scopes {needed}` adds it",
                    self.token_source
                ))
            }
            403 if message.contains("personal access token") => Error::Token(format!(
                "{what}: the fine-grained token from {} lacks a permission this needs ({said}); give it access to the repository with Contents, Secrets, Actions and Workflows set to read and write",
                self.token_source
            )),
            403 => Error::Api(format!("{what}: GitHub refused it ({said})")),
            404 => Error::Api(format!(
                "{what}: not found ({said}): check the name, and that the token from {} can see it",
                self.token_source
            )),
            422 => Error::Api(format!("{what}: GitHub refused the request ({said})")),
            _ => Error::Api(format!("{what}: GitHub answered {} ({said})", reply.status)),
        }
    }
}

/// A rate limit to wait out.
struct Wait {
    which: &'static str,
    duration: Duration,
}

/// Whether `reply` says to wait, and how long: `Retry-After`, else the primary limit's
/// `x-ratelimit-reset`, else a secondary limit's minute, doubled each time it repeats.
fn rate_limited(reply: &Reply, secondary: &mut Duration) -> Option<Wait> {
    let header = |name: &str| reply.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let message = reply.body.get("message").and_then(Value::as_str).unwrap_or("").to_ascii_lowercase();
    let status = reply.status.as_u16();
    if status != 403 && status != 429 {
        return None;
    }
    if let Some(seconds) = header("retry-after").and_then(|s| s.parse::<u64>().ok()) {
        return Some(Wait { which: "secondary rate limit", duration: Duration::from_secs(seconds.max(1)) });
    }
    if header("x-ratelimit-remaining") == Some("0")
        && let Some(reset) = header("x-ratelimit-reset").and_then(|s| s.parse::<i64>().ok())
    {
        let now = jiff::Timestamp::now().as_second();
        return Some(Wait { which: "rate limit", duration: Duration::from_secs((reset - now).max(1) as u64) });
    }
    if status == 429 || message.contains("secondary rate limit") {
        let wait = *secondary;
        *secondary = (*secondary * 2).min(RATE_LIMIT_BUDGET);
        return Some(Wait { which: "secondary rate limit", duration: wait });
    }
    None
}

/// The time `after` from now, as people read it (UTC).
fn until(after: Duration) -> String {
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(after.as_secs() as i64);
    at.strftime("%H:%M:%S UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, headers: &[(&str, &str)], message: &str) -> Reply {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            headers: map,
            body: serde_json::json!({"message": message}),
        }
    }

    #[test]
    fn rate_limits_are_read_as_github_documents_them() {
        let mut secondary = SECONDARY_WAIT;
        let wait = rate_limited(&reply(429, &[("retry-after", "7")], ""), &mut secondary).unwrap();
        assert_eq!(wait.duration, Duration::from_secs(7));
        let reset = (jiff::Timestamp::now().as_second() + 30).to_string();
        let primary =
            reply(403, &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", &reset)], "API rate limit exceeded");
        let wait = rate_limited(&primary, &mut secondary).unwrap();
        assert!((29..=30).contains(&wait.duration.as_secs()), "{:?}", wait.duration);
        assert_eq!(wait.which, "rate limit");
        let bare = reply(403, &[], "You have exceeded a secondary rate limit");
        assert_eq!(rate_limited(&bare, &mut secondary).unwrap().duration, Duration::from_secs(60));
        assert_eq!(rate_limited(&bare, &mut secondary).unwrap().duration, Duration::from_secs(120), "doubled");
        assert!(
            rate_limited(&reply(403, &[("x-ratelimit-remaining", "12")], "Resource not accessible"), &mut secondary)
                .is_none()
        );
        assert!(rate_limited(&reply(404, &[("retry-after", "3")], ""), &mut secondary).is_none());
    }

    #[test]
    fn the_api_root_follows_the_flag_then_gh_host() {
        assert_eq!(api_root(None, None).unwrap(), (PUBLIC_API.to_string(), "github.com".to_string()));
        assert_eq!(
            api_root(None, Some("ghe.example.com")).unwrap(),
            ("https://ghe.example.com/api/v3".to_string(), "ghe.example.com".to_string())
        );
        assert_eq!(api_root(Some("http://127.0.0.1:9/"), Some("x")).unwrap().0, "http://127.0.0.1:9");
        assert!(api_root(Some("ftp://x"), None).is_err());
        assert!(api_root(Some("not a url"), None).is_err());
    }
}
