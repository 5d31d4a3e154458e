//! Checks that talk to the running app over HTTP: `http` (requests with expectations, an optional
//! JWT login first), `ratelimit` (429 with Retry-After) and `graphql`.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio::time::Instant;

use super::jsonpath::{JsonPath, matches, show};
use super::kinds::{
    Call, Forgery, GraphqlCheck, GraphqlExpect, HttpCheck, HttpExpect, Jwt, Login, RatelimitCheck, Request,
};
use super::{Failure, Workspace, snippet};
use crate::base::regex;
use crate::base::wait::{Ended, Verdict, Wait, no_events};

/// How long a request retries a refused connection (a reloading server is briefly away).
const RETRY_REFUSED: std::time::Duration = std::time::Duration::from_secs(5);
/// How often it retries.
const RETRY_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// An answer from the app.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }
}

struct Session<'w> {
    ws: &'w Workspace,
    client: reqwest::Client,
    base: String,
    token: Option<String>,
    saved: BTreeMap<String, String>,
}

impl<'w> Session<'w> {
    async fn open(ws: &'w Workspace, login: Option<&Login>) -> Result<Session<'w>, Failure> {
        let base = ws.stack().await?.app_url()?;
        ws.app_serves_current_code().await?;
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Failure::new(e.to_string()))?;
        let mut session = Session { ws, client, base, token: None, saved: BTreeMap::new() };
        if let Some(login) = login {
            session.login(login).await?;
        }
        Ok(session)
    }

