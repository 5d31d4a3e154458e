//! The check kinds a lab can use, as typed, strictly parsed specs, and their validation against
//! the lab's files. Running them is in the sibling modules.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::LabFiles;
use super::jsonpath::JsonPath;
use crate::base::regex;

/// Every kind, with its own fields.
#[derive(Debug, Clone)]
pub enum CheckKind {
    File(FileCheck),
    Command(CommandCheck),
    Pytest(PytestCheck),
    Lint(LintCheck),
    Http(HttpCheck),
    Ratelimit(RatelimitCheck),
    Graphql(GraphqlCheck),
    Container(ContainerCheck),
    Postgres(PostgresCheck),
    Mongo(MongoCheck),
    K8s(K8sCheck),
    Manifest(ManifestCheck),
    Workflow(WorkflowCheck),
    Github(GithubCheck),
}

/// A GitHub Actions workflow of the project, judged from its file: no GitHub needed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowCheck {
    /// The workflow file [default: .github/workflows/ci.yml].
    #[serde(default = "ci_workflow_file")]
    pub file: String,
    #[serde(default)]
    pub expect: WorkflowExpect,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowExpect {
    /// The file is clean: actionlint's verdict when it is on PATH, else labforge's structural checks.
    pub lint: Option<bool>,
    /// Events that must start the workflow (`push`, `pull_request`, `workflow_dispatch`).
    #[serde(default)]
    pub on: Vec<String>,
    /// Job → jobs it must need (directly).
    #[serde(default)]
    pub needs: BTreeMap<String, Vec<String>>,
    /// Job → service containers it must run, each with health options (`--health-cmd`), so steps
    /// start only once the service is ready.
    #[serde(default)]
    pub services: BTreeMap<String, Vec<String>>,
    /// Job → texts each found in one of its steps (`run` or `uses`), in that order.
    #[serde(default)]
    pub runs: BTreeMap<String, Vec<String>>,
}

fn ci_workflow_file() -> String {
    ".github/workflows/ci.yml".into()
}

/// The project's workflow on GitHub: its latest run for the project's commit, a job or step of
/// it, a repository secret. Needs a token (`GH_TOKEN`, `GITHUB_TOKEN` or gh's).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubCheck {
    /// OWNER/NAME [default: the repository `labforge ci setup` pushed to].
    pub repo: Option<String>,
    /// The workflow's file name [default: ci.yml].
    #[serde(default = "ci_workflow_name")]
    pub workflow: String,
    #[serde(default)]
    pub expect: GithubExpect,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubExpect {
    /// What the latest run of the workflow for the project's HEAD commit concluded [default:
    /// success, unless only `secret` is asked].
    pub conclusion: Option<String>,
    /// A job of that run that must have succeeded.
    pub job: Option<String>,
    /// A step of `job` that must have succeeded.
    pub step: Option<String>,
    /// An Actions secret the repository must have.
    pub secret: Option<String>,
}

fn ci_workflow_name() -> String {
    "ci.yml".into()
}

/// An object as the project's `k8s/` manifests define it, without a cluster.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestCheck {
    /// `KIND/NAME`, e.g. `Deployment/{{ project.dns }}`.
    pub object: String,
    /// `exists`, `probes`, `resources` and `fields` (`available` and `endpoints` need a cluster).
    #[serde(default)]
    pub expect: K8sExpect,
}

