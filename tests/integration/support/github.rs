//! A fake GitHub REST API for `labforge ci`: wiremock serving the routes labforge calls, with
//! bodies shaped like GitHub's documented ones, backed by an in-memory repository store (Git
//! objects by their real ids, refs, Actions secrets sealed to a key pair the test holds), and
//! failures a test scripts (rate limits, refusals). No network: GitHub is unreachable here.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

/// The token the fake accepts; any other is refused with 401.
pub const TOKEN: &str = "ghp_labforgeCanary0123456789abcdefABCDEF";

#[derive(Default)]
pub struct Repo {
    pub default_branch: String,
    pub refs: BTreeMap<String, String>,
    /// Commit id → (tree id, parents, message).
    pub commits: BTreeMap<String, (String, Vec<String>, String)>,
    /// Tree id → path → (mode, blob id).
    pub trees: BTreeMap<String, BTreeMap<String, (String, String)>>,
    pub blobs: BTreeMap<String, Vec<u8>>,
    /// Secret name → sealed value (base64) as received.
    pub secrets: BTreeMap<String, String>,
}

#[derive(Default)]
struct State {
    login: String,
    scopes: String,
    repos: BTreeMap<String, Repo>,
    /// Scripted answers: (method, path prefix) → answers, used first.
    scripted: Vec<(String, String, ResponseTemplate)>,
}

#[derive(Clone)]
struct Fake {
    state: Arc<Mutex<State>>,
    public_key: String,
}

pub struct FakeGitHub {
    runtime: tokio::runtime::Runtime,
    server: MockServer,
    state: Arc<Mutex<State>>,
    pub secret_key: crypto_box::SecretKey,
}

impl FakeGitHub {
    /// A fake signed in as `login` whose token has `scopes` (`x-oauth-scopes`).
    pub fn start(login: &str, scopes: &str) -> FakeGitHub {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let server = runtime.block_on(MockServer::builder().start());
        let secret_key = crypto_box::SecretKey::generate(&mut crypto_box::aead::OsRng);
        let public_key = base64::engine::general_purpose::STANDARD.encode(secret_key.public_key().as_bytes());
        let state = Arc::new(Mutex::new(State { login: login.into(), scopes: scopes.into(), ..State::default() }));
        let fake = Fake { state: state.clone(), public_key };
        runtime.block_on(Mock::given(any()).respond_with(fake).mount(&server));
        FakeGitHub { runtime, server, state, secret_key }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Every request so far: `METHOD /path?query`.
    pub fn requests(&self) -> Vec<String> {
        let requests = self.runtime.block_on(self.server.received_requests()).unwrap_or_default();
        requests
            .iter()
            .map(|r| match r.url.query() {
                Some(q) => format!("{} {}?{q}", r.method, r.url.path()),
                None => format!("{} {}", r.method, r.url.path()),
            })
            .collect()
    }

    /// Every header value any request sent, for searching for a leak.
    pub fn authorizations(&self) -> Vec<String> {
        let requests = self.runtime.block_on(self.server.received_requests()).unwrap_or_default();
        requests.iter().filter_map(|r| r.headers.get("authorization")?.to_str().ok().map(str::to_string)).collect()
    }

    pub fn reset_requests(&self) {
        self.runtime.block_on(self.server.reset());
        let fake = Fake {
            state: self.state.clone(),
            public_key: base64::engine::general_purpose::STANDARD.encode(self.secret_key.public_key().as_bytes()),
        };
        self.runtime.block_on(Mock::given(any()).respond_with(fake).mount(&self.server));
    }

    /// The next `method` request whose path starts with `prefix` gets `answer` instead.
    pub fn script(&self, method: &str, prefix: &str, answer: ResponseTemplate) {
        self.state.lock().unwrap().scripted.push((method.into(), prefix.into(), answer));
    }

    /// Makes a repository that exists, empty.
    pub fn add_repo(&self, full_name: &str) {
        let repo = Repo { default_branch: "main".into(), ..Repo::default() };
        self.state.lock().unwrap().repos.insert(full_name.into(), repo);
    }

    /// The files on `branch` of `repo`: path → content.
    pub fn files(&self, repo: &str, branch: &str) -> BTreeMap<String, Vec<u8>> {
        let state = self.state.lock().unwrap();
        let repo = &state.repos[repo];
        let commit = &repo.refs[&format!("refs/heads/{branch}")];
        let tree = &repo.trees[&repo.commits[commit].0];
        tree.iter().map(|(path, (_, blob))| (path.clone(), repo.blobs[blob].clone())).collect()
    }

    /// The files on `repo`'s default branch, if the repository and the branch exist.
    pub fn files_if_any(&self, repo: &str) -> Option<BTreeMap<String, Vec<u8>>> {
        let exists = self.state.lock().unwrap().repos.get(repo).is_some_and(|r| r.refs.contains_key("refs/heads/main"));
        exists.then(|| self.files(repo, "main"))
    }

    /// How many commits `repo` has.
    pub fn commits(&self, repo: &str) -> usize {
        self.state.lock().unwrap().repos[repo].commits.len()
    }

    /// The value of a secret, unsealed with the test's key.
    pub fn secret(&self, repo: &str, name: &str) -> Option<String> {
        let sealed = self.state.lock().unwrap().repos[repo].secrets.get(name)?.clone();
        let bytes = base64::engine::general_purpose::STANDARD.decode(sealed).ok()?;
        String::from_utf8(self.secret_key.unseal(&bytes).ok()?).ok()
    }
}

fn git_id(kind: &str, bytes: &[u8]) -> String {
    let mut hash = Sha1::new();
    hash.update(format!("{kind} {}\0", bytes.len()).as_bytes());
    hash.update(bytes);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn answer(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body).insert_header("x-github-api-version-selected", "2022-11-28")
}

fn not_found() -> ResponseTemplate {
    answer(404, json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}))
}

