//! Judgements of a workload's pod template, as a manifest writes it or the API server returns it:
//! probes, resources, where each environment variable comes from, and whether a rolling update
//! can happen without a failed request. Pure functions of JSON, so the `manifest` check (no
//! cluster) and the `k8s` check (a live object) judge alike.
//!
//! Each judgement returns what is wrong, one entry per container or setting, in words a learner
//! can act on; an empty list means right. Kubernetes' own defaults and rounding apply (an absent
//! `maxUnavailable` is 25 %, rounded down; `terminationGracePeriodSeconds` is 30), so a correct
//! manifest that relies on a default is not refused.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// The pod spec of a workload (or of a Pod, or a CronJob's job).
fn pod_spec(object: &Value) -> Option<&Value> {
    match object.get("kind").and_then(Value::as_str) {
        Some("Pod") => object.get("spec"),
        Some("CronJob") => object.pointer("/spec/jobTemplate/spec/template/spec"),
        _ => object.pointer("/spec/template/spec"),
    }
}

fn list<'v>(spec: Option<&'v Value>, key: &str) -> Vec<&'v Value> {
    spec.and_then(|s| s.get(key)?.as_array()).into_iter().flatten().collect()
}

/// The containers of the pod (not its init containers); only the one named `only` when given.
pub fn containers<'v>(object: &'v Value, only: Option<&str>) -> Vec<&'v Value> {
    list(pod_spec(object), "containers").into_iter().filter(|c| only.is_none_or(|n| name_of(c) == n)).collect()
}

/// Every container of the pod, init containers first.
fn all_containers(object: &Value) -> Vec<&Value> {
    let spec = pod_spec(object);
    let mut all = list(spec, "initContainers");
    all.extend(list(spec, "containers"));
    all
}

fn name_of(container: &Value) -> &str {
    container.get("name").and_then(Value::as_str).unwrap_or("?")
}

fn present<'v>(value: &'v Value, pointer: &str) -> Option<&'v Value> {
    value.pointer(pointer).filter(|v| !v.is_null())
}

/// The containers lacking a readiness or a liveness probe, with which.
pub fn missing_probes(object: &Value, only: Option<&str>) -> Vec<String> {
    containers(object, only)
        .into_iter()
        .filter_map(|c| {
            let missing: Vec<&str> = ["readinessProbe", "livenessProbe"]
                .into_iter()
                .filter(|p| present(c, &format!("/{p}")).is_none())
                .collect();
            (!missing.is_empty()).then(|| format!("{} ({})", name_of(c), missing.join(", ")))
        })
        .collect()
}

/// What is wrong with the HTTP probes of the containers: `wanted` maps `readiness`/`liveness`
/// (or `startup`) to the path the probe must ask, on a port the container exposes.
pub fn probe_path_problems(object: &Value, only: Option<&str>, wanted: &BTreeMap<String, String>) -> Vec<String> {
    let mut problems = Vec::new();
    for c in containers(object, only) {
        for (kind, path) in wanted {
            let key = format!("{kind}Probe");
            let Some(probe) = present(c, &format!("/{key}")) else {
                problems.push(format!("{} has no {key}", name_of(c)));
                continue;
            };
            let Some(get) = present(probe, "/httpGet") else {
                problems.push(format!("{}'s {key} is not an HTTP GET of {path}", name_of(c)));
                continue;
            };
            let asked = get.get("path").and_then(Value::as_str).unwrap_or("/");
            if asked.split('?').next() != Some(path.as_str()) {
                problems.push(format!("{}'s {key} asks {asked}, not {path}", name_of(c)));
            }
            let port = get.get("port").unwrap_or(&Value::Null);
            if !exposes(c, port) {
                problems.push(format!(
                    "{}'s {key} asks port {}, which the container does not expose",
                    name_of(c),
                    show(port)
                ));
            }
        }
    }
    problems
}

/// Whether `port` (a number or a port's name) is one of the container's ports.
fn exposes(container: &Value, port: &Value) -> bool {
    let ports = container.get("ports").and_then(Value::as_array).into_iter().flatten();
    ports.into_iter().any(|p| match port {
        Value::String(name) => p.get("name").and_then(Value::as_str) == Some(name),
        number => p.get("containerPort").and_then(Value::as_i64).is_some() && p.get("containerPort") == Some(number),
    })
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".into(),
        other => other.to_string(),
    }
}

