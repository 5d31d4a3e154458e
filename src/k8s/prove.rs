//! Proof that the deployed app answers: its liveness and readiness paths (labforge.yaml's
//! `ready:`, so `/ready` also proves the database), asked through a port-forward to a ready pod,
//! or, where the cluster refuses port-forwarding, through the API server's proxy to the Service.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long one answer may take.
pub const ANSWER_DEADLINE: Duration = Duration::from_secs(5);

/// One path's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    pub path: String,
    /// The HTTP status, or `None` when nothing answered.
    pub status: Option<u16>,
    /// The start of the body, or why nothing answered.
    pub body: String,
    /// `port-forward to pod/NAME` or `service proxy`.
    pub via: String,
}

impl Answer {
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Where to ask.
pub struct Target<'a> {
    pub namespace: &'a str,
    /// A ready pod of the app, when there is one.
    pub pod: Option<&'a str>,
    /// The port the app listens on in its container.
    pub container_port: u16,
    /// The Service in front of the app and its port's name or number.
    pub service: Option<(&'a str, String)>,
}

/// Asks each path, through a port-forward when it works, else through the service proxy.
pub async fn ask(client: &kube::Client, target: &Target<'_>, paths: &[String]) -> Vec<Answer> {
    let mut answers = Vec::new();
    for path in paths {
        let mut answer = None;
        if let Some(pod) = target.pod {
            answer = forwarded(client, target.namespace, pod, target.container_port, path).await;
        }
        if answer.is_none()
            && let Some((service, port)) = &target.service
        {
            answer = Some(through_service(client, target.namespace, service, Some(port), path).await);
        }
        answers.push(answer.unwrap_or_else(|| Answer {
            path: path.clone(),
            status: None,
            body: "no ready pod and no Service to ask".to_string(),
            via: String::new(),
        }));
    }
    answers
}

/// `None` when the port-forward itself could not be opened (the caller tries another way).
async fn forwarded(client: &kube::Client, namespace: &str, pod: &str, port: u16, path: &str) -> Option<Answer> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let via = format!("port-forward to pod/{pod}");
    let attempt = async {
        let mut forwarder = pods.portforward(pod, &[port]).await.ok()?;
        let mut stream = forwarder.take_stream(port)?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nUser-Agent: labforge\r\n\r\n");
        if stream.write_all(request.as_bytes()).await.is_err() {
            return Some(Answer {
                path: path.into(),
                status: None,
                body: "the port-forward closed".into(),
                via: via.clone(),
            });
        }
        let mut raw = Vec::new();
        let read = stream.read_to_end(&mut raw).await;
        drop(stream);
        forwarder.abort();
        Some(match (read, parse_response(&raw)) {
            (_, Some((status, body))) => Answer { path: path.into(), status: Some(status), body, via: via.clone() },
            (Err(e), None) => Answer { path: path.into(), status: None, body: e.to_string(), via: via.clone() },
            (Ok(_), None) => {
                Answer { path: path.into(), status: None, body: "no HTTP answer".into(), via: via.clone() }
            }
        })
    };
    tokio::time::timeout(ANSWER_DEADLINE, attempt).await.ok().flatten()
}

/// Asks `path` of `service` through the API server's proxy, which picks one of its ready endpoints.
pub async fn through_service(
    client: &kube::Client,
    namespace: &str,
    service: &str,
    port: Option<&str>,
    path: &str,
) -> Answer {
    let via = "service proxy".to_string();
    let service = match port {
        Some(port) => format!("{service}:{port}"),
        None => service.to_string(),
    };
    let uri = format!("/api/v1/namespaces/{namespace}/services/{service}/proxy{path}");
    let request = match http::Request::get(&uri).body(Vec::new()) {
        Ok(r) => r,
        Err(e) => return Answer { path: path.into(), status: None, body: e.to_string(), via },
    };
    match tokio::time::timeout(ANSWER_DEADLINE, client.request_text(request)).await {
        Ok(Ok(body)) => Answer { path: path.into(), status: Some(200), body: excerpt(&body), via },
        Ok(Err(kube::Error::Api(status))) if status.code > 0 => {
            Answer { path: path.into(), status: Some(status.code), body: excerpt(&status.message), via }
        }
        Ok(Err(e)) => Answer { path: path.into(), status: None, body: e.to_string(), via },
        Err(_) => Answer {
            path: path.into(),
            status: None,
            body: format!("no answer within {}s", ANSWER_DEADLINE.as_secs()),
            via,
        },
    }
}

/// The status and the start of the body of a raw HTTP/1.1 response (chunked bodies are shown
/// as they came; only their start is kept).
fn parse_response(raw: &[u8]) -> Option<(u16, String)> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.lines().next()?.split_whitespace().nth(1)?.parse().ok()?;
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    let body = if chunked {
        body.lines().filter(|l| u64::from_str_radix(l.trim(), 16).is_err()).collect::<Vec<_>>().join("")
    } else {
        body.to_string()
    };
    Some((status, excerpt(&body)))
}

fn excerpt(body: &str) -> String {
    let body = body.trim();
    match body.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &body[..at]),
        None => body.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_answers_are_read_plain_or_chunked() {
        let plain = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 20\r\n\r\n{\"database\":\"down\"}";
        assert_eq!(parse_response(plain), Some((503, "{\"database\":\"down\"}".into())));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"status\":\"ok\"}\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked), Some((200, "{\"status\":\"ok\"}".into())));
        assert_eq!(parse_response(b"garbage"), None);
    }
}
