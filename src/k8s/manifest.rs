//! The project's `k8s/` folder made ready to apply: every document of every file (in the order
//! `kustomization.yaml` lists them, else by file name), placed in the namespace, labelled as
//! labforge's, the app's image set to the exact tag that was built, the Secret the workloads need
//! made from `.env` when `k8s/` does not hold it, and a digest of each object as applied.
//!
//! Everything here is pure: values in, values out, so each rule has its unit test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Value, json};

use super::{ANNOTATION_APPLIED, Error, LABEL_MANAGED_BY, LABEL_PROJECT, MANAGER};
use crate::base::yaml_error;

/// The folder of manifests inside a project.
pub const DIR: &str = "k8s";

/// One document of a manifest file.
#[derive(Debug, Clone)]
pub struct Document {
    /// `k8s/FILE.yaml:LINE`, where the document starts.
    pub source: String,
    pub body: Value,
}

/// An object ready to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub source: String,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// `None` until [`prepare`] knows whether the kind is namespaced (it sets it for all but the
    /// kinds in [`CLUSTER_SCOPED`]).
    pub namespace: Option<String>,
    pub body: Value,
    /// The digest of `body` without the annotation that carries it.
    pub digest: String,
}

impl Object {
    /// `Deployment/shop` — how kubectl names an object.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    /// The API group (`""` for the core group) and version.
    pub fn group_version(&self) -> (&str, &str) {
        match self.api_version.split_once('/') {
            Some((group, version)) => (group, version),
            None => ("", self.api_version.as_str()),
        }
    }
}

/// Kinds that live outside namespaces and that `k8s/` folders commonly hold.
pub const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
];

/// Reads every document of `dir` (a project's `k8s/`): the files `kustomization.yaml` lists as
/// `resources`, else every `*.yaml` / `*.yml` by name.
pub fn load(dir: &Path) -> Result<Vec<Document>, Error> {
    let rel = |file: &str| format!("{DIR}/{file}");
    if !dir.is_dir() {
        return Err(Error::Manifest(format!(
            "{}: no such folder: labforge deploys the manifests in the project's {DIR}/ (run it in a project `labforge new` made, or pass --dir)",
            dir.display()
        )));
    }
    let mut present: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::Manifest(format!("{}: {e}", dir.display())))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|n| (n.ends_with(".yaml") || n.ends_with(".yml")) && !n.starts_with('.') && n != "kustomization.yaml")
        .collect();
    present.sort();
    let files = match std::fs::read_to_string(dir.join("kustomization.yaml")) {
        Ok(text) => {
            let listed = kustomization_resources(&text)
                .map_err(|e| Error::Manifest(format!("{}:{e}", rel("kustomization.yaml"))))?;
            // kubectl would skip a file the list forgets; a user who added one means it applied.
            if let Some(forgotten) = present.iter().find(|f| !listed.contains(f)) {
                return Err(Error::Manifest(format!(
                    "{}: not listed in {}: add it to `resources` there, or remove it",
                    rel(forgotten),
                    rel("kustomization.yaml")
                )));
            }
            listed
        }
        Err(_) => present,
    };
    let mut documents = Vec::new();
    for file in files {
        let path = dir.join(&file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::Manifest(format!("{}: cannot read it: {e}", rel(&file))))?;
        let bodies: Vec<Value> =
            serde_saphyr::from_str_multiple(&text).map_err(|e| Error::Manifest(yaml_error(&rel(&file), &e)))?;
        let starts = document_lines(&text);
        let lines_known = starts.len() == bodies.len();
        for (i, body) in bodies.into_iter().enumerate() {
            if body.is_null() {
                continue;
            }
            let line = if lines_known { starts[i] } else { 1 };
            documents.push(Document { source: format!("{}:{line}", rel(&file)), body });
        }
    }
    Ok(documents)
}

/// The `resources:` of a kustomization, which labforge applies as they are. Anything kustomize
/// would transform (patches, generators, bases) is refused rather than silently ignored.
fn kustomization_resources(text: &str) -> Result<Vec<String>, String> {
    let value: Value =
        serde_saphyr::from_str(text).map_err(|e| yaml_error("", &e).trim_start_matches(':').to_string())?;
    let map = value.as_object().ok_or("1:1: a kustomization is a mapping")?;
    let allowed = ["apiVersion", "kind", "resources", "labels", "commonLabels", "namespace"];
    if let Some(key) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!(
            " `{key}` is a kustomize transformation labforge does not apply; use `kubectl apply -k k8s/` for it, or list plain files under `resources`"
        ));
    }
    let resources =
        map.get("resources").and_then(Value::as_array).ok_or(" `resources` must list the manifest files")?;
    resources
        .iter()
        .map(|r| match r.as_str() {
            Some(file) if !file.contains('/') && (file.ends_with(".yaml") || file.ends_with(".yml")) => {
                Ok(file.to_string())
            }
            _ => Err(format!(" resource {r}: labforge applies files of k8s/ itself (FILE.yaml)")),
        })
        .collect()
}