/// The containers lacking a CPU or memory request or limit, with which; and any request larger
/// than its limit (the API server refuses those).
pub fn resource_problems(object: &Value, only: Option<&str>) -> Vec<String> {
    let mut problems = Vec::new();
    for c in containers(object, only) {
        let missing: Vec<String> = ["requests", "limits"]
            .iter()
            .flat_map(|set| ["cpu", "memory"].map(|r| (set, r)))
            .filter(|(set, r)| present(c, &format!("/resources/{set}/{r}")).is_none())
            .map(|(set, r)| format!("{set}.{r}"))
            .collect();
        if !missing.is_empty() {
            problems.push(format!("{} lacks {}", name_of(c), missing.join(", ")));
        }
        for r in ["cpu", "memory"] {
            let amount = |set: &str| present(c, &format!("/resources/{set}/{r}")).map(show);
            let (Some(request), Some(limit)) = (amount("requests"), amount("limits")) else { continue };
            match (quantity(&request), quantity(&limit)) {
                (Some(rq), Some(lm)) if rq > lm => problems.push(format!(
                    "{}'s requests.{r} {request} is more than its limit {limit} (the API server refuses it)",
                    name_of(c)
                )),
                (None, _) => problems.push(format!("{}'s requests.{r} `{request}` is not a quantity", name_of(c))),
                (_, None) => problems.push(format!("{}'s limits.{r} `{limit}` is not a quantity", name_of(c))),
                _ => {}
            }
        }
    }
    problems
}

/// A Kubernetes quantity (`100m`, `1.5`, `512Mi`, `1G`, `1e3`) as a number of units.
pub fn quantity(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text.find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E').unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    // `1e3` is an exponent; `1E` alone would be exa, which no one writes for a pod.
    let number: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        _ => return None,
    };
    (number >= 0.0).then_some(number * factor)
}

/// Where a container's environment variable gets its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvSource {
    /// Written in the manifest (`value:`).
    Literal,
    /// From the key of a Secret (`secretKeyRef`, or a `secretRef` of `envFrom` whose Secret has it).
    Secret(String),
    /// From the key of a ConfigMap.
    ConfigMap(String),
    /// From the pod itself (`fieldRef`, `resourceFieldRef`).
    Pod,
    /// Nowhere: the container does not get it.
    Missing,
}

impl EnvSource {
    /// The kind of object the value comes from, as a lab names it: `Secret`, `ConfigMap`.
    pub fn kind(&self) -> &str {
        match self {
            EnvSource::Literal => "literal",
            EnvSource::Secret(_) => "Secret",
            EnvSource::ConfigMap(_) => "ConfigMap",
            EnvSource::Pod => "pod",
            EnvSource::Missing => "missing",
        }
    }

    fn describe(&self) -> String {
        match self {
            EnvSource::Literal => "a value written in the manifest".into(),
            EnvSource::Secret(name) => format!("Secret {name}"),
            EnvSource::ConfigMap(name) => format!("ConfigMap {name}"),
            EnvSource::Pod => "the pod's own fields".into(),
            EnvSource::Missing => "nowhere (the container does not get it)".into(),
        }
    }
}

/// The keys the ConfigMaps and Secrets a pod refers to hold, by (`ConfigMap`|`Secret`, name); an
/// object that does not exist is absent.
pub type Keys = BTreeMap<(String, String), BTreeSet<String>>;

/// The keys of a ConfigMap or Secret (`data`, `stringData`, `binaryData`).
pub fn keys_of(object: &Value) -> BTreeSet<String> {
    ["data", "stringData", "binaryData"]
        .iter()
        .filter_map(|k| object.get(*k)?.as_object())
        .flat_map(|m| m.keys().cloned())
        .collect()
}

/// The ConfigMaps and Secrets the pod's containers take variables from, as (kind, name).
pub fn env_refs(object: &Value) -> BTreeSet<(String, String)> {
    let mut refs = BTreeSet::new();
    for c in all_containers(object) {
        for from in list(Some(c), "envFrom") {
            for (key, kind) in [("configMapRef", "ConfigMap"), ("secretRef", "Secret")] {
                if let Some(name) = from.pointer(&format!("/{key}/name")).and_then(Value::as_str) {
                    refs.insert((kind.to_string(), name.to_string()));
                }
            }
        }
        for var in list(Some(c), "env") {
            for (key, kind) in [("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")] {
                if let Some(name) = var.pointer(&format!("/valueFrom/{key}/name")).and_then(Value::as_str) {
                    refs.insert((kind.to_string(), name.to_string()));
                }
            }
        }
    }
    refs
}