impl Respond for Fake {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.state.lock().unwrap();
        let method = request.method.to_string();
        let path = request.url.path().to_string();
        if let Some(at) = state.scripted.iter().position(|(m, p, _)| *m == method && path.starts_with(p.as_str())) {
            return state.scripted.remove(at).2;
        }
        let token = request.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
        if token != format!("Bearer {TOKEN}") {
            return answer(
                401,
                json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}),
            );
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let login = state.login.clone();
        match (method.as_str(), parts.as_slice()) {
            ("GET", ["user"]) => answer(200, json!({"login": login, "id": 1, "type": "User"}))
                .insert_header("x-oauth-scopes", state.scopes.as_str()),
            ("POST", ["user", "repos"]) | ("POST", ["orgs", _, "repos"]) => {
                let owner = if parts[0] == "orgs" { parts[1].to_string() } else { login.clone() };
                let name = body["name"].as_str().unwrap_or_default().to_string();
                let full = format!("{owner}/{name}");
                if state.repos.contains_key(&full) {
                    return answer(
                        422,
                        json!({"message": "Repository creation failed.", "errors": [{"resource": "Repository", "code": "custom", "field": "name", "message": "name already exists on this account"}]}),
                    );
                }
                state.repos.insert(full.clone(), Repo { default_branch: "main".into(), ..Repo::default() });
                answer(201, repo_json(&full, body["private"].as_bool().unwrap_or(false), "main"))
            }
            (_, ["repos", owner, name, rest @ ..]) => {
                let full = format!("{owner}/{name}");
                let public_key = self.public_key.clone();
                let Some(repo) = state.repos.get_mut(&full) else { return not_found() };
                repo_route(repo, &full, &method, rest, &body, &public_key, request.url.query().unwrap_or(""))
            }
            _ => not_found(),
        }
    }
}

fn repo_json(full: &str, private: bool, default_branch: &str) -> Value {
    json!({"full_name": full, "name": full.split('/').nth(1), "private": private,
           "html_url": format!("https://github.com/{full}"), "default_branch": default_branch})
}