/// The line each YAML document of `text` with content starts on (1-based): documents that
/// hold only comments are not documents to the parser either.
fn document_lines(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut current: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        if line == "---" || line.starts_with("--- ") || line == "..." {
            if let Some(start) = current.take() {
                starts.push(start)
            }
            continue;
        }
        let content = line.trim();
        if current.is_none() && !content.is_empty() && !content.starts_with('#') {
            current = Some(i + 1);
        }
    }
    starts.extend(current);
    starts
}

/// What [`prepare`] needs to know about the project.
#[derive(Debug, Clone)]
pub struct Project<'a> {
    /// As in labforge.yaml.
    pub name: &'a str,
    pub namespace: &'a str,
    /// The image that was built for the app (`labforge/shop-app:HASH`), when one was.
    pub image: Option<&'a str>,
    /// The project's `.env`.
    pub env: &'a BTreeMap<String, String>,
    /// The services of labforge.yaml other than the app (their names are hosts in `.env`'s URLs).
    pub services: &'a [String],
}

impl Default for Project<'_> {
    fn default() -> Self {
        static NO_ENV: BTreeMap<String, String> = BTreeMap::new();
        Project { name: "", namespace: "default", image: None, env: &NO_ENV, services: &[] }
    }
}

impl Project<'_> {
    /// The project's name as a DNS label (what `labforge new` names its objects).
    fn dns(&self) -> String {
        self.name.replace('_', "-")
    }
}

/// Makes the documents ready to apply; see the module's description.
pub fn prepare(documents: &[Document], project: &Project) -> Result<Vec<Object>, Error> {
    let mut objects = Vec::new();
    let mut seen = BTreeSet::new();
    for doc in documents {
        let mut object = identify(doc)?;
        place(&mut object, project.namespace)?;
        if !seen.insert((object.kind.clone(), object.namespace.clone(), object.name.clone())) {
            return Err(Error::Manifest(format!("{}: {} is defined twice in {DIR}/", doc.source, object.id())));
        }
        if let Some(image) = project.image {
            set_app_image(&mut object.body, &project.dns(), project.name, image);
        }
        objects.push(object);
    }
    if let Some(secret) = secret_from_env(&objects, project) {
        objects.push(secret);
    }
    for object in &mut objects {
        label(&mut object.body, project.name);
        object.digest = digest(&object.body);
        object.body["metadata"]["annotations"][ANNOTATION_APPLIED] = json!(object.digest);
    }
    objects.sort_by_key(|o| apply_order(&o.kind));
    Ok(objects)
}

fn identify(doc: &Document) -> Result<Object, Error> {
    let field = |path: &[&str]| {
        let mut v = &doc.body;
        for key in path {
            v = v.get(key)?;
        }
        v.as_str().filter(|s| !s.is_empty()).map(str::to_string)
    };
    let missing = |what: &str| Error::Manifest(format!("{}: the document has no {what}", doc.source));
    if !doc.body.is_object() {
        return Err(Error::Manifest(format!("{}: a Kubernetes object is a mapping", doc.source)));
    }
    let api_version = field(&["apiVersion"]).ok_or_else(|| missing("apiVersion"))?;
    let kind = field(&["kind"]).ok_or_else(|| missing("kind"))?;
    let name = field(&["metadata", "name"]).ok_or_else(|| missing("metadata.name"))?;
    if kind.ends_with("List") {
        return Err(Error::Manifest(format!(
            "{}: {kind}: write each object as its own document (separated by ---)",
            doc.source
        )));
    }
    Ok(Object {
        source: doc.source.clone(),
        namespace: field(&["metadata", "namespace"]),
        api_version,
        kind,
        name,
        body: doc.body.clone(),
        digest: String::new(),
    })
}