    /// `{name}` in text becomes a value saved by an earlier request.
    fn fill(&self, text: &str) -> Result<String, Failure> {
        let mut text = self.ws.render(text)?;
        for (name, value) in &self.saved {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        Ok(text)
    }

    fn fill_value(&self, value: &Value) -> Result<Value, Failure> {
        Ok(match value {
            Value::String(s) => Value::String(self.fill(s)?),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.fill_value(v)).collect::<Result<_, _>>()?),
            Value::Object(map) => Value::Object(
                map.iter().map(|(k, v)| Ok((k.clone(), self.fill_value(v)?))).collect::<Result<_, Failure>>()?,
            ),
            other => other.clone(),
        })
    }

    async fn login(&mut self, login: &Login) -> Result<(), Failure> {
        if let Some(register) = &login.register {
            // An account left from an earlier check run is fine: only a server error stops here.
            let answer = self.call(register).await?;
            if answer.status >= 500 {
                return Err(Failure::mismatch(
                    &format!("register ({} {})", register.method, register.path),
                    "a 2xx or 4xx answer",
                    format!("{} {}", answer.status, snippet(&answer.body, 160)),
                ));
            }
        }
        let answer = self.call(&login.token).await?;
        let token = answer
            .json()
            .and_then(|j| j.get(&login.field).and_then(Value::as_str).map(str::to_string))
            .filter(|_| (200..300).contains(&answer.status));
        match token {
            Some(token) => {
                self.token = Some(token);
                Ok(())
            }
            None => Err(Failure::mismatch(
                &format!("login ({} {})", login.token.method, login.token.path),
                format!("a 2xx answer with `{}`", login.field),
                format!("{} {}", answer.status, snippet(&answer.body, 160)),
            )),
        }
    }

    async fn call(&self, call: &Call) -> Result<Answer, Failure> {
        let request = Request {
            method: call.method.clone(),
            path: call.path.clone(),
            headers: BTreeMap::new(),
            json: call.json.clone(),
            form: call.form.clone(),
            body: None,
            jwt: None,
            save: BTreeMap::new(),
            restart: None,
            expect: HttpExpect::default(),
        };
        self.send(&request).await
    }

    async fn send(&self, r: &Request) -> Result<Answer, Failure> {
        let path = self.fill(&r.path)?;
        let method = reqwest::Method::from_bytes(r.method.to_uppercase().as_bytes())
            .map_err(|_| Failure::new(format!("`{}` is not an HTTP method", r.method)))?;
        let mut builder = self.client.request(method, format!("{}{path}", self.base));
        // A request's own Authorization (`Bearer not-a-jwt`) replaces the login's token: sent
        // beside it, the app could take the genuine one.
        let own_authorization = r.headers.keys().any(|k| k.eq_ignore_ascii_case("authorization"));
        if let Some(jwt) = &r.jwt {
            builder = builder.bearer_auth(self.mint(jwt).await?);
        } else if let Some(token) = self.token.as_ref().filter(|_| !own_authorization) {
            builder = builder.bearer_auth(token);
        }
        for (name, value) in &r.headers {
            builder = builder.header(name, self.fill(value)?);
        }
        if let Some(json) = &r.json {
            builder = builder.header("content-type", "application/json").body(self.fill_value(json)?.to_string());
        } else if let Some(form) = &r.form {
            let filled: Vec<(String, String)> =
                form.iter().map(|(k, v)| Ok((k.clone(), self.fill(v)?))).collect::<Result<_, Failure>>()?;
            builder = builder.form(&filled);
        } else if let Some(body) = &r.body {
            builder = builder.body(self.fill(body)?);
        }
        // A reloading development server is briefly away after an edit: retry refused
        // connections for a few seconds before calling the app down.
        let does_not_answer =
            |cause: &str| Failure::new(format!("{} {path}: the app does not answer ({cause})", r.method));
        let ended = Wait::at_most(RETRY_REFUSED, RETRY_EVERY)
            .run(std::future::pending(), no_events::<()>(), async |_| {
                // Bodies here are always bytes in memory, so the request can be cloned for a retry.
                let Some(request) = builder.try_clone() else {
                    return Verdict::Failed(Failure::new("the request cannot be repeated"));
                };
                match request.send().await {
                    Ok(response) => Verdict::Done(response),
                    Err(e) => {
                        let mut cause: &dyn std::error::Error = &e;
                        while let Some(source) = cause.source() {
                            cause = source;
                        }
                        if e.is_connect() {
                            Verdict::Pending(cause.to_string())
                        } else {
                            Verdict::Failed(does_not_answer(&cause.to_string()))
                        }
                    }
                }
            })
            .await;
        let response = match ended {
            Ended::Done(response) => response,
            Ended::Failed(failure) => return Err(failure),
            Ended::TimedOut { last } => return Err(does_not_answer(&last)),
            Ended::Cancelled => unreachable!("nothing cancels this wait"),
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        Ok(Answer { status, headers, body })
    }

    /// An HS256 token signed with the project's JWT_SECRET, so a check can send one the app did
    /// not issue itself (an expired one, say).
    async fn mint(&self, jwt: &Jwt) -> Result<String, Failure> {
        let stack = self.ws.stack().await?;
        let secret = stack
            .project
            .services
            .iter()
            .find_map(|s| s.env.get("JWT_SECRET").filter(|v| !v.is_empty()))
            .ok_or_else(|| Failure::new("the project has no JWT_SECRET in .env to sign a test token with"))?;
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        let mut claims = serde_json::Map::new();
        for (k, v) in &jwt.claims {
            claims.insert(k.clone(), self.fill_value(v)?);
        }
        claims.insert("iat".into(), Value::from(now.min(now + jwt.expires_in)));
        claims.insert("exp".into(), Value::from(now + jwt.expires_in));
        Ok(forge(secret.as_bytes(), Value::Object(claims), jwt.forge))
    }
}

/// A token for `claims`: signed with `secret`, or forged as an attacker would.
fn forge(secret: &[u8], claims: Value, forgery: Option<Forgery>) -> String {
    match forgery {
        None => sign_hs256(secret, &claims),
        Some(Forgery::OtherKey) => sign_hs256(b"not-the-project-key-a-guess-an-attacker-might-make", &claims),
        Some(Forgery::AlgNone) => {
            format!("{}.{}.", base64url(br#"{"alg":"none","typ":"JWT"}"#), base64url(claims.to_string().as_bytes()))
        }
        Some(Forgery::Tampered) => {
            let signed = sign_hs256(secret, &claims);
            let mut changed = claims;
            if let Some(map) = changed.as_object_mut() {
                map.insert("admin".into(), Value::Bool(true));
            }
            let mut parts = signed.splitn(3, '.');
            let (header, _, signature) = (parts.next(), parts.next(), parts.next());
            format!(
                "{}.{}.{}",
                header.unwrap_or_default(),
                base64url(changed.to_string().as_bytes()),
                signature.unwrap_or_default()
            )
        }
    }
}

/// The lifetime a JWT was signed for: `exp - iat`, or `exp - now` without `iat`.
pub fn token_lifetime(token: &str, now: i64) -> Result<i64, String> {
    let payload = token.split('.').nth(1).ok_or("it is not a JWT (no payload part)")?;
    let bytes = base64url_decode(payload).ok_or("its payload is not base64url")?;
    let claims: Value = serde_json::from_slice(&bytes).map_err(|_| "its payload is not JSON".to_string())?;
    let exp = claims.get("exp").and_then(Value::as_i64).ok_or("it has no numeric `exp` claim: it never expires")?;
    Ok(exp - claims.get("iat").and_then(Value::as_i64).unwrap_or(now))
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' | b'+' => Some(62),
        b'_' | b'/' => Some(63),
        _ => None,
    };
    let digits: Vec<u8> = text.trim_end_matches('=').bytes().map(value).collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, d)| n | u32::from(*d) << (18 - 6 * i));
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