/// An object in the cluster `labforge deploy` deploys to (the current kubeconfig context).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct K8sCheck {
    /// `KIND/NAME`, e.g. `Deployment/{{ project.dns }}`.
    pub object: String,
    /// For kinds labforge does not know the apiVersion of.
    pub api_version: Option<String>,
    /// [default: the context's namespace, else `default`]
    pub namespace: Option<String>,
    #[serde(default)]
    pub expect: K8sExpect,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct K8sExpect {
    #[serde(default = "yes")]
    pub exists: bool,
    /// A Deployment or StatefulSet whose rollout is complete with this many available replicas.
    pub available: Option<i32>,
    /// Every container has a readiness and a liveness probe.
    pub probes: Option<bool>,
    /// Every container sets CPU and memory requests and limits.
    pub resources: Option<bool>,
    /// A Service with at least one ready endpoint.
    pub endpoints: Option<bool>,
    /// The container the container-level expectations look at [default: every container].
    pub container: Option<String>,
    /// `readiness`/`liveness`/`startup` → the path that probe must GET, on a port the container
    /// exposes.
    #[serde(default)]
    pub probe_paths: BTreeMap<String, String>,
    /// Variable → `Secret` or `ConfigMap`: where the container must get it from, as the kubelet
    /// resolves `env` and `envFrom`. A variable from a Secret is a credential: no container, init
    /// containers included, may have it written in the manifest.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// A rolling update cannot fail a request: no pod stops before its replacement is ready, a
    /// readiness probe, a preStop wait within the grace period.
    pub zero_downtime: Option<bool>,
    /// A Deployment whose pods, all replaced (as `kubectl rollout restart` does), never failed a
    /// request sent to its Service meanwhile. Only for `k8s` checks; give the check a `timeout`
    /// the rollout fits in.
    pub rollout_without_errors: Option<RolloutTraffic>,
    /// JSONPath → value the object holds there.
    #[serde(default)]
    pub fields: BTreeMap<String, Value>,
}

/// Where the requests of `rollout_without_errors` go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutTraffic {
    /// The Service in front of the Deployment, e.g. `{{ project.dns }}`.
    pub service: String,
    /// The Service's port, by name or number [default: its only port].
    pub port: Option<Value>,
    /// The path every request asks [default: /].
    #[serde(default = "root")]
    pub path: String,
}

fn root() -> String {
    "/".into()
}

impl RolloutTraffic {
    /// The port as the service proxy names it (`http`, `80`), or `None` for the Service's only one.
    pub fn port(&self) -> Option<String> {
        match &self.port {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(name.clone()),
            Some(other) => Some(other.to_string()),
        }
    }
}

impl K8sExpect {
    /// Whether it asks more than that the object exists.
    fn judges_content(&self) -> bool {
        self.available.is_some()
            || self.probes.is_some()
            || self.resources.is_some()
            || self.endpoints.is_some()
            || !self.probe_paths.is_empty()
            || !self.env.is_empty()
            || self.zero_downtime.is_some()
            || self.rollout_without_errors.is_some()
            || !self.fields.is_empty()
    }

    /// The checks both kinds share.
    fn validate(&self, kind: &str) -> Result<(), String> {
        if !self.exists && self.judges_content() {
            return Err("`exists: false` cannot go with other expectations".into());
        }
        let pod = matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob" | "Pod" | "ReplicaSet");
        let pod_level = self.probes.is_some()
            || self.resources.is_some()
            || self.container.is_some()
            || !self.probe_paths.is_empty()
            || !self.env.is_empty();
        if pod_level && !pod {
            return Err(format!(
                "`probes`, `resources`, `probe_paths`, `env` and `container` are for a workload, not a {kind}"
            ));
        }
        if self.zero_downtime.is_some() && kind != "Deployment" {
            return Err(format!("`zero_downtime` is for a Deployment, not a {kind}"));
        }
        if let Some(traffic) = &self.rollout_without_errors {
            if kind != "Deployment" {
                return Err(format!("`rollout_without_errors` is for a Deployment, not a {kind}"));
            }
            if !traffic.path.starts_with('/') {
                return Err(format!("`rollout_without_errors`: path `{}` must start with /", traffic.path));
            }
            if let Some(Value::Number(n)) = &traffic.port
                && n.as_u64().is_none_or(|p| p == 0 || p > 65535)
            {
                return Err(format!("`rollout_without_errors`: port {n} is not a port number"));
            }
        }
        if let Some(probe) =
            self.probe_paths.keys().find(|k| !matches!(k.as_str(), "readiness" | "liveness" | "startup"))
        {
            return Err(format!("`probe_paths` names `{probe}`: use readiness, liveness or startup"));
        }
        if let Some(path) = self.probe_paths.values().find(|p| !p.starts_with('/')) {
            return Err(format!("`probe_paths`: `{path}` must start with /"));
        }
        if let Some((var, from)) = self.env.iter().find(|(_, from)| !matches!(from.as_str(), "Secret" | "ConfigMap")) {
            return Err(format!("`env: {{{var}: {from}}}`: say Secret or ConfigMap"));
        }
        Ok(())
    }
}