/// Puts a namespaced object in `namespace`; one that names another namespace is refused, as
/// `kubectl apply --namespace` refuses it.
fn place(object: &mut Object, namespace: &str) -> Result<(), Error> {
    if CLUSTER_SCOPED.contains(&object.kind.as_str()) {
        object.namespace = None;
        return Ok(());
    }
    match &object.namespace {
        Some(own) if own != namespace => Err(Error::Manifest(format!(
            "{}: {} names namespace {own}, but labforge deploys to {namespace}: remove metadata.namespace or pass --namespace {own}",
            object.source,
            object.id()
        ))),
        _ => {
            object.namespace = Some(namespace.to_string());
            object.body["metadata"]["namespace"] = json!(namespace);
            Ok(())
        }
    }
}

/// The pod template of a workload, wherever its kind keeps it.
fn pod_spec_mut(body: &mut Value) -> Option<&mut Value> {
    let kind = body.get("kind")?.as_str()?.to_string();
    let spec = match kind.as_str() {
        "Pod" => body.get_mut("spec")?,
        "CronJob" => body.pointer_mut("/spec/jobTemplate/spec/template/spec")?,
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => body.pointer_mut("/spec/template/spec")?,
        _ => return None,
    };
    Some(spec)
}

/// Every container of a pod spec whose image is the project's own (`PROJECT[:TAG]`, by its
/// name or DNS name, or labforge's `labforge/PROJECT-app`) runs `image`.
fn set_app_image(body: &mut Value, dns: &str, name: &str, image: &str) {
    let Some(spec) = pod_spec_mut(body) else { return };
    let ours = |reference: &str| {
        let repository = strip_tag(reference);
        repository == dns || repository == name || repository == format!("labforge/{name}-app")
    };
    for list in ["initContainers", "containers"] {
        let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else { continue };
        for container in containers {
            if container.get("image").and_then(Value::as_str).is_some_and(ours) {
                container["image"] = json!(image);
            }
        }
    }
}

/// `repo[:tag][@digest]` without its tag and digest (a registry's `host:port/` is kept).
fn strip_tag(reference: &str) -> &str {
    let no_digest = reference.split('@').next().unwrap_or(reference);
    match no_digest.rfind(':') {
        Some(colon) if !no_digest[colon..].contains('/') => &no_digest[..colon],
        _ => no_digest,
    }
}

/// The images of every container of a workload.
pub fn images(body: &Value) -> Vec<String> {
    let mut body = body.clone();
    let Some(spec) = pod_spec_mut(&mut body) else { return Vec::new() };
    ["initContainers", "containers"]
        .iter()
        .filter_map(|list| spec.get(list).and_then(Value::as_array))
        .flatten()
        .filter_map(|c| c.get("image").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// The Secret the workloads reference and `k8s/` does not define (`k8s/secret.yaml` is
/// git-ignored, so a fresh clone lacks it), made from `.env`: every key that no ConfigMap of
/// `k8s/` sets, with the hosts of `.env`'s URLs (the services' names on Docker) changed to the
/// Services' names in the cluster (`postgres` → `shop-postgres`).
fn secret_from_env(objects: &[Object], project: &Project) -> Option<Object> {
    let defined: BTreeSet<&str> = objects.iter().filter(|o| o.kind == "Secret").map(|o| o.name.as_str()).collect();
    let mut wanted: Vec<String> = Vec::new();
    for object in objects {
        let mut refs = Vec::new();
        collect_secret_refs(&object.body, &mut refs);
        for name in refs {
            if !defined.contains(name.as_str()) && !wanted.contains(&name) {
                wanted.push(name);
            }
        }
    }
    // One Secret can be made from one .env; a second missing one is for the user to write.
    let name = wanted.into_iter().next()?;
    if project.env.is_empty() {
        return None;
    }
    let configured: BTreeSet<&str> = objects
        .iter()
        .filter(|o| o.kind == "ConfigMap")
        .filter_map(|o| o.body.get("data")?.as_object())
        .flat_map(|data| data.keys().map(String::as_str))
        .collect();
    let services: BTreeSet<&str> = objects.iter().filter(|o| o.kind == "Service").map(|o| o.name.as_str()).collect();
    let dns = project.dns();
    let mut data = serde_json::Map::new();
    for (key, value) in project.env {
        if configured.contains(key.as_str()) {
            continue;
        }
        let mut value = value.clone();
        for service in project.services {
            let in_cluster = format!("{dns}-{service}");
            if services.contains(in_cluster.as_str()) {
                value = value.replace(&format!("@{service}:"), &format!("@{in_cluster}:"));
                value = value.replace(&format!("//{service}:"), &format!("//{in_cluster}:"));
            }
        }
        data.insert(key.clone(), json!(value));
    }
    let body = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": project.namespace},
        "type": "Opaque",
        "stringData": data,
    });
    Some(Object {
        source: ".env".to_string(),
        api_version: "v1".into(),
        kind: "Secret".into(),
        name,
        namespace: Some(project.namespace.to_string()),
        body,
        digest: String::new(),
    })
}