pub fn sign_hs256(secret: &[u8], claims: &Value) -> String {
    let header = base64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = base64url(claims.to_string().as_bytes());
    let signing_input = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(signing_input.as_bytes());
    format!("{signing_input}.{}", base64url(&mac.finalize().into_bytes()))
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Compares an answer with a request's expectations.
fn expect(what: &str, answer: &Answer, e: &HttpExpect) -> Result<(), Failure> {
    if let Some(status) = e.status
        && answer.status != status
    {
        return Err(Failure::mismatch(
            what,
            format!("status {status}"),
            format!("status {} {}", answer.status, snippet(&answer.body, 160)).trim_end().to_string(),
        ));
    }
    for (name, pattern) in &e.headers {
        let value = answer.headers.get(name.as_str()).and_then(|v| v.to_str().ok());
        match value {
            Some(v) if regex(pattern).map_err(Failure::new)?.is_match(v) => {}
            Some(v) => {
                return Err(Failure::mismatch(
                    what,
                    format!("header {name} matching /{pattern}/"),
                    format!("{name}: {v}"),
                ));
            }
            None => {
                return Err(Failure::mismatch(
                    what,
                    format!("header {name} matching /{pattern}/"),
                    format!("no {name} header"),
                ));
            }
        }
    }
    if !e.json.is_empty() || !e.json_absent.is_empty() {
        let doc = answer
            .json()
            .ok_or_else(|| Failure::mismatch(what, "a JSON body", format!("{:?}", snippet(&answer.body, 120))))?;
        for (path, expected) in &e.json {
            let path = JsonPath::parse(path).map_err(Failure::new)?;
            match path.find(&doc) {
                Some(actual) if matches(expected, actual) => {}
                Some(actual) => {
                    return Err(Failure::mismatch(
                        what,
                        format!("{} = {}", path.as_str(), show(expected)),
                        show(actual),
                    ));
                }
                None => {
                    return Err(Failure::mismatch(
                        what,
                        format!("{} = {}", path.as_str(), show(expected)),
                        "no such field",
                    ));
                }
            }
        }
        for path in &e.json_absent {
            let path = JsonPath::parse(path).map_err(Failure::new)?;
            if let Some(actual) = path.find(&doc) {
                return Err(Failure::mismatch(
                    what,
                    format!("no {}", path.as_str()),
                    format!("{} = {}", path.as_str(), show(actual)),
                ));
            }
        }
    }
    if let Some(needle) = &e.body_contains
        && !answer.body.contains(needle.as_str())
    {
        return Err(Failure::mismatch(what, format!("a body containing {needle:?}"), snippet(&answer.body, 160)));
    }
    if let Some(lifetime) = &e.token_lifetime {
        let expected = format!("a token at {} signed for {} s (exp - iat)", lifetime.json, lifetime.seconds);
        let path = JsonPath::parse(&lifetime.json).map_err(Failure::new)?;
        let token = answer.json().and_then(|doc| path.find(&doc).and_then(Value::as_str).map(str::to_string));
        let token =
            token.ok_or_else(|| Failure::mismatch(what, &expected, format!("no token at {}", lifetime.json)))?;
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        match token_lifetime(&token, now) {
            // A token without `iat` is measured from now: a second or two has passed since it was signed.
            Ok(seconds) if (seconds - lifetime.seconds).abs() <= 2 => {}
            Ok(seconds) => return Err(Failure::mismatch(what, expected, format!("a token signed for {seconds} s"))),
            Err(why) => return Err(Failure::mismatch(what, expected, format!("a token that {why}"))),
        }
    }
    Ok(())
}

pub async fn http(ws: &Workspace, c: &HttpCheck, deadline: Instant) -> Result<(), Failure> {
    let mut session = Session::open(ws, c.login.as_ref()).await?;
    for r in &c.requests {
        if let Some(service) = &r.restart {
            super::infra::restart(ws, service, deadline).await?;
        }
        let answer = session.send(r).await?;
        let path = session.fill(&r.path)?;
        let what = format!("{} {path}", r.method.to_uppercase());
        // Expected values may name what earlier requests saved (`$.id: "{id}"`).
        let mut expected = r.expect.clone();
        for value in expected.json.values_mut() {
            *value = session.fill_value(value)?;
        }
        expect(&what, &answer, &expected)?;
        for (name, source) in &r.save {
            let text = match source.strip_prefix(crate::check::kinds::HEADER_PREFIX) {
                Some(header) => {
                    let value = answer
                        .headers
                        .get(header.trim())
                        .and_then(|v| v.to_str().ok())
                        .ok_or_else(|| Failure::mismatch(&what, format!("a {} header", header.trim()), "none"))?;
                    match header.trim().eq_ignore_ascii_case("location")
                        || header.trim().eq_ignore_ascii_case("content-location")
                    {
                        true => followed(&session.base, &path, value),
                        false => value.to_string(),
                    }
                }
                None => {
                    let doc = answer.json().ok_or_else(|| {
                        Failure::mismatch(&what, "a JSON body to read values from", snippet(&answer.body, 120))
                    })?;
                    let at = JsonPath::parse(source).map_err(Failure::new)?;
                    let value = at.find(&doc).ok_or_else(|| {
                        Failure::mismatch(&what, format!("a value at {}", at.as_str()), "no such field")
                    })?;
                    value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string())
                }
            };
            session.saved.insert(name.clone(), text);
        }
    }
    Ok(())
}