/// Where `container` gets `var` from, as the kubelet resolves it: an `env` entry wins over
/// `envFrom` (the last entry of a name counts), and among `envFrom` sources the last one that
/// holds the key wins.
pub fn env_source(container: &Value, var: &str, keys: &Keys) -> EnvSource {
    if let Some(entry) =
        list(Some(container), "env").into_iter().rev().find(|e| e.get("name").and_then(Value::as_str) == Some(var))
    {
        let Some(from) = present(entry, "/valueFrom") else { return EnvSource::Literal };
        let name = |key: &str| from.pointer(&format!("/{key}/name")).and_then(Value::as_str).unwrap_or("").to_string();
        return if from.get("secretKeyRef").is_some() {
            EnvSource::Secret(name("secretKeyRef"))
        } else if from.get("configMapKeyRef").is_some() {
            EnvSource::ConfigMap(name("configMapKeyRef"))
        } else {
            EnvSource::Pod
        };
    }
    for from in list(Some(container), "envFrom").into_iter().rev() {
        let prefix = from.get("prefix").and_then(Value::as_str).unwrap_or("");
        let Some(key) = var.strip_prefix(prefix) else { continue };
        for (field, kind) in [("configMapRef", "ConfigMap"), ("secretRef", "Secret")] {
            let Some(name) = from.pointer(&format!("/{field}/name")).and_then(Value::as_str) else { continue };
            if keys.get(&(kind.to_string(), name.to_string())).is_some_and(|k| k.contains(key)) {
                return match kind {
                    "Secret" => EnvSource::Secret(name.to_string()),
                    _ => EnvSource::ConfigMap(name.to_string()),
                };
            }
        }
    }
    EnvSource::Missing
}

/// What is wrong with where the containers get their variables: `wanted` maps each variable to
/// the kind it must come from (`Secret` or `ConfigMap`). A variable wanted from a Secret is a
/// credential: no container, init containers included, may have it written in the manifest.
pub fn env_problems(object: &Value, only: Option<&str>, wanted: &BTreeMap<String, String>, keys: &Keys) -> Vec<String> {
    let mut problems = Vec::new();
    for c in containers(object, only) {
        for (var, kind) in wanted {
            let source = env_source(c, var, keys);
            if !source.kind().eq_ignore_ascii_case(kind) {
                problems.push(format!("{} gets {var} from {}, not from a {kind}", name_of(c), source.describe()));
            }
        }
    }
    for c in all_containers(object) {
        for (var, _) in wanted.iter().filter(|(_, kind)| kind.eq_ignore_ascii_case("Secret")) {
            if env_source(c, var, keys) == EnvSource::Literal
                && !problems.iter().any(|p| p.starts_with(&format!("{} gets {var} ", name_of(c))))
            {
                problems.push(format!("{} has the credential {var} written in the manifest", name_of(c)));
            }
        }
    }
    problems
}

/// What stands between the workload and a rolling update without a failed request: a strategy
/// that stops old pods before new ones are ready, no readiness probe (new pods get traffic before
/// they answer), no preStop wait (a pod stops while Services still send it requests), or a grace
/// period shorter than that wait.
pub fn zero_downtime_problems(object: &Value, only: Option<&str>) -> Vec<String> {
    let mut problems = Vec::new();
    let replicas = object.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
    let strategy = object.pointer("/spec/strategy");
    match strategy.and_then(|s| s.get("type")).and_then(Value::as_str).unwrap_or("RollingUpdate") {
        "RollingUpdate" => {
            let rolling = strategy.and_then(|s| s.get("rollingUpdate"));
            let setting = |key: &str| rolling.and_then(|r| r.get(key)).filter(|v| !v.is_null());
            let unavailable = scaled(setting("maxUnavailable"), replicas, false);
            let surge = scaled(setting("maxSurge"), replicas, true);
            match (unavailable, surge) {
                (Some(0), Some(0)) => {
                    problems.push("maxUnavailable and maxSurge are both 0: no rollout can start".into())
                }
                (Some(0), Some(_)) => {}
                (Some(n), _) => problems.push(format!(
                    "maxUnavailable lets {n} of {replicas} pods stop before their replacements are ready: set it to 0"
                )),
                (None, _) => problems.push("maxUnavailable is neither a number nor a percentage".into()),
            }
        }
        other => {
            problems.push(format!("strategy {other} stops every old pod before a new one is ready: use RollingUpdate"))
        }
    }
    let grace =
        pod_spec(object).and_then(|s| s.get("terminationGracePeriodSeconds")).and_then(Value::as_f64).unwrap_or(30.0);
    for c in containers(object, only) {
        if present(c, "/readinessProbe").is_none() {
            problems
                .push(format!("{} has no readinessProbe: new pods get requests before they can answer", name_of(c)));
        }
        match pre_stop_wait(c) {
            None => problems.push(format!(
                "{} has no preStop wait: it stops while Services still send it requests (lifecycle.preStop.sleep)",
                name_of(c)
            )),
            Some(wait) if wait >= grace => problems.push(format!(
                "{}'s preStop wait of {wait}s does not end before terminationGracePeriodSeconds ({grace}s)",
                name_of(c)
            )),
            Some(_) => {}
        }
    }
    problems
}