fn repo_route(
    repo: &mut Repo,
    full: &str,
    method: &str,
    rest: &[&str],
    body: &Value,
    public_key: &str,
    query: &str,
) -> ResponseTemplate {
    let empty = repo.commits.is_empty();
    match (method, rest) {
        ("GET", []) => answer(200, repo_json(full, false, &repo.default_branch)),
        ("GET", ["commits"]) if empty => answer(409, json!({"message": "Git Repository is empty."})),
        ("GET", ["commits"]) => answer(200, json!([{"sha": repo.refs.values().next()}])),
        ("GET", ["git", "ref", "heads", branch @ ..]) => {
            if empty {
                return answer(409, json!({"message": "Git Repository is empty."}));
            }
            match repo.refs.get(&format!("refs/heads/{}", branch.join("/"))) {
                Some(sha) => answer(
                    200,
                    json!({"ref": format!("refs/heads/{}", branch.join("/")), "object": {"sha": sha, "type": "commit"}}),
                ),
                None => not_found(),
            }
        }
        ("PUT", ["contents", path @ ..]) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(body["content"].as_str().unwrap_or(""))
                .unwrap_or_default();
            let blob = git_id("blob", &bytes);
            repo.blobs.insert(blob.clone(), bytes);
            let tree: BTreeMap<String, (String, String)> = [(path.join("/"), ("100644".to_string(), blob))].into();
            let tree_id = git_id("tree", format!("{tree:?}").as_bytes());
            repo.trees.insert(tree_id.clone(), tree);
            let commit = git_id("commit", format!("{tree_id} first").as_bytes());
            repo.commits.insert(commit.clone(), (tree_id, Vec::new(), body["message"].as_str().unwrap_or("").into()));
            let branch = body["branch"].as_str().unwrap_or("main");
            repo.refs.insert(format!("refs/heads/{branch}"), commit.clone());
            answer(201, json!({"content": {"path": path.join("/")}, "commit": {"sha": commit}}))
        }
        ("GET", ["git", "commits", sha]) => match repo.commits.get(*sha) {
            Some((tree, parents, message)) => answer(
                200,
                json!({"sha": sha, "tree": {"sha": tree}, "message": message, "parents": parents.iter().map(|p| json!({"sha": p})).collect::<Vec<_>>()}),
            ),
            None => not_found(),
        },
        ("GET", ["git", "trees", sha]) => match repo.trees.get(*sha) {
            Some(tree) if query.contains("recursive=1") => answer(
                200,
                json!({"sha": sha, "truncated": false, "tree": tree.iter().map(|(p, (m, s))| json!({"path": p, "mode": m, "type": "blob", "sha": s})).collect::<Vec<_>>()}),
            ),
            _ => not_found(),
        },
        ("POST", ["git", "blobs"]) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(body["content"].as_str().unwrap_or(""))
                .unwrap_or_default();
            let sha = git_id("blob", &bytes);
            repo.blobs.insert(sha.clone(), bytes);
            answer(201, json!({"sha": sha}))
        }
        ("POST", ["git", "trees"]) => {
            let mut tree = BTreeMap::new();
            for entry in body["tree"].as_array().into_iter().flatten() {
                let sha = match entry["content"].as_str() {
                    Some(text) => {
                        let sha = git_id("blob", text.as_bytes());
                        repo.blobs.insert(sha.clone(), text.as_bytes().to_vec());
                        sha
                    }
                    None => entry["sha"].as_str().unwrap_or_default().to_string(),
                };
                if !repo.blobs.contains_key(&sha) {
                    return answer(
                        422,
                        json!({"message": "Invalid tree info", "errors": ["tree.sha is not a valid blob"]}),
                    );
                }
                tree.insert(
                    entry["path"].as_str().unwrap_or_default().to_string(),
                    (entry["mode"].as_str().unwrap_or_default().to_string(), sha),
                );
            }
            let id = git_id("tree", format!("{tree:?}").as_bytes());
            repo.trees.insert(id.clone(), tree);
            answer(201, json!({"sha": id, "truncated": false}))
        }
        ("POST", ["git", "commits"]) => {
            let tree = body["tree"].as_str().unwrap_or_default().to_string();
            let parents: Vec<String> = body["parents"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect();
            let message = body["message"].as_str().unwrap_or_default().to_string();
            let id = git_id("commit", format!("{tree} {parents:?} {message}").as_bytes());
            repo.commits.insert(id.clone(), (tree, parents, message));
            answer(201, json!({"sha": id}))
        }
        ("PATCH", ["git", "refs", "heads", branch @ ..]) => {
            let name = format!("refs/heads/{}", branch.join("/"));
            let sha = body["sha"].as_str().unwrap_or_default().to_string();
            let fast_forward = repo
                .commits
                .get(&sha)
                .is_some_and(|c| c.1.contains(&repo.refs.get(&name).cloned().unwrap_or_default()));
            if !fast_forward && body["force"] != true {
                return answer(422, json!({"message": "Update is not a fast forward"}));
            }
            repo.refs.insert(name.clone(), sha.clone());
            answer(200, json!({"ref": name, "object": {"sha": sha}}))
        }
        ("POST", ["git", "refs"]) => {
            let name = body["ref"].as_str().unwrap_or_default().to_string();
            repo.refs.insert(name.clone(), body["sha"].as_str().unwrap_or_default().to_string());
            answer(201, json!({"ref": name}))
        }
        ("GET", ["actions", "secrets", "public-key"]) => {
            answer(200, json!({"key_id": "568250167242549743", "key": public_key}))
        }
        ("GET", ["actions", "secrets"]) => answer(
            200,
            json!({"total_count": repo.secrets.len(), "secrets": repo.secrets.keys().map(|n| json!({"name": n, "created_at": "2026-11-30T00:00:00Z", "updated_at": "2026-11-30T00:00:00Z"})).collect::<Vec<_>>()}),
        ),
        ("PUT", ["actions", "secrets", name]) => {
            if body["key_id"] != "568250167242549743" {
                return answer(
                    422,
                    json!({"message": "Invalid request.", "errors": ["key_id does not match the repository's key"]}),
                );
            }
            let existed = repo
                .secrets
                .insert((*name).to_string(), body["encrypted_value"].as_str().unwrap_or_default().to_string())
                .is_some();
            if existed { ResponseTemplate::new(204) } else { answer(201, json!({})) }
        }
        _ => not_found(),
    }
}