pub async fn ratelimit(ws: &Workspace, c: &RatelimitCheck) -> Result<(), Failure> {
    let session = Session::open(ws, None).await?;
    let what = format!("{} {}", c.request.method, c.request.path);
    // The requests come as the client the app sees without the header, as later checks' requests
    // do; the other client is one no earlier run has used (a documentation address, RFC 5737),
    // so a limit an earlier check reached is not counted against it.
    let other = {
        let mut byte = [0u8; 1];
        getrandom::fill(&mut byte).map_err(|e| Failure::new(format!("no randomness for a client address: {e}")))?;
        format!("203.0.113.{}", byte[0])
    };
    let mut statuses = Vec::new();
    for _ in 0..c.requests {
        let answer = session.send(&c.request).await?;
        if answer.status == 429 {
            let retry_after = answer.headers.get("retry-after").and_then(|v| v.to_str().ok());
            judge_ratelimit(&what, &statuses, retry_after, c.window, jiff::Timestamp::now())?;
            let Some(header) = &c.per_client else { return Ok(()) };
            let mut as_other = c.request.clone();
            as_other.headers.insert(header.clone(), other.clone());
            return match session.send(&as_other).await?.status {
                200..=299 => Ok(()),
                status => Err(Failure::mismatch(
                    &format!("{what} as another client ({header}: {other})"),
                    "2xx: the first client's limit is its own",
                    format!(
                        "status {status}: one client's limit blocks every client (is the key the client's address?)"
                    ),
                )),
            };
        }
        statuses.push(answer.status);
    }
    Err(Failure::mismatch(
        &format!("{what} × {}", c.requests),
        "a 429 with Retry-After",
        format!("statuses {}", summarize(&statuses)),
    ))
}