/// A rolling-update bound as a number of pods: an integer, or a percentage of `replicas` rounded
/// down (maxUnavailable) or up (maxSurge); absent is 25 %.
fn scaled(value: Option<&Value>, replicas: i64, round_up: bool) -> Option<i64> {
    let percent = |p: f64| {
        let pods = replicas as f64 * p / 100.0;
        Some(if round_up { pods.ceil() } else { pods.floor() } as i64)
    };
    match value {
        None => percent(25.0),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.strip_suffix('%')?.trim().parse::<f64>().ok().and_then(percent),
        Some(_) => None,
    }
}

/// How many seconds the container's preStop hook waits: the `sleep` action, or an `exec` command
/// that runs `sleep N`.
fn pre_stop_wait(container: &Value) -> Option<f64> {
    let hook = present(container, "/lifecycle/preStop")?;
    if let Some(seconds) = hook.pointer("/sleep/seconds").and_then(Value::as_f64) {
        return (seconds > 0.0).then_some(seconds);
    }
    let command = hook.pointer("/exec/command")?.as_array()?;
    let words: Vec<&str> = command.iter().filter_map(Value::as_str).flat_map(str::split_whitespace).collect();
    let at = words.iter().position(|w| *w == "sleep" || w.ends_with("/sleep"))?;
    let seconds: f64 = words.get(at + 1)?.trim_end_matches([';', '&', 's']).parse().ok()?;
    (seconds > 0.0).then_some(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(containers: Value) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop"},
            "spec": {"replicas": 3, "selector": {}, "template": {"spec": {"containers": containers}}},
        })
    }

    fn app() -> Value {
        json!({
            "name": "app",
            "ports": [{"name": "http", "containerPort": 8000}],
            "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
            "livenessProbe": {"httpGet": {"path": "/health", "port": 8000}},
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
            "lifecycle": {"preStop": {"sleep": {"seconds": 5}}}
        })
    }

    fn with(mut value: Value, pointer: &str, set: Value) -> Value {
        *value.pointer_mut(pointer).unwrap() = set;
        value
    }

    #[test]
    fn probes_and_resources_are_required_of_every_container() {
        let bare = json!({"name": "sidecar", "readinessProbe": {"tcpSocket": {"port": 9}}, "resources": {"limits": {"memory": "64Mi"}}});
        let object = deployment(json!([app(), bare]));
        assert_eq!(missing_probes(&object, None), ["sidecar (livenessProbe)"]);
        assert!(missing_probes(&object, Some("app")).is_empty(), "only the container named");
        assert_eq!(resource_problems(&object, None), ["sidecar lacks requests.cpu, requests.memory, limits.cpu"]);
        assert!(resource_problems(&deployment(json!([app()])), None).is_empty());
    }

    #[test]
    fn a_request_above_its_limit_is_refused_as_the_api_server_refuses_it() {
        let greedy = with(app(), "/resources/requests/memory", json!("1Gi"));
        assert_eq!(
            resource_problems(&deployment(json!([greedy])), None),
            ["app's requests.memory 1Gi is more than its limit 512Mi (the API server refuses it)"]
        );
        let equal = with(app(), "/resources/requests/cpu", json!("1000m"));
        assert!(resource_problems(&deployment(json!([equal])), None).is_empty(), "1000m is 1 CPU");
        let nonsense = with(app(), "/resources/limits/cpu", json!("lots"));
        assert_eq!(
            resource_problems(&deployment(json!([nonsense])), None),
            ["app's limits.cpu `lots` is not a quantity"]
        );
    }

    #[test]
    fn quantities_read_as_kubernetes_reads_them() {
        for (text, units) in [
            ("100m", 0.1),
            ("1", 1.0),
            ("0.5", 0.5),
            ("128Mi", 134_217_728.0),
            ("1G", 1e9),
            ("1e3", 1000.0),
            ("2Ki", 2048.0),
        ] {
            assert_eq!(quantity(text), Some(units), "{text}");
        }
        for text in ["", "Mi", "1X", "-1", "lots"] {
            assert_eq!(quantity(text), None, "{text}");
        }
    }

    #[test]
    fn probes_must_ask_their_path_on_a_port_the_container_exposes() {
        let wanted: BTreeMap<String, String> =
            [("readiness", "/ready"), ("liveness", "/health")].map(|(k, v)| (k.to_string(), v.to_string())).into();
        assert!(probe_path_problems(&deployment(json!([app()])), None, &wanted).is_empty(), "a name or a number");
        let swapped = with(app(), "/livenessProbe/httpGet/path", json!("/ready"));
        assert_eq!(
            probe_path_problems(&deployment(json!([swapped])), None, &wanted),
            ["app's livenessProbe asks /ready, not /health"]
        );
        let elsewhere = with(app(), "/readinessProbe/httpGet/port", json!(80));
        assert_eq!(
            probe_path_problems(&deployment(json!([elsewhere])), None, &wanted),
            ["app's readinessProbe asks port 80, which the container does not expose"]
        );
        let tcp = with(app(), "/readinessProbe", json!({"tcpSocket": {"port": 8000}}));
        assert_eq!(
            probe_path_problems(&deployment(json!([tcp])), None, &wanted),
            ["app's readinessProbe is not an HTTP GET of /ready"]
        );
    }

    #[test]
    fn a_variable_comes_from_where_the_kubelet_takes_it() {
        let keys: Keys = [
            (("ConfigMap".to_string(), "shop-config".to_string()), ["LOG_LEVEL".to_string()].into()),
            (("Secret".to_string(), "shop-secrets".to_string()), ["DATABASE_URL".to_string()].into()),
        ]
        .into();
        let c = json!({
            "name": "app",
            "env": [
                {"name": "APP_ENV", "value": "production"},
                {"name": "JWT_SECRET", "valueFrom": {"secretKeyRef": {"name": "jwt", "key": "secret"}}},
                {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            ],
            "envFrom": [{"secretRef": {"name": "shop-secrets"}}, {"configMapRef": {"name": "shop-config"}}, {"configMapRef": {"name": "gone"}}]
        });
        assert_eq!(env_source(&c, "APP_ENV", &keys), EnvSource::Literal);
        assert_eq!(env_source(&c, "JWT_SECRET", &keys), EnvSource::Secret("jwt".into()));
        assert_eq!(env_source(&c, "POD_IP", &keys), EnvSource::Pod);
        assert_eq!(env_source(&c, "DATABASE_URL", &keys), EnvSource::Secret("shop-secrets".into()));
        assert_eq!(env_source(&c, "LOG_LEVEL", &keys), EnvSource::ConfigMap("shop-config".into()));
        assert_eq!(env_source(&c, "NOWHERE", &keys), EnvSource::Missing);
        let prefixed = json!({"name": "app", "envFrom": [{"prefix": "DB_", "secretRef": {"name": "shop-secrets"}}]});
        assert_eq!(env_source(&prefixed, "DB_DATABASE_URL", &keys), EnvSource::Secret("shop-secrets".into()));
        assert_eq!(env_source(&prefixed, "DATABASE_URL", &keys), EnvSource::Missing);
        assert_eq!(
            env_refs(&deployment(json!([c]))).into_iter().map(|(k, n)| format!("{k}/{n}")).collect::<Vec<_>>(),
            ["ConfigMap/gone", "ConfigMap/shop-config", "Secret/jwt", "Secret/shop-secrets"]
        );
    }

    #[test]
    fn credentials_must_come_from_a_secret_in_every_container() {
        let keys: Keys = [
            (
                ("ConfigMap".to_string(), "cfg".to_string()),
                ["LOG_LEVEL".to_string(), "DATABASE_URL".to_string()].into(),
            ),
            (("Secret".to_string(), "sec".to_string()), ["DATABASE_URL".to_string()].into()),
        ]
        .into();
        let wanted: BTreeMap<String, String> = [("DATABASE_URL", "Secret"), ("LOG_LEVEL", "ConfigMap")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into();
        let pod = |init: Value, app: Value| {
            let mut d = deployment(json!([app]));
            d["spec"]["template"]["spec"]["initContainers"] = json!([init]);
            d
        };
        let right =
            json!({"name": "app", "envFrom": [{"configMapRef": {"name": "cfg"}}, {"secretRef": {"name": "sec"}}]});
        let init = json!({"name": "migrate", "envFrom": [{"secretRef": {"name": "sec"}}]});
        assert!(env_problems(&pod(init.clone(), right.clone()), None, &wanted, &keys).is_empty());
        // The ConfigMap also holds the URL and comes last: it wins, and a credential sits in a ConfigMap.
        let config_last =
            json!({"name": "app", "envFrom": [{"secretRef": {"name": "sec"}}, {"configMapRef": {"name": "cfg"}}]});
        assert_eq!(
            env_problems(&pod(init.clone(), config_last), None, &wanted, &keys),
            ["app gets DATABASE_URL from ConfigMap cfg, not from a Secret"]
        );
        let leaky_init =
            json!({"name": "migrate", "env": [{"name": "DATABASE_URL", "value": "postgresql://u:pw@db/x"}]});
        assert_eq!(
            env_problems(&pod(leaky_init, right), Some("app"), &wanted, &keys),
            ["migrate has the credential DATABASE_URL written in the manifest"]
        );
        let missing = json!({"name": "app", "envFrom": [{"configMapRef": {"name": "cfg-typo"}}]});
        assert_eq!(
            env_problems(&pod(init, missing), None, &wanted, &keys),
            [
                "app gets DATABASE_URL from nowhere (the container does not get it), not from a Secret",
                "app gets LOG_LEVEL from nowhere (the container does not get it), not from a ConfigMap"
            ]
        );
    }

    #[test]
    fn a_rolling_update_without_downtime_needs_all_four_settings() {
        let rolling = |strategy: Value, containers: Value| {
            let mut d = deployment(containers);
            d["spec"]["strategy"] = strategy;
            d
        };
        let zero = json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}});
        assert!(zero_downtime_problems(&rolling(zero.clone(), json!([app()])), None).is_empty());
        // Kubernetes' default, 25 % of 3 rounded down, is 0 too; 25 % of 4 is not.
        let mut default = rolling(json!(null), json!([app()]));
        assert!(zero_downtime_problems(&default, None).is_empty(), "25 % of 3 pods rounds down to 0");
        default["spec"]["replicas"] = json!(4);
        assert_eq!(
            zero_downtime_problems(&default, None),
            ["maxUnavailable lets 1 of 4 pods stop before their replacements are ready: set it to 0"]
        );
        assert_eq!(
            zero_downtime_problems(&rolling(json!({"type": "Recreate"}), json!([app()])), None),
            ["strategy Recreate stops every old pod before a new one is ready: use RollingUpdate"]
        );
        let both_zero = json!({"rollingUpdate": {"maxUnavailable": "0%", "maxSurge": 0}});
        assert_eq!(
            zero_downtime_problems(&rolling(both_zero, json!([app()])), None),
            ["maxUnavailable and maxSurge are both 0: no rollout can start"]
        );
        let exec_sleep = with(app(), "/lifecycle/preStop", json!({"exec": {"command": ["sh", "-c", "sleep 5"]}}));
        assert!(
            zero_downtime_problems(&rolling(zero.clone(), json!([exec_sleep])), None).is_empty(),
            "sleep in a shell"
        );
        let mut no_hook = app();
        no_hook.as_object_mut().unwrap().remove("lifecycle");
        no_hook.as_object_mut().unwrap().remove("readinessProbe");
        assert_eq!(
            zero_downtime_problems(&rolling(zero.clone(), json!([no_hook])), None),
            [
                "app has no readinessProbe: new pods get requests before they can answer",
                "app has no preStop wait: it stops while Services still send it requests (lifecycle.preStop.sleep)"
            ]
        );
        let mut short = rolling(zero, json!([with(app(), "/lifecycle/preStop/sleep/seconds", json!(40))]));
        assert_eq!(
            zero_downtime_problems(&short, None),
            ["app's preStop wait of 40s does not end before terminationGracePeriodSeconds (30s)"]
        );
        short["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = json!(60);
        assert!(zero_downtime_problems(&short, None).is_empty());
    }
}