fn collect_secret_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "secretRef" || key == "secretKeyRef" {
                    if let Some(name) = inner.get("name").and_then(Value::as_str) {
                        out.push(name.to_string());
                    }
                } else {
                    collect_secret_refs(inner, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_secret_refs(v, out)),
        _ => {}
    }
}

/// A NodePort Service on `node_port` in front of what the Service of the app's workload selects:
/// on a kind cluster whose node publishes that port on 127.0.0.1 (as `labforge cluster create`
/// makes it), the app is then reachable from the host. `None` when no Service selects the
/// workload that runs `image`.
pub fn host_service(objects: &[Object], image: &str, node_port: u16) -> Option<Document> {
    let workload = objects.iter().find(|o| images(&o.body).iter().any(|i| i == image))?;
    let labels = workload.body.pointer("/spec/template/metadata/labels")?.as_object()?;
    let service = objects.iter().filter(|o| o.kind == "Service").find(|s| {
        let selector = s.body.pointer("/spec/selector").and_then(Value::as_object);
        selector.is_some_and(|sel| !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v)))
    })?;
    let target = service.body.pointer("/spec/ports/0/targetPort").cloned().unwrap_or(json!("http"));
    Some(Document {
        source: format!("{} (on kind: NodePort {node_port})", service.source),
        body: json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": format!("{}-host", service.name)},
            "spec": {
                "type": "NodePort",
                "selector": service.body.pointer("/spec/selector").cloned().unwrap_or(json!({})),
                "ports": [{"name": "http", "port": 80, "targetPort": target, "nodePort": node_port}],
            },
        }),
    })
}

/// Marks an object as the project's and labforge's: `undeploy` removes only what carries both.
fn label(body: &mut Value, project: &str) {
    let labels = &mut body["metadata"]["labels"];
    if !labels.is_object() {
        *labels = json!({});
    }
    labels[LABEL_MANAGED_BY] = json!(MANAGER);
    labels[LABEL_PROJECT] = json!(project);
}

/// The digest of an object's content, the same for the same content written in any key order.
pub fn digest(body: &Value) -> String {
    let mut canonical = body.clone();
    if let Some(annotations) = canonical.pointer_mut("/metadata/annotations").and_then(Value::as_object_mut) {
        annotations.remove(ANNOTATION_APPLIED);
        if annotations.is_empty() {
            canonical["metadata"].as_object_mut().map(|m| m.remove("annotations"));
        }
    }
    sort_keys(&mut canonical);
    let text = serde_json::to_vec(&canonical).unwrap_or_default();
    crate::stack::build::digest(&[&text])
}