impl Default for K8sExpect {
    fn default() -> Self {
        K8sExpect {
            exists: true,
            available: None,
            probes: None,
            resources: None,
            endpoints: None,
            container: None,
            probe_paths: BTreeMap::new(),
            env: BTreeMap::new(),
            zero_downtime: None,
            rollout_without_errors: None,
            fields: BTreeMap::new(),
        }
    }
}

impl K8sCheck {
    /// The object's kind and name.
    pub fn kind_and_name(&self) -> Result<(&str, &str), String> {
        kind_and_name(&self.object)
    }
}

impl ManifestCheck {
    /// The object's kind and name.
    pub fn kind_and_name(&self) -> Result<(&str, &str), String> {
        kind_and_name(&self.object)
    }
}

fn kind_and_name(object: &str) -> Result<(&str, &str), String> {
    match object.split_once('/') {
        Some((kind, name)) if !kind.is_empty() && !name.is_empty() && !name.contains('/') => Ok((kind, name)),
        _ => Err(format!("`object: {object}` must be KIND/NAME, e.g. Deployment/{{{{ project.dns }}}}")),
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileCheck {
    pub path: String,
    #[serde(default = "yes")]
    pub exists: bool,
    pub contains: Option<String>,
    pub regex: Option<String>,
    pub absent: Option<String>,
}

/// Where a command runs.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    /// The project's `.venv` on the host.
    #[default]
    Venv,
    /// Inside the running app container.
    App,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CommandCheck {
    pub run: Vec<String>,
    #[serde(rename = "in", default)]
    pub place: Place,
    #[serde(default)]
    pub expect: CommandExpect,
    /// The command works on state of its own (a scratch database, a temporary folder), never on
    /// the app's data: it runs beside the checks that do, not in their order.
    #[serde(default)]
    pub isolated: bool,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CommandExpect {
    #[serde(default)]
    pub exit: i64,
    pub stdout_contains: Option<String>,
    pub stdout_regex: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PytestCheck {
    /// Test files or folders of the project. Run from the lab's own copy of them (as the solved
    /// project holds them) against the learner's code, unless `own`.
    #[serde(default)]
    pub tests: Vec<String>,
    /// Run the learner's own files named in `tests` (tests the learner writes, coverage): a step
    /// that does must also run the lab's copy or hidden tests against the same code.
    #[serde(default)]
    pub own: bool,
    #[serde(default)]
    pub hidden: Vec<String>,
    pub min_passed: Option<u32>,
    pub coverage: Option<Coverage>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    pub min: f64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintCheck {
    #[serde(default)]
    pub paths: Vec<String>,
    /// Whether `# noqa` comments count; `false`: every finding counts, silenced or not.
    #[serde(default = "yes")]
    pub noqa: bool,
    /// Rules checked beyond the project's (`S608`: SQL built from strings), for these paths.
    #[serde(default)]
    pub select: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpCheck {
    pub login: Option<Login>,
    pub requests: Vec<Request>,
}

/// Obtaining a JWT before the requests.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub register: Option<Call>,
    pub token: Call,
    #[serde(default = "access_token")]
    pub field: String,
}

/// A request of the login flow.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    pub path: String,
    #[serde(default = "post")]
    pub method: String,
    pub json: Option<Value>,
    pub form: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    #[serde(default = "get")]
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub json: Option<Value>,
    pub form: Option<BTreeMap<String, String>>,
    pub body: Option<String>,
    /// A token labforge signs itself with the project's JWT_SECRET (HS256), e.g. an expired one.
    pub jwt: Option<Jwt>,
    #[serde(default)]
    /// Name → what to keep from the answer for later requests (`{name}`): a JSON path of the
    /// body (`$.id`), or `header:NAME`. A `Location` is kept resolved against the request's URL,
    /// as the path a client follows (`items/2` after `POST /items` is `/items/2`).
    pub save: BTreeMap<String, String>,
    /// A service to restart before this request is sent; the request waits until the service
    /// answers again (e.g. to show that data survives a restart of the app).
    pub restart: Option<String>,
    #[serde(default)]
    pub expect: HttpExpect,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Jwt {
    #[serde(default)]
    pub claims: BTreeMap<String, Value>,
    /// Seconds from now; negative for a token that has already expired.
    #[serde(default = "hour")]
    pub expires_in: i64,
    /// A token an attacker would send instead of a valid one; the app must refuse it.
    pub forge: Option<Forgery>,
}

/// How a forged token differs from one signed with the project's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Forgery {
    /// Signed (HS256) with a key that is not the project's.
    OtherKey,
    /// `alg: none` and no signature, as the first JWT attacks sent.
    AlgNone,
    /// Signed with the project's key, then its payload changed (a claim added) under the same
    /// signature.
    Tampered,
}

/// A token the app answered with, decoded: its lifetime as signed (`exp - iat`), not the number
/// the app reports.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenLifetime {
    /// Where the token is in the JSON answer (`$.access_token`).
    pub json: String,
    /// The lifetime it must be signed for, in seconds (a token without `iat` is measured from now).
    pub seconds: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpExpect {
    pub status: Option<u16>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub json: BTreeMap<String, Value>,
    #[serde(default)]
    pub json_absent: Vec<String>,
    pub body_contains: Option<String>,
    pub token_lifetime: Option<TokenLifetime>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatelimitCheck {
    pub request: Request,
    pub requests: u32,
    /// The limit's window in seconds (60 for `60/minute`): `Retry-After` may not ask for more.
    pub window: Option<u64>,
    /// A header that tells the app who the client is (`X-Forwarded-For`, which the app is told to
    /// trust from the stack's gateway): once the requests reached the limit, one more comes as
    /// another client, named by this header, and must not be refused — the limit counts per
    /// client, not for everyone.
    pub per_client: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphqlCheck {
    #[serde(default = "graphql_path")]
    pub path: String,
    pub query: String,
    #[serde(default)]
    pub variables: BTreeMap<String, Value>,
    pub login: Option<Login>,
    #[serde(default)]
    pub expect: GraphqlExpect,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphqlExpect {
    #[serde(default)]
    pub data: BTreeMap<String, Value>,
    /// Whether the answer must carry `errors` (default: it must not).
    #[serde(default)]
    pub errors: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerCheck {
    pub service: String,
    pub expect: ContainerExpect,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerExpect {
    pub running: Option<bool>,
    pub healthy: Option<bool>,
    pub non_root: Option<bool>,
    pub healthcheck: Option<bool>,
    pub max_image_mb: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresCheck {
    pub sql: String,
    pub expect: RowsExpect,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowsExpect {
    pub rows: Option<Vec<Vec<Value>>>,
    pub contains: Option<Vec<Vec<Value>>>,
    pub count: Option<usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MongoCheck {
    pub collection: String,
    #[serde(default)]
    pub filter: BTreeMap<String, Value>,
    pub expect: MongoExpect,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MongoExpect {
    pub count: Option<u64>,
    pub documents: Option<Vec<Value>>,
    /// Key lists of indexes that must exist, e.g. `[[name, 1]]`: compared by keys, not names.
    pub index_keys: Option<Vec<Vec<Value>>>,
}

fn yes() -> bool {
    true
}
fn get() -> String {
    "GET".into()
}
fn post() -> String {
    "POST".into()
}
fn access_token() -> String {
    "access_token".into()
}
fn graphql_path() -> String {
    "/graphql".into()
}
fn hour() -> i64 {
    3600
}

/// What marks a `save` of a response header.
pub const HEADER_PREFIX: &str = "header:";

impl CheckKind {
    pub const NAMES: [&'static str; 14] = [
        "file",
        "command",
        "pytest",
        "lint",
        "http",
        "ratelimit",
        "graphql",
        "container",
        "postgres",
        "mongo",
        "k8s",
        "manifest",
        "workflow",
        "github",
    ];

    /// The kind named `kind`, from the rest of the check's mapping.
    pub fn parse(kind: &str, rest: Value) -> Result<CheckKind, String> {
        fn typed<T: serde::de::DeserializeOwned>(rest: Value) -> Result<T, String> {
            serde_json::from_value(rest).map_err(|e| e.to_string())
        }
        Ok(match kind {
            "file" => CheckKind::File(typed(rest)?),
            "command" => CheckKind::Command(typed(rest)?),
            "pytest" => CheckKind::Pytest(typed(rest)?),
            "lint" => CheckKind::Lint(typed(rest)?),
            "http" => CheckKind::Http(typed(rest)?),
            "ratelimit" => CheckKind::Ratelimit(typed(rest)?),
            "graphql" => CheckKind::Graphql(typed(rest)?),
            "container" => CheckKind::Container(typed(rest)?),
            "postgres" => CheckKind::Postgres(typed(rest)?),
            "mongo" => CheckKind::Mongo(typed(rest)?),
            "k8s" => CheckKind::K8s(typed(rest)?),
            "manifest" => CheckKind::Manifest(typed(rest)?),
            "workflow" => CheckKind::Workflow(typed(rest)?),
            "github" => CheckKind::Github(typed(rest)?),
            other => return Err(format!("unknown check kind `{other}` (kinds: {})", Self::NAMES.join(", "))),
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            CheckKind::File(_) => "file",
            CheckKind::Command(_) => "command",
            CheckKind::Pytest(_) => "pytest",
            CheckKind::Lint(_) => "lint",
            CheckKind::Http(_) => "http",
            CheckKind::Ratelimit(_) => "ratelimit",
            CheckKind::Graphql(_) => "graphql",
            CheckKind::Container(_) => "container",
            CheckKind::Postgres(_) => "postgres",
            CheckKind::Mongo(_) => "mongo",
            CheckKind::K8s(_) => "k8s",
            CheckKind::Manifest(_) => "manifest",
            CheckKind::Workflow(_) => "workflow",
            CheckKind::Github(_) => "github",
        }
    }

    /// Whether the check runs in the project's virtual environment.
    pub fn needs_venv(&self) -> bool {
        matches!(self, CheckKind::Pytest(_) | CheckKind::Lint(_))
            || matches!(self, CheckKind::Command(c) if c.place == Place::Venv)
    }

    /// Whether the check asks a Kubernetes cluster.
    pub fn needs_cluster(&self) -> bool {
        matches!(self, CheckKind::K8s(_))
    }

    /// Whether the check asks GitHub.
    pub fn needs_github(&self) -> bool {
        matches!(self, CheckKind::Github(_))
    }

    /// Whether the check talks to the running stack.
    pub fn needs_stack(&self) -> bool {
        !matches!(
            self,
            CheckKind::File(_)
                | CheckKind::Pytest(_)
                | CheckKind::Lint(_)
                | CheckKind::K8s(_)
                | CheckKind::Manifest(_)
                | CheckKind::Workflow(_)
                | CheckKind::Github(_)
        ) && !matches!(self, CheckKind::Command(c) if c.place == Place::Venv)
    }

    /// Whether the check changes or reads state other checks change (the app's data; a cluster's
    /// workloads, which `rollout_without_errors` restarts), so it must run in the order written
    /// rather than alongside others.
    pub fn is_ordered(&self) -> bool {
        !matches!(
            self,
            CheckKind::Command(CommandCheck { isolated: true, .. })
                | CheckKind::File(_)
                | CheckKind::Lint(_)
                | CheckKind::Pytest(_)
                | CheckKind::Container(_)
                | CheckKind::Manifest(_)
                | CheckKind::Workflow(_)
                | CheckKind::Github(_)
        )
    }

    /// Whether the check runs in, or reads, a service's container: a check that restarts the
    /// service beside it would kill its command or change what it reads.
    pub fn uses_a_container(&self) -> bool {
        matches!(self, CheckKind::Container(_)) || matches!(self, CheckKind::Command(c) if c.place == Place::App)
    }

    /// Whether the check restarts a service, which a `container` check running beside it would see.
    pub fn restarts(&self) -> bool {
        matches!(self, CheckKind::Http(c) if c.requests.iter().any(|r| r.restart.is_some()))
    }

    /// Problems a parser cannot see: regexes, JSON paths, files the check refers to.
    pub fn validate(&self, files: &LabFiles) -> Result<(), String> {
        let paths = |keys: &mut dyn Iterator<Item = &String>| -> Result<(), String> {
            for k in keys {
                JsonPath::parse(k)?;
            }
            Ok(())
        };
        match self {
            CheckKind::File(c) => {
                if let Some(r) = &c.regex {
                    regex(r)?;
                }
                if !c.exists && (c.contains.is_some() || c.regex.is_some() || c.absent.is_some()) {
                    return Err("`exists: false` cannot go with `contains`, `regex` or `absent`".into());
                }
            }
            CheckKind::Command(c) => {
                if c.run.is_empty() {
                    return Err("`run` is empty: give the command and its arguments".into());
                }
                if let Some(r) = &c.expect.stdout_regex {
                    regex(r)?;
                }
            }
            CheckKind::Pytest(c) => {
                if c.own && c.tests.is_empty() {
                    return Err("`own: true` needs `tests`: the learner's files to run".into());
                }
                for hidden in &c.hidden {
                    if files.get(&format!("tests/{hidden}")).is_none() {
                        return Err(format!("hidden test `{hidden}` is not in the lab's tests/ folder"));
                    }
                }
            }
            CheckKind::Lint(_) | CheckKind::Container(_) => {}
            CheckKind::Http(c) => {
                if c.requests.is_empty() {
                    return Err("`requests` is empty".into());
                }
                login_methods(c.login.as_ref())?;
                for r in &c.requests {
                    validate_request(r, &paths)?;
                }
            }
            CheckKind::Ratelimit(c) => {
                validate_request(&c.request, &paths)?;
                if c.requests < 2 {
                    return Err("`requests` must be at least 2".into());
                }
            }
            CheckKind::Graphql(c) => {
                login_methods(c.login.as_ref())?;
                paths(&mut c.expect.data.keys())?
            }
            CheckKind::Postgres(c) => {
                if c.expect.rows.is_none() && c.expect.contains.is_none() && c.expect.count.is_none() {
                    return Err("`expect` needs `rows`, `contains` or `count`".into());
                }
            }
            CheckKind::Mongo(c) => {
                let e = &c.expect;
                if e.count.is_none() && e.documents.is_none() && e.index_keys.is_none() {
                    return Err("`expect` needs `count`, `documents` or `index_keys`".into());
                }
            }
            CheckKind::K8s(c) => {
                let (kind, _) = c.kind_and_name()?;
                let e = &c.expect;
                if c.api_version.is_none() && crate::k8s::inspect::api_version_of(kind).is_none() {
                    return Err(format!("labforge does not know the apiVersion of kind {kind}: add `api_version`"));
                }
                if e.available.is_some() && !matches!(kind, "Deployment" | "StatefulSet") {
                    return Err(format!("`available` is for a Deployment or StatefulSet, not a {kind}"));
                }
                if e.endpoints.is_some() && kind != "Service" {
                    return Err(format!("`endpoints` is for a Service, not a {kind}"));
                }
                e.validate(kind)?;
                paths(&mut e.fields.keys())?;
            }
            CheckKind::Manifest(c) => {
                let (kind, _) = c.kind_and_name()?;
                let e = &c.expect;
                if e.available.is_some() || e.endpoints.is_some() || e.rollout_without_errors.is_some() {
                    return Err(
                        "`available`, `endpoints` and `rollout_without_errors` need a cluster: use a `k8s` check for them"
                            .into(),
                    );
                }
                e.validate(kind)?;
                paths(&mut e.fields.keys())?;
            }
            CheckKind::Workflow(c) => {
                let e = &c.expect;
                if e.lint.is_none()
                    && e.on.is_empty()
                    && e.needs.is_empty()
                    && e.services.is_empty()
                    && e.runs.is_empty()
                {
                    return Err("a `workflow` check needs an expectation: lint, on, needs, services or runs".into());
                }
                if let Some(event) =
                    e.on.iter().find(|ev| ev.is_empty() || !ev.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                {
                    return Err(format!(
                        "`on: {event}` is not an event name (push, pull_request, workflow_dispatch, ...)"
                    ));
                }
            }
            CheckKind::Github(c) => {
                let e = &c.expect;
                if e.step.is_some() && e.job.is_none() {
                    return Err("`step` needs the `job` it belongs to".into());
                }
                if let Some(repo) = &c.repo
                    && crate::github::setup::check_repo(repo).is_err()
                {
                    return Err(format!("`repo: {repo}` must be OWNER/NAME"));
                }
                let known = ["success", "failure", "cancelled", "skipped", "timed_out", "neutral", "action_required"];
                if let Some(conclusion) = e.conclusion.as_deref().filter(|c| !known.contains(c)) {
                    return Err(format!("`conclusion: {conclusion}` is not one GitHub reports ({})", known.join(", ")));
                }
            }
        }
        Ok(())
    }
}

/// RFC 9110's `token`: what a method or a header name may be made of.
fn is_http_token(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

fn http_method(method: &str) -> Result<(), String> {
    match is_http_token(method) {
        true => Ok(()),
        false => Err(format!("`method: {}` is no HTTP method (e.g. GET, POST, PATCH)", method.escape_default())),
    }
}

fn login_methods(login: Option<&Login>) -> Result<(), String> {
    for call in login.into_iter().flat_map(|l| l.register.iter().chain([&l.token])) {
        http_method(&call.method).map_err(|e| format!("login: {e}"))?;
    }
    Ok(())
}

fn validate_request(
    r: &Request,
    paths: &dyn Fn(&mut dyn Iterator<Item = &String>) -> Result<(), String>,
) -> Result<(), String> {
    http_method(&r.method)?;
    if let Some(status) = r.expect.status
        && !(100..=599).contains(&status)
    {
        return Err(format!("`status: {status}` is no HTTP status: use 100 to 599"));
    }
    for (name, value) in &r.headers {
        if !is_http_token(name) || value.contains(['\r', '\n', '\0']) {
            return Err(format!(
                "header `{}: {}` is not a valid HTTP header",
                name.escape_default(),
                value.escape_default()
            ));
        }
    }
    for (header, pattern) in &r.expect.headers {
        regex(pattern).map_err(|e| format!("header `{header}`: {e}"))?;
    }
    paths(&mut r.expect.json.keys())?;
    paths(&mut r.expect.json_absent.iter())?;
    paths(&mut r.save.values().filter(|v| !v.starts_with(HEADER_PREFIX)))?;
    if let Some(bad) = r.save.values().find(|v| v.strip_prefix(HEADER_PREFIX).is_some_and(|h| h.trim().is_empty())) {
        return Err(format!("`save: {bad}` must name a header, e.g. `header:location`"));
    }
    if [r.json.is_some(), r.form.is_some(), r.body.is_some()].iter().filter(|b| **b).count() > 1 {
        return Err("a request takes one of `json`, `form` or `body`".into());
    }
    Ok(())
}
