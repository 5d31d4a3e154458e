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
    pub runs: Vec<FakeRun>,
}

/// A workflow run whose state follows the clock: in progress until `takes` has passed since it
/// was created, then completed with `conclusion`.
#[derive(Clone)]
pub struct FakeRun {
    pub id: u64,
    pub workflow: String,
    pub event: String,
    pub branch: String,
    pub sha: String,
    pub actor: String,
    pub created: std::time::SystemTime,
    pub takes: std::time::Duration,
    pub conclusion: String,
}

impl FakeRun {
    fn completed(&self) -> bool {
        self.created.elapsed().unwrap_or_default() >= self.takes
    }

    /// When it completes, by the fake's clock.
    pub fn completes_at(&self) -> std::time::SystemTime {
        self.created + self.takes
    }

    fn json(&self, repo: &str) -> Value {
        let done = self.completed();
        json!({
            "id": self.id, "run_number": self.id, "name": "CI", "path": format!(".github/workflows/{}", self.workflow),
            "event": self.event, "head_branch": self.branch, "head_sha": self.sha,
            "actor": {"login": self.actor}, "triggering_actor": {"login": self.actor},
            "status": if done { "completed" } else { "in_progress" },
            "conclusion": if done { Value::String(self.conclusion.clone()) } else { Value::Null },
            "created_at": rfc3339(self.created),
            "html_url": format!("https://github.com/{repo}/actions/runs/{}", self.id),
        })
    }

    fn jobs(&self) -> Value {
        let done = self.completed();
        let failing = self.conclusion == "failure";
        let step = |name: &str, status: &str, conclusion: Option<&str>, n: u64| json!({"name": name, "status": status, "conclusion": conclusion, "number": n});
        let test_steps = if done {
            vec![
                step("Set up job", "completed", Some("success"), 1),
                step("Install", "completed", Some("success"), 2),
                step("Test", "completed", Some(if failing { "failure" } else { "success" }), 3),
            ]
        } else {
            vec![
                step("Set up job", "completed", Some("success"), 1),
                step("Install", "in_progress", None, 2),
                step("Test", "queued", None, 3),
            ]
        };
        // After the tests: the image, then the deployment; skipped when the tests failed.
        let later = |n: u64, name: &str| {
            let (status, conclusion) = match (done, failing) {
                (false, _) => ("queued", Value::Null),
                (true, true) => ("completed", Value::String("skipped".into())),
                (true, false) => ("completed", Value::String("success".into())),
            };
            json!({"id": self.id * 10 + n, "run_id": self.id, "name": name, "status": status, "conclusion": conclusion,
                   "steps": if done && !failing { json!([step("Set up job", "completed", Some("success"), 1)]) } else { json!([]) }})
        };
        json!({"total_count": 4, "jobs": [
            {"id": self.id * 10 + 1, "run_id": self.id, "name": "lint", "status": "completed", "conclusion": "success",
             "steps": [step("Set up job", "completed", Some("success"), 1), step("Ruff", "completed", Some("success"), 2)]},
            {"id": self.id * 10 + 2, "run_id": self.id, "name": "test", "status": if done { "completed" } else { "in_progress" },
             "conclusion": if done { Value::String((if failing { "failure" } else { "success" }).into()) } else { Value::Null },
             "steps": test_steps},
            later(3, "image"),
            later(4, "deploy"),
        ]})
    }
}