/// The verdict on a limit that answered 429 after the answers `before`: each of those is 2xx (a
/// failing route is not a limit), and `Retry-After` says when to come back — delta-seconds or an
/// HTTP date (RFC 9110 §10.2.3), in the future, and no later than the `window` when one is known.
pub fn judge_ratelimit(
    what: &str,
    before: &[u16],
    retry_after: Option<&str>,
    window: Option<u64>,
    now: jiff::Timestamp,
) -> Result<(), Failure> {
    if let Some(bad) = before.iter().find(|s| !(200..300).contains(*s)) {
        return Err(Failure::mismatch(
            what,
            "2xx answers until the limit",
            format!("{bad} before the 429 (statuses {})", summarize(before)),
        ));
    }
    let Some(value) = retry_after.map(str::trim) else {
        return Err(Failure::mismatch(what, "429 with a Retry-After header", "429 without Retry-After"));
    };
    // A date names a whole second, and the limiter read its clock a moment before this one: a
    // second more than the window is still within it.
    let (seconds, slack) = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        (value.parse::<i64>().unwrap_or(i64::MAX), 0)
    } else {
        match jiff::fmt::rfc2822::parse(value) {
            Ok(date) => (date.timestamp().as_second() - now.as_second(), 1),
            Err(_) => {
                return Err(Failure::mismatch(
                    what,
                    "Retry-After as seconds (`30`) or an HTTP date",
                    format!("Retry-After: {value}"),
                ));
            }
        }
    };
    if seconds <= 0 {
        return Err(Failure::mismatch(what, "a Retry-After in the future", format!("Retry-After: {value}")));
    }
    if let Some(window) = window
        && seconds > window as i64 + slack
    {
        return Err(Failure::mismatch(
            what,
            format!("a Retry-After of at most the {window} s window"),
            format!("Retry-After: {value} ({seconds} s)"),
        ));
    }
    Ok(())
}

/// Where a client goes when an answer to `path` (on `base`) says `Location: reference`: the
/// reference resolved against the request's URL (RFC 3986 §5), as a path on `base` when it is on
/// the same origin, else the whole URL.
fn followed(base: &str, path: &str, reference: &str) -> String {
    let Ok(request) = reqwest::Url::parse(&format!("{base}{path}")) else { return reference.to_string() };
    match request.join(reference.trim()) {
        Ok(url) if url.origin() == request.origin() => match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        },
        Ok(url) => url.to_string(),
        Err(_) => reference.to_string(),
    }
}

/// `[200×5, 500]`.
fn summarize(statuses: &[u16]) -> String {
    let mut runs: Vec<(u16, usize)> = Vec::new();
    for s in statuses {
        match runs.last_mut() {
            Some((last, n)) if last == s => *n += 1,
            _ => runs.push((*s, 1)),
        }
    }
    let parts: Vec<String> =
        runs.iter().map(|(s, n)| if *n > 1 { format!("{s}×{n}") } else { s.to_string() }).collect();
    format!("[{}]", parts.join(", "))
}

pub async fn graphql(ws: &Workspace, c: &GraphqlCheck) -> Result<(), Failure> {
    let session = Session::open(ws, c.login.as_ref()).await?;
    let body = serde_json::json!({ "query": session.fill(&c.query)?, "variables": c.variables });
    let request = Request {
        method: "POST".into(),
        path: c.path.clone(),
        headers: BTreeMap::new(),
        json: Some(body),
        form: None,
        body: None,
        jwt: None,
        save: BTreeMap::new(),
        restart: None,
        expect: HttpExpect::default(),
    };
    let answer = session.send(&request).await?;
    judge_graphql(&format!("GraphQL {}", snippet(&c.query, 60)), &answer, &c.expect)
}