fn sort_keys(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            for (key, mut inner) in entries {
                sort_keys(&mut inner);
                map.insert(key, inner);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

/// Namespaces first, then what pods read (accounts, Secrets, ConfigMaps, claims), Services, and
/// the workloads last, so a pod never starts before its configuration exists.
fn apply_order(kind: &str) -> u8 {
    match kind {
        "Namespace" => 0,
        "CustomResourceDefinition" => 1,
        "ServiceAccount" | "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => 2,
        "Secret" | "ConfigMap" => 3,
        "PersistentVolumeClaim" | "PersistentVolume" | "StorageClass" => 4,
        "Service" => 5,
        "StatefulSet" | "Deployment" | "DaemonSet" | "Job" | "CronJob" | "Pod" | "ReplicaSet" => 8,
        _ => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(yaml: &str) -> Document {
        Document { source: "k8s/test.yaml:1".into(), body: serde_saphyr::from_str(yaml).unwrap() }
    }

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    const DEPLOYMENT: &str = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop-k}
spec:
  template:
    spec:
      initContainers: [{name: migrate, image: 'shop-k:0.1.0'}]
      containers:
        - {name: app, image: 'shop-k:0.1.0', envFrom: [{secretRef: {name: shop-k-secrets}}, {configMapRef: {name: shop-k-config}}]}
        - {name: sidecar, image: 'registry.example:5000/shop-k-proxy:1.2'}
";

    fn project<'a>(env: &'a BTreeMap<String, String>, services: &'a [String]) -> Project<'a> {
        Project { name: "shop_k", namespace: "team-a", image: Some("labforge/shop_k-app:abc123"), env, services }
    }

    #[test]
    fn the_apps_containers_run_the_built_tag_and_others_keep_theirs() {
        let env = BTreeMap::new();
        let objects = prepare(&[doc(DEPLOYMENT)], &project(&env, &[])).unwrap();
        assert_eq!(
            images(&objects[0].body),
            ["labforge/shop_k-app:abc123", "labforge/shop_k-app:abc123", "registry.example:5000/shop-k-proxy:1.2"]
        );
        assert_eq!(strip_tag("localhost:5001/shop:1@sha256:ab"), "localhost:5001/shop");
        assert_eq!(strip_tag("localhost:5001/shop"), "localhost:5001/shop");
    }

    #[test]
    fn every_object_is_placed_labelled_and_carries_its_digest() {
        let env = BTreeMap::new();
        let ns = doc("apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n");
        let objects = prepare(&[doc(DEPLOYMENT), ns], &project(&env, &[])).unwrap();
        assert_eq!(objects[0].kind, "Namespace", "namespaces go first");
        assert_eq!(objects[0].namespace, None);
        assert!(objects[0].body["metadata"].get("namespace").is_none());
        let deployment = &objects[1];
        assert_eq!(deployment.body["metadata"]["namespace"], "team-a");
        assert_eq!(deployment.body["metadata"]["labels"][LABEL_PROJECT], "shop_k");
        assert_eq!(deployment.body["metadata"]["labels"][LABEL_MANAGED_BY], "labforge");
        assert_eq!(deployment.body["metadata"]["annotations"][ANNOTATION_APPLIED], deployment.digest.as_str());
        assert_eq!(digest(&deployment.body), deployment.digest, "the annotation is not part of the digest");
    }

    #[test]
    fn the_digest_changes_with_content_not_with_key_order() {
        let a = doc("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {A: '1', B: '2'}\n");
        let b = doc("kind: ConfigMap\ndata: {B: '2', A: '1'}\nmetadata: {name: c}\napiVersion: v1\n");
        let c = doc("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {A: '1', B: '3'}\n");
        assert_eq!(digest(&a.body), digest(&b.body));
        assert_ne!(digest(&a.body), digest(&c.body));
    }

    #[test]
    fn another_namespace_in_a_manifest_is_refused_with_its_place() {
        let env = BTreeMap::new();
        let other = doc("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: prod}\n");
        let err = prepare(&[other], &project(&env, &[])).unwrap_err().to_string();
        assert!(
            err.starts_with("k8s/test.yaml:1: ConfigMap/c names namespace prod") && err.contains("--namespace prod"),
            "{err}"
        );
    }

    #[test]
    fn documents_without_kind_or_name_or_defined_twice_are_refused() {
        let env = BTreeMap::new();
        let p = project(&env, &[]);
        for (yaml, says) in [
            ("apiVersion: v1\nmetadata: {name: c}\n", "no kind"),
            ("apiVersion: v1\nkind: ConfigMap\n", "no metadata.name"),
            ("kind: ConfigMap\nmetadata: {name: c}\n", "no apiVersion"),
            ("- a\n", "a mapping"),
            ("apiVersion: v1\nkind: List\nmetadata: {name: l}\n", "own document"),
        ] {
            let err = prepare(&[doc(yaml)], &p).unwrap_err().to_string();
            assert!(err.contains(says), "{yaml}: {err}");
        }
        let twice = doc("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
        let err = prepare(&[twice.clone(), twice], &p).unwrap_err().to_string();
        assert!(err.contains("ConfigMap/c is defined twice"), "{err}");
    }

    #[test]
    fn a_missing_secret_is_made_from_env_with_cluster_hosts_and_without_configmap_keys() {
        let env = env(&[
            ("APP_ENV", "development"),
            ("POSTGRES_PASSWORD", "s3cret"),
            ("DATABASE_URL", "postgresql://shop_k:s3cret@postgres:5432/shop_k"),
            ("MONGO_URL", "mongodb://u:p@mongo:27017/"),
        ]);
        let services = vec!["postgres".to_string(), "mongo".to_string()];
        let config =
            doc("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop-k-config}\ndata: {APP_ENV: production}\n");
        let pg = doc("apiVersion: v1\nkind: Service\nmetadata: {name: shop-k-postgres}\n");
        let objects = prepare(&[doc(DEPLOYMENT), config, pg], &project(&env, &services)).unwrap();
        let secret = objects.iter().find(|o| o.kind == "Secret").expect("the Secret is made");
        assert_eq!(secret.name, "shop-k-secrets");
        assert_eq!(secret.source, ".env");
        let data = &secret.body["stringData"];
        assert_eq!(data["DATABASE_URL"], "postgresql://shop_k:s3cret@shop-k-postgres:5432/shop_k");
        assert_eq!(data["MONGO_URL"], "mongodb://u:p@mongo:27017/", "no mongo Service: the host stays");
        assert!(data.get("APP_ENV").is_none(), "the ConfigMap's keys stay the ConfigMap's");
        assert_eq!(data["POSTGRES_PASSWORD"], "s3cret");
        assert_eq!(secret.body["metadata"]["labels"][LABEL_PROJECT], "shop_k");
    }

    #[test]
    fn a_secret_that_k8s_defines_is_applied_as_written() {
        let env = env(&[("JWT_SECRET", "from-env")]);
        let secret = doc(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: shop-k-secrets}\nstringData: {JWT_SECRET: from-file}\n",
        );
        let objects = prepare(&[doc(DEPLOYMENT), secret], &project(&env, &[])).unwrap();
        let secrets: Vec<_> = objects.iter().filter(|o| o.kind == "Secret").collect();
        assert_eq!(secrets.len(), 1);
        assert_eq!(secrets[0].body["stringData"]["JWT_SECRET"], "from-file");
    }

    #[test]
    fn on_kind_a_node_port_service_fronts_the_apps_pods() {
        let env = BTreeMap::new();
        let service = doc(
            "apiVersion: v1\nkind: Service\nmetadata: {name: shop-k}\nspec: {selector: {app: shop}, ports: [{port: 80, targetPort: http}]}\n",
        );
        let other = doc("apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {selector: {app: db}}\n");
        let mut deployment = doc(DEPLOYMENT);
        deployment.body["spec"]["template"]["metadata"] = json!({"labels": {"app": "shop", "tier": "api"}});
        let objects = prepare(&[deployment, other, service], &project(&env, &[])).unwrap();
        let host = host_service(&objects, "labforge/shop_k-app:abc123", 30080).expect("a host Service");
        assert_eq!(host.body["metadata"]["name"], "shop-k-host");
        assert_eq!(host.body["spec"]["type"], "NodePort");
        assert_eq!(host.body["spec"]["selector"], json!({"app": "shop"}));
        assert_eq!(host.body["spec"]["ports"][0]["nodePort"], 30080);
        assert_eq!(host.body["spec"]["ports"][0]["targetPort"], "http");
        assert!(host_service(&objects, "other:1", 30080).is_none(), "no workload runs that image");
    }

    #[test]
    fn the_folder_is_read_in_kustomization_order_with_document_lines() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n").unwrap();
        std::fs::write(
            dir.path().join("a.yaml"),
            "# comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a1}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a2}\n",
        )
        .unwrap();
        let names = |docs: Vec<Document>| docs.iter().map(|d| d.source.clone()).collect::<Vec<_>>();
        assert_eq!(names(load(dir.path()).unwrap()), ["k8s/a.yaml:3", "k8s/a.yaml:7", "k8s/b.yaml:1"]);
        std::fs::write(dir.path().join("kustomization.yaml"), "resources: [b.yaml, a.yaml]\n").unwrap();
        assert_eq!(names(load(dir.path()).unwrap()), ["k8s/b.yaml:1", "k8s/a.yaml:3", "k8s/a.yaml:7"]);
        std::fs::write(dir.path().join("kustomization.yaml"), "resources: [b.yaml]\n").unwrap();
        let err = load(dir.path()).unwrap_err().to_string();
        assert_eq!(err, "k8s/a.yaml: not listed in k8s/kustomization.yaml: add it to `resources` there, or remove it");
        std::fs::remove_file(dir.path().join("a.yaml")).unwrap();
        std::fs::write(dir.path().join("kustomization.yaml"), "resources: [b.yaml]\npatches: []\n").unwrap();
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(err.starts_with("k8s/kustomization.yaml:") && err.contains("`patches`"), "{err}");
        std::fs::write(dir.path().join("kustomization.yaml"), "resources: [b.yaml]\n").unwrap();
        std::fs::write(dir.path().join("b.yaml"), "kind: [\n").unwrap();
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(err.starts_with("k8s/b.yaml:"), "{err}");
    }
}