fn rfc3339(time: std::time::SystemTime) -> String {
    let seconds = time.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    jiff::Timestamp::from_second(seconds).unwrap().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The log of job `id` of a failing run: the install went well, the tests did not.
pub fn job_log(id: u64) -> String {
    format!(
        "2026-11-30T10:00:00.0000001Z ##[group]Run pip install -e .[dev]\n2026-11-30T10:00:05.0000001Z Successfully installed shop\n2026-11-30T10:00:06.0000001Z ##[group]Run pytest\n2026-11-30T10:00:09.0000001Z FAILED tests/test_items.py::test_create_item - assert 500 == 201 (job {id})\n2026-11-30T10:00:09.5000001Z ##[error]Process completed with exit code 1.\n"
    )
}

#[derive(Default)]
struct State {
    login: String,
    scopes: String,
    repos: BTreeMap<String, Repo>,
    /// Scripted answers: (method, path prefix) → answers, used first.
    scripted: Vec<(String, String, ResponseTemplate)>,
    /// What the next dispatch's run does: its conclusion and how long it takes.
    next_run: (String, std::time::Duration),
    /// Whether a dispatch answers with the run's details (200) or nothing (204, older servers).
    run_details: bool,
    /// Another actor's dispatch that lands at the same moment as the next one (a decoy).
    rival: Option<String>,
    next_id: u64,
}

#[derive(Clone)]
struct Fake {
    state: Arc<Mutex<State>>,
    public_key: String,
    /// The server's own address, for redirects.
    base: Arc<Mutex<String>>,
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
        let state = Arc::new(Mutex::new(State {
            login: login.into(),
            scopes: scopes.into(),
            next_run: ("success".into(), std::time::Duration::from_secs(1)),
            next_id: 100,
            ..State::default()
        }));
        let fake = Fake { state: state.clone(), public_key, base: Arc::new(Mutex::new(server.uri())) };
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
            base: Arc::new(Mutex::new(self.server.uri())),
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

    /// The next dispatch's run ends with `conclusion` after `takes`; `details`: the dispatch
    /// answers with the run's id; `rival`: another actor dispatches at the same moment.
    pub fn plan_run(&self, conclusion: &str, takes: std::time::Duration, details: bool, rival: Option<&str>) {
        let mut state = self.state.lock().unwrap();
        state.next_run = (conclusion.into(), takes);
        state.run_details = details;
        state.rival = rival.map(str::to_string);
    }

    /// Adds a run made earlier (`age` ago) by `actor`: something that must not be taken for a
    /// new dispatch's run.
    pub fn add_old_run(&self, repo: &str, actor: &str, age: std::time::Duration, conclusion: &str) -> u64 {
        let mut state = self.state.lock().unwrap();
        state.next_id += 1;
        let id = state.next_id;
        let repo = state.repos.get_mut(repo).unwrap();
        let sha = repo.refs.get("refs/heads/main").cloned().unwrap_or_default();
        repo.runs.push(FakeRun {
            id,
            workflow: "ci.yml".into(),
            event: "workflow_dispatch".into(),
            branch: "main".into(),
            sha,
            actor: actor.into(),
            created: std::time::SystemTime::now() - age,
            takes: std::time::Duration::ZERO,
            conclusion: conclusion.into(),
        });
        id
    }

    /// The runs of `repo`.
    pub fn runs(&self, repo: &str) -> Vec<FakeRun> {
        self.state.lock().unwrap().repos[repo].runs.clone()
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
        // The log files a redirect points at are pre-signed, as GitHub's are: no token.
        if let Some(job) = path.strip_prefix("/_blobs/job-") {
            return ResponseTemplate::new(200)
                .set_body_string(job_log(job.parse().unwrap_or(0)))
                .insert_header("content-type", "text/plain");
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
            ("POST", ["repos", owner, name, "actions", "workflows", workflow, "dispatches"]) => {
                let full = format!("{owner}/{name}");
                let (next_run, details, rival) = (state.next_run.clone(), state.run_details, state.rival.take());
                let Some(repo) = state.repos.get(&full) else { return not_found() };
                let branch = body["ref"].as_str().unwrap_or_default().to_string();
                let Some(sha) = repo.refs.get(&format!("refs/heads/{branch}")).cloned() else {
                    return answer(422, json!({"message": format!("No ref found for: {branch}")}));
                };
                let tree = &repo.trees[&repo.commits[&sha].0];
                let Some((_, blob)) = tree.get(&format!(".github/workflows/{workflow}")) else { return not_found() };
                if !String::from_utf8_lossy(&repo.blobs[blob]).contains("workflow_dispatch") {
                    return answer(422, json!({"message": "Workflow does not have 'workflow_dispatch' trigger"}));
                }
                let mut made = Vec::new();
                for actor in rival.into_iter().chain([login.clone()]) {
                    state.next_id += 1;
                    made.push(FakeRun {
                        id: state.next_id,
                        workflow: (*workflow).to_string(),
                        event: "workflow_dispatch".into(),
                        branch: branch.clone(),
                        sha: sha.clone(),
                        actor,
                        created: std::time::SystemTime::now(),
                        takes: next_run.1,
                        conclusion: next_run.0.clone(),
                    });
                }
                let ours = made.last().unwrap().id;
                state.repos.get_mut(&full).unwrap().runs.extend(made);
                if details {
                    answer(
                        200,
                        json!({"workflow_run_id": ours, "run_url": format!("/repos/{full}/actions/runs/{ours}"), "html_url": format!("https://github.com/{full}/actions/runs/{ours}")}),
                    )
                } else {
                    let date = jiff::Timestamp::now().strftime("%a, %d %b %Y %H:%M:%S GMT").to_string();
                    ResponseTemplate::new(204).insert_header("date", date.as_str())
                }
            }
            ("GET", ["repos", owner, name, "actions", "jobs", job, "logs"]) => {
                let full = format!("{owner}/{name}");
                if !state.repos.contains_key(&full) {
                    return not_found();
                }
                ResponseTemplate::new(302)
                    .insert_header("location", format!("{}/_blobs/job-{job}", self.base.lock().unwrap()).as_str())
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
        ("GET", ["actions", "workflows", workflow, "runs"]) => {
            let param = |k: &str| {
                query
                    .split('&')
                    .find_map(|p| p.strip_prefix(&format!("{k}=")))
                    .map(|v| v.replace("%3E", ">").replace("%3D", "="))
            };
            let since = param("created").and_then(|c| c.strip_prefix(">=").map(str::to_string));
            let mut runs: Vec<&FakeRun> = repo
                .runs
                .iter()
                .filter(|r| r.workflow == *workflow)
                .filter(|r| param("event").is_none_or(|e| r.event == e))
                .filter(|r| param("branch").is_none_or(|b| r.branch == b))
                .filter(|r| param("actor").is_none_or(|a| r.actor == a))
                .filter(|r| since.as_ref().is_none_or(|s| rfc3339(r.created) >= *s))
                .collect();
            runs.reverse();
            answer(
                200,
                json!({"total_count": runs.len(), "workflow_runs": runs.iter().map(|r| r.json(full)).collect::<Vec<_>>()}),
            )
        }
        ("GET", ["actions", "runs"]) => {
            let sha = query.split('&').find_map(|p| p.strip_prefix("head_sha=")).unwrap_or_default();
            let runs: Vec<Value> =
                repo.runs.iter().rev().filter(|r| sha.is_empty() || r.sha == sha).map(|r| r.json(full)).collect();
            answer(200, json!({"total_count": runs.len(), "workflow_runs": runs}))
        }
        ("GET", ["actions", "runs", id]) => match repo.runs.iter().find(|r| r.id.to_string() == *id) {
            Some(run) => answer(200, run.json(full)),
            None => not_found(),
        },
        ("GET", ["actions", "runs", id, "jobs"]) => match repo.runs.iter().find(|r| r.id.to_string() == *id) {
            Some(run) => answer(200, run.jobs()),
            None => not_found(),
        },
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