/// The verdict on a GraphQL answer: errors only when expected, and each expected field of `data`.
fn judge_graphql(what: &str, answer: &Answer, expect: &GraphqlExpect) -> Result<(), Failure> {
    let doc = answer.json().ok_or_else(|| {
        Failure::mismatch(what, "a JSON answer", format!("status {} {}", answer.status, snippet(&answer.body, 120)))
    })?;
    let errors = doc.get("errors").filter(|e| !e.is_null());
    match (errors, expect.errors) {
        (Some(errors), false) => return Err(Failure::mismatch(what, "no errors", show(errors))),
        (None, true) => return Err(Failure::mismatch(what, "errors", "none")),
        _ => {}
    }
    let data = doc.get("data").cloned().unwrap_or(Value::Null);
    for (path, expected) in &expect.data {
        let path = JsonPath::parse(path).map_err(Failure::new)?;
        match path.find(&data) {
            Some(actual) if matches(expected, actual) => {}
            Some(actual) => {
                return Err(Failure::mismatch(
                    what,
                    format!("data{} = {}", &path.as_str()[1..], show(expected)),
                    show(actual),
                ));
            }
            None => {
                return Err(Failure::mismatch(
                    what,
                    format!("data{} = {}", &path.as_str()[1..], show(expected)),
                    "no such field",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod ratelimit_tests {
    use super::*;

    #[test]
    fn a_location_is_followed_as_a_client_follows_it() {
        let base = "http://127.0.0.1:8000";
        assert_eq!(followed(base, "/items", "/items/2"), "/items/2");
        assert_eq!(followed(base, "/items", "items/2"), "/items/2", "relative to /items, a sibling");
        assert_eq!(followed(base, "/items/", "2"), "/items/2");
        assert_eq!(followed(base, "/items", "http://127.0.0.1:8000/items/2?x=1"), "/items/2?x=1");
        assert_eq!(followed(base, "/items", "https://elsewhere.example/items/2"), "https://elsewhere.example/items/2");
    }

    #[test]
    fn the_limit_is_judged_on_both_sides() {
        let now: jiff::Timestamp = "2026-11-30T12:00:00Z".parse().unwrap();
        let judge = |before: &[u16], retry: Option<&str>, window: Option<u64>| {
            judge_ratelimit("GET /items", before, retry, window, now).map_err(|f| f.reason)
        };
        let ok = [200, 200, 201];
        assert_eq!(judge(&ok, Some("30"), Some(60)), Ok(()));
        assert_eq!(judge(&ok, Some(" 60 "), Some(60)), Ok(()), "the whole window");
        assert_eq!(judge(&ok, Some("Mon, 30 Nov 2026 12:00:45 GMT"), Some(60)), Ok(()), "an HTTP date");
        let a_second_late = Some("Mon, 30 Nov 2026 12:01:01 GMT");
        assert_eq!(judge(&ok, a_second_late, Some(60)), Ok(()), "a date names a whole second");
        assert_eq!(judge(&[], Some("1"), None), Ok(()), "limited at once");
        let cases = [
            (
                &[200, 500, 200][..],
                Some("30"),
                Some(60),
                "GET /items: expected 2xx answers until the limit, got 500 before the 429 (statuses [200, 500, 200])",
            ),
            (&ok[..], None, None, "GET /items: expected 429 with a Retry-After header, got 429 without Retry-After"),
            (
                &ok[..],
                Some("soon"),
                None,
                "GET /items: expected Retry-After as seconds (`30`) or an HTTP date, got Retry-After: soon",
            ),
            (
                &ok[..],
                Some("-1"),
                None,
                "GET /items: expected Retry-After as seconds (`30`) or an HTTP date, got Retry-After: -1",
            ),
            (&ok[..], Some("0"), None, "GET /items: expected a Retry-After in the future, got Retry-After: 0"),
            (
                &ok[..],
                Some("3600"),
                Some(60),
                "GET /items: expected a Retry-After of at most the 60 s window, got Retry-After: 3600 (3600 s)",
            ),
            (
                &ok[..],
                Some("Mon, 30 Nov 2026 12:01:02 GMT"),
                Some(60),
                "GET /items: expected a Retry-After of at most the 60 s window, got Retry-After: Mon, 30 Nov 2026 12:01:02 GMT (62 s)",
            ),
            (
                &ok[..],
                Some("Mon, 30 Nov 2026 11:59:00 GMT"),
                None,
                "GET /items: expected a Retry-After in the future, got Retry-After: Mon, 30 Nov 2026 11:59:00 GMT",
            ),
        ];
        for (before, retry, window, reason) in cases {
            assert_eq!(judge(before, retry, window), Err(reason.to_string()), "{retry:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_the_rfc_vectors() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foob"), "Zm9vYg");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn hs256_matches_a_known_token() {
        // jwt.io's example token.
        let claims = serde_json::json!({"sub": "1234567890", "name": "John Doe", "iat": 1516239022});
        assert_eq!(
            sign_hs256(b"your-256-bit-secret", &claims),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
        );
    }

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Answer {
        let mut map = reqwest::header::HeaderMap::new();
        for (k, v) in headers {
            map.insert(reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        Answer { status, headers: map, body: body.to_string() }
    }

    /// Each expectation of an `http` request on both sides: one answer that meets it, and for
    /// every way to miss it, the reason that names what was expected and what came.
    #[test]
    fn each_expectation_passes_when_met_and_fails_with_its_own_reason() {
        let good = answer(
            201,
            &[("location", "/items/7"), ("content-type", "application/json")],
            r#"{"id": 7, "name": "kettle", "tags": ["a"]}"#,
        );
        let expect: HttpExpect = serde_json::from_value(serde_json::json!({
            "status": 201,
            "headers": {"Location": "^/items/\\d+$"},
            "json": {"$.id": 7, "$.name": "kettle", "$.tags[0]": "a"},
            "json_absent": ["$.password_hash"],
            "body_contains": "kettle",
        }))
        .unwrap();
        assert_eq!(super::expect("POST /items", &good, &expect), Ok(()));
        let fails = |a: Answer, e: serde_json::Value| {
            let e: HttpExpect = serde_json::from_value(e).unwrap();
            super::expect("POST /items", &a, &e).unwrap_err().reason
        };
        let json = |body: &str| answer(200, &[], body);
        let cases = [
            (
                answer(200, &[], "ok"),
                serde_json::json!({"status": 201}),
                "POST /items: expected status 201, got status 200 ok",
            ),
            (
                answer(201, &[], "{}"),
                serde_json::json!({"headers": {"location": "^/items/"}}),
                "POST /items: expected header location matching /^/items//, got no location header",
            ),
            (
                answer(201, &[("location", "/things/1")], "{}"),
                serde_json::json!({"headers": {"location": "^/items/"}}),
                "POST /items: expected header location matching /^/items//, got location: /things/1",
            ),
            (
                json(r#"{"name": "teapot"}"#),
                serde_json::json!({"json": {"$.name": "kettle"}}),
                "POST /items: expected $.name = \"kettle\", got \"teapot\"",
            ),
            (
                json(r#"{"id": 7}"#),
                serde_json::json!({"json": {"$.name": "kettle"}}),
                "POST /items: expected $.name = \"kettle\", got no such field",
            ),
            (
                json("not json"),
                serde_json::json!({"json": {"$.name": "kettle"}}),
                "POST /items: expected a JSON body, got \"not json\"",
            ),
            (
                json(r#"{"password_hash": "x"}"#),
                serde_json::json!({"json_absent": ["$.password_hash"]}),
                "POST /items: expected no $.password_hash, got $.password_hash = \"x\"",
            ),
            (
                json(r#"{"name": "teapot"}"#),
                serde_json::json!({"body_contains": "kettle"}),
                "POST /items: expected a body containing \"kettle\"",
            ),
        ];
        for (answer, expect, reason) in cases {
            let said = fails(answer, expect.clone());
            assert!(said.starts_with(reason), "{expect}: {said}");
        }
    }

    fn claims_of(token: &str) -> serde_json::Value {
        serde_json::from_slice(&base64url_decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn forged_tokens_fail_as_an_attacker_means_them_to() {
        let claims = serde_json::json!({"sub": "7", "iat": 1000, "exp": 4600});
        let genuine = forge(b"project-key", claims.clone(), None);
        let signature = |t: &str| t.rsplit('.').next().unwrap().to_string();
        let other = forge(b"project-key", claims.clone(), Some(Forgery::OtherKey));
        assert_eq!(claims_of(&other), claims, "the same claims");
        assert_ne!(signature(&other), signature(&genuine), "under another key's signature");
        let none = forge(b"project-key", claims.clone(), Some(Forgery::AlgNone));
        assert!(none.ends_with('.'), "no signature: {none}");
        assert_eq!(
            String::from_utf8(base64url_decode(none.split('.').next().unwrap()).unwrap()).unwrap(),
            r#"{"alg":"none","typ":"JWT"}"#
        );
        let tampered = forge(b"project-key", claims.clone(), Some(Forgery::Tampered));
        assert_eq!(signature(&tampered), signature(&genuine), "the genuine signature");
        assert_eq!(claims_of(&tampered)["admin"], true, "over a changed payload");
        assert_eq!(claims_of(&tampered)["sub"], "7");
    }

    #[test]
    fn a_token_lifetime_is_read_from_the_token_not_the_answer() {
        let token = |claims: serde_json::Value| sign_hs256(b"k", &claims);
        assert_eq!(token_lifetime(&token(serde_json::json!({"iat": 1000, "exp": 2800})), 5000), Ok(1800));
        assert_eq!(token_lifetime(&token(serde_json::json!({"exp": 6800})), 5000), Ok(1800), "no iat: from now");
        assert!(token_lifetime(&token(serde_json::json!({"sub": "1"})), 0).unwrap_err().contains("never expires"));
        assert!(token_lifetime("opaque-token", 0).unwrap_err().contains("not a JWT"));
        let month = token(serde_json::json!({"iat": 0, "exp": 30 * 24 * 3600}));
        let says_1800 = answer(200, &[], &format!(r#"{{"access_token": "{month}", "expires_in": 1800}}"#));
        let e: HttpExpect =
            serde_json::from_value(serde_json::json!({"token_lifetime": {"json": "$.access_token", "seconds": 1800}}))
                .unwrap();
        let said = super::expect("POST /auth/token", &says_1800, &e).unwrap_err().reason;
        assert_eq!(
            said,
            "POST /auth/token: expected a token at $.access_token signed for 1800 s (exp - iat), got a token signed for 2592000 s"
        );
        let right = token(serde_json::json!({"iat": 0, "exp": 1800}));
        let good = answer(200, &[], &format!(r#"{{"access_token": "{right}"}}"#));
        assert_eq!(super::expect("POST /auth/token", &good, &e), Ok(()));
    }

    #[test]
    fn base64url_decodes_what_it_encodes() {
        for text in ["", "f", "fo", "foo", "foob", "{\"sub\":\"1\"}"] {
            assert_eq!(base64url_decode(&base64url(text.as_bytes())).unwrap(), text.as_bytes());
        }
        assert_eq!(base64url_decode("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(base64url_decode("a b"), None);
    }

    /// A `graphql` check's verdict on both sides, each miss with its own reason.
    #[test]
    fn a_graphql_answer_passes_when_it_matches_and_fails_for_each_miss() {
        let expect = |spec: serde_json::Value| -> GraphqlExpect { serde_json::from_value(spec).unwrap() };
        let data = answer(200, &[], r#"{"data": {"item": {"id": 7, "name": "kettle"}}}"#);
        let refused = answer(200, &[], r#"{"data": null, "errors": [{"message": "limit must be at most 100"}]}"#);
        assert_eq!(
            judge_graphql("GraphQL q", &data, &expect(serde_json::json!({"data": {"$.item.name": "kettle"}}))),
            Ok(())
        );
        assert_eq!(judge_graphql("GraphQL q", &refused, &expect(serde_json::json!({"errors": true}))), Ok(()));
        let cases = [
            (
                &refused,
                serde_json::json!({}),
                "GraphQL q: expected no errors, got [{\"message\":\"limit must be at most 100\"}]",
            ),
            (&data, serde_json::json!({"errors": true}), "GraphQL q: expected errors, got none"),
            (
                &data,
                serde_json::json!({"data": {"$.item.name": "teapot"}}),
                "GraphQL q: expected data.item.name = \"teapot\", got \"kettle\"",
            ),
            (
                &data,
                serde_json::json!({"data": {"$.item.quantity": 1}}),
                "GraphQL q: expected data.item.quantity = 1, got no such field",
            ),
        ];
        for (answer, spec, reason) in cases {
            let said = judge_graphql("GraphQL q", answer, &expect(spec.clone())).unwrap_err().reason;
            assert_eq!(said, reason, "{spec}");
        }
        let not_json = answer(502, &[], "Bad Gateway");
        let said = judge_graphql("GraphQL q", &not_json, &expect(serde_json::json!({}))).unwrap_err().reason;
        assert_eq!(said, "GraphQL q: expected a JSON answer, got status 502 Bad Gateway");
    }

    #[test]
    fn statuses_are_summarised_in_runs() {
        assert_eq!(summarize(&[200, 200, 200, 500, 200]), "[200×3, 500, 200]");
    }
}
