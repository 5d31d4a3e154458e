//! `labforge deploy`, `undeploy`, `logs --cluster` and `cluster` against an emulated Kubernetes
//! API server (`tests/k8s/emulator.py`, kmock's emulator with scripted controllers), real Docker
//! builds, a real registry (Debian's docker-registry) and a fake `kind` on PATH
//! (`tests/k8s/fake-kind`). No cluster can run on the test machines; `e2e_kind` runs the same
//! flow on a real kind cluster where one can (`LABFORGE_E2E_KIND=1`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::k8s::Emulator;
use crate::support::labforge_bin;
use crate::support::stack::{self, PYTHON_IMAGE, Registry, StackProject, text};

/// `labforge ARGS` in the project, against the emulator's kubeconfig.
fn labforge(project: &StackProject, emulator: &Emulator, args: &[&str]) -> Output {
    project.command(args).env("KUBECONFIG", emulator.kubeconfig()).output().expect("run labforge")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", text(out)))
}

fn step<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no step {name}: {report:#}"))
}

fn changes(report: &Value) -> Vec<(String, String)> {
    report["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["object"].as_str().unwrap().to_string(), a["change"].as_str().unwrap().to_string()))
        .collect()
}

/// The whole loop on one project: build, push, pull by digest, apply, wait, prove; again with
/// nothing changed (no write, under a second); a changed manifest patched; logs; undeploy of
/// labforge's objects only.
#[test]
fn deploy_applies_waits_proves_then_changes_only_what_changed_and_undeploys_only_its_own() {
    let _docker = stack::exclusive();
    let registry = Registry::start();
    let project = StackProject::new("kshop", &[]);
    let emulator = Emulator::start_with("healthy", &["--rollout-delay-ms", "200"]);
    let prefix = format!("{}/labforge", registry.address);

    // --dry-run: the server validates every object and stores none; nothing is pushed.
    let out = labforge(&project, &emulator, &["deploy", "--registry", &prefix, "--dry-run", "--json"]);
    let dry = json(&out);
    assert!(out.status.success(), "dry run failed:\n{dry:#}\n{}", text(&out));
    assert_eq!(dry["dry_run"], true);
    assert!(changes(&dry).iter().all(|(_, c)| c == "created"), "{:?}", changes(&dry));
    assert!(emulator.requests().iter().any(|r| r["path"].as_str().unwrap().contains("dryRun=All")), "sent as dry runs");
    assert_eq!(emulator.writes(), Vec::<Value>::new(), "a dry run writes nothing");
    assert!(emulator.get("/apis/apps/v1/namespaces/default/deployments/kshop").is_none());
    assert!(dry["rollout"].is_null() && dry["answers"].as_array().unwrap().is_empty());
    let registry_port: u16 = registry.address.rsplit(':').next().unwrap().parse().unwrap();
    let tags = stack::http(registry_port, "GET", "/v2/labforge/kshop-app/tags/list", None);
    assert_eq!(tags.map(|(s, _)| s), Some(404), "nothing pushed by a dry run");

    let out = labforge(&project, &emulator, &["deploy", "--registry", &prefix, "--json"]);
    let report = json(&out);
    assert!(out.status.success(), "deploy failed:\n{report:#}\n{}\n{}", text(&out), emulator.log());
    let image = report["image"].as_str().unwrap();
    assert!(image.starts_with(&format!("{prefix}/kshop-app@sha256:")), "pulled by digest: {image}");
    let deployment = emulator.get("/apis/apps/v1/namespaces/default/deployments/kshop").expect("the Deployment");
    for list in ["initContainers", "containers"] {
        assert_eq!(deployment["spec"]["template"]["spec"][list][0]["image"], image, "{list} run the pushed image");
    }
    assert_eq!(deployment["metadata"]["labels"]["io.labforge.project"], "kshop");
    let digest = image.rsplit('@').next().unwrap();
    let manifest = stack::http(registry_port, "HEAD", &format!("/v2/labforge/kshop-app/manifests/{digest}"), None);
    assert_eq!(manifest.map(|(s, _)| s), Some(200), "the registry holds the digest the Deployment pulls");
    let created: Vec<_> = changes(&report).into_iter().filter(|(_, c)| c == "created").map(|(o, _)| o).collect();
    for object in [
        "Secret/kshop-secrets",
        "ConfigMap/kshop-config",
        "Service/kshop",
        "StatefulSet/kshop-postgres",
        "Deployment/kshop",
    ] {
        assert!(created.contains(&object.to_string()), "{object} created: {created:?}");
    }
    let answers = report["answers"].as_array().unwrap();
    assert_eq!(
        answers.iter().map(|a| (a["path"].as_str().unwrap(), a["status"].as_u64().unwrap())).collect::<Vec<_>>(),
        [("/health", 200), ("/ready", 200)]
    );
    assert!(answers[0]["via"].as_str().unwrap().starts_with("port-forward to pod/kshop-"), "{answers:?}");
    for name in ["cluster", "image", "apply", "rollout", "answers"] {
        assert_eq!(step(&report, name)["ok"], true, "{name}");
    }
    // The Secret reached the cluster; its values never reach the output.
    let secret = emulator.get("/api/v1/namespaces/default/secrets/kshop-secrets").expect("the Secret");
    assert!(secret.to_string().contains(&project.env("POSTGRES_PASSWORD")));
    let terminal = labforge(&project, &emulator, &["deploy", "--registry", &prefix]);
    for out in [&out, &terminal] {
        for secret in ["POSTGRES_PASSWORD", "DATABASE_URL", "JWT_SECRET"] {
            let value = project.env(secret);
            assert!(!text(out).contains(&value), "{secret}'s value is printed:\n{}", text(out));
        }
    }

    // status --cluster: each workload's ready replicas and rollout.
    let out = labforge(&project, &emulator, &["status", "--cluster", "--json"]);
    let status = json(&out);
    assert!(out.status.success(), "{status:#}");
    let rows: Vec<(String, i64, i64, String)> = status["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["object"].as_str().unwrap().into(),
                w["ready"].as_i64().unwrap(),
                w["desired"].as_i64().unwrap(),
                w["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("StatefulSet/kshop-postgres".into(), 1, 1, "complete".into()),
            ("Deployment/kshop".into(), 2, 2, "complete".into())
        ]
    );

    // Nothing changed: nothing written, and it is quick.
    emulator.clear_requests();
    let started = Instant::now();
    let out = labforge(&project, &emulator, &["deploy", "--registry", &prefix, "--json"]);
    let elapsed = started.elapsed();
    let again = json(&out);
    assert!(out.status.success(), "{again:#}");
    assert!(changes(&again).iter().all(|(_, c)| c == "unchanged"), "{:?}", changes(&again));
    assert_eq!(emulator.writes(), Vec::<Value>::new(), "a no-op deploy writes nothing");
    assert!(step(&again, "image")["detail"].as_str().unwrap().contains("already pushed"));
    assert!(elapsed < Duration::from_secs(2), "a no-op deploy took {elapsed:?}");

    // One ConfigMap value changed: that object alone is applied, as a patch.
    let path = project.dir.join("k8s/configmap.yaml");
    let config = std::fs::read_to_string(&path).unwrap().replace("LOG_LEVEL: INFO", "LOG_LEVEL: DEBUG");
    std::fs::write(&path, config).unwrap();
    emulator.clear_requests();
    let out = labforge(&project, &emulator, &["deploy", "--registry", &prefix, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let writes = emulator.writes();
    assert_eq!(writes.len(), 1, "{writes:#?}");
    assert_eq!(writes[0]["method"], "PATCH");
    assert_eq!(writes[0]["content_type"], "application/apply-patch+yaml");
    assert!(writes[0]["path"].as_str().unwrap().starts_with("/api/v1/namespaces/default/configmaps/kshop-config?"));
    assert!(writes[0]["path"].as_str().unwrap().contains("fieldManager=labforge"));
    let live = emulator.get("/api/v1/namespaces/default/configmaps/kshop-config").unwrap();
    assert_eq!(live["data"]["LOG_LEVEL"], "DEBUG");

    // logs --cluster reads the pods' logs.
    let out = labforge(&project, &emulator, &["logs", "--cluster", "--tail", "5"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).lines().any(|l| l.starts_with("kshop-")), "{}", text(&out));

    // Objects of the project that labforge did not apply, and others', stay.
    let foreign = serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "kshop-notes", "labels": {"io.labforge.project": "kshop"}}, "data": {"a": "b"}
    });
    emulator.post("/api/v1/namespaces/default/configmaps?fieldManager=kubectl", &foreign);
    let out = labforge(&project, &emulator, &["undeploy", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let deleted: Vec<String> =
        json(&out)["deleted"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_string()).collect();
    for object in [
        "Deployment/kshop",
        "StatefulSet/kshop-postgres",
        "Service/kshop",
        "ConfigMap/kshop-config",
        "Secret/kshop-secrets",
    ] {
        assert!(deleted.contains(&object.to_string()), "{object} deleted: {deleted:?}");
    }
    assert!(emulator.get("/apis/apps/v1/namespaces/default/deployments/kshop").is_none());
    assert!(emulator.get("/api/v1/namespaces/default/configmaps/kshop-notes").is_some(), "not labforge's: kept");
    let out = labforge(&project, &emulator, &["undeploy"]);
    assert!(out.status.success() && text(&out).contains("nothing of this project's to remove"), "{}", text(&out));
    let out = labforge(&project, &emulator, &["status", "--cluster"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("Deployment/kshop") && text(&out).contains("missing"), "{}", text(&out));
}

/// Every stuck rollout ends with what is wrong and how to fix it, exit 1; those that will not
/// heal by waiting end long before the deadline.
#[test]
fn every_stuck_rollout_is_explained_with_its_fix() {
    let _docker = stack::exclusive();
    let registry = Registry::start();
    let project = StackProject::new("kstuck", &[]);
    let prefix = format!("{}/labforge", registry.address);
    let cases: &[(&str, &str, &[&str], bool)] = &[
        ("image-pull-backoff", "ImagePullBackOff", &["cannot be pulled", "--registry"], true),
        (
            "crashloop",
            "CrashLoopBackOff",
            &["exits with code 1", "could not translate host name", "labforge up --prod"],
            true,
        ),
        ("oomkilled", "OOMKilled", &["512Mi", "limits.memory"], true),
        ("missing-secret-key", "CreateContainerConfigError", &["add ", "to the project's .env"], true),
        ("pending-unschedulable", "Pending", &["Insufficient memory", "resources.requests.memory"], false),
        ("pending-pvc", "Pending", &["StorageClass"], false),
        ("probe-failing", "not ready", &["GET /ready on port 8000", "statuscode: 503"], false),
        ("never", "not complete after 4s", &[], false),
    ];
    // The image is built and pushed once beforehand, so the times below are the rollout's alone.
    let warm = Emulator::start_with("healthy", &["--rollout-delay-ms", "0"]);
    let out = labforge(&project, &warm, &["deploy", "--registry", &prefix]);
    assert!(out.status.success(), "{}", text(&out));
    for (scenario, problem, says, early) in cases {
        let emulator = Emulator::start_with(scenario, &["--rollout-delay-ms", "100"]);
        let started = Instant::now();
        let timeout = if *early { "60" } else { "4" };
        let out = labforge(&project, &emulator, &["deploy", "--registry", &prefix, "--timeout", timeout]);
        let elapsed = started.elapsed();
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{scenario}: exit 1\n{all}\n{}", emulator.log());
        assert!(all.contains(problem), "{scenario}: says {problem}\n{all}");
        for said in *says {
            assert!(all.contains(said), "{scenario}: says {said:?}\n{all}");
        }
        assert!(all.contains("fix: "), "{scenario}: a fix\n{all}");
        if *early {
            assert!(elapsed < Duration::from_secs(20), "{scenario}: found at once, not at the deadline ({elapsed:?})");
        }
    }
}

/// Ctrl-C while the rollout is awaited: labforge stops at once with 130, the cluster keeps what
/// was applied (the next deploy finds it unchanged).
#[test]
fn ctrl_c_during_the_rollout_wait_exits_130_at_once() {
    let _docker = stack::exclusive();
    let registry = Registry::start();
    let project = StackProject::new("kint", &["--db", "none"]);
    let prefix = format!("{}/labforge", registry.address);
    let emulator = Emulator::start("never");
    let child = project
        .command(&["deploy", "--registry", &prefix, "--timeout", "120"])
        .env("KUBECONFIG", emulator.kubeconfig())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    stack::eventually(Duration::from_secs(120), "the rollout is being watched", || {
        emulator.requests().iter().any(|r| r["path"].as_str().unwrap_or("").contains("watch=true")).then_some(())
    });
    let interrupted = Instant::now();
    rustix::process::kill_process(rustix::process::Pid::from_child(&child), rustix::process::Signal::INT).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert!(interrupted.elapsed() < Duration::from_secs(5), "stopped at once, not at the deadline");
    assert!(emulator.get("/apis/apps/v1/namespaces/default/deployments/kint").is_some(), "what was applied stays");
}

/// A status from before the change proves nothing; the real one is noticed at once (a watch, not
/// a poll), measured against the emulator's own clock.
#[test]
fn the_rollout_wait_ignores_stale_status_and_notices_completion_at_once() {
    let _docker = stack::exclusive();
    let registry = Registry::start();
    let project = StackProject::new("kstale", &["--db", "none"]);
    let prefix = format!("{}/labforge", registry.address);
    let emulator = Emulator::start_with("stale", &["--rollout-delay-ms", "1500"]);
    let out = labforge(&project, &emulator, &["deploy", "--registry", &prefix, "--json"]);
    assert!(out.status.success(), "{}\n{}", text(&out), emulator.log());
    let available =
        emulator.available()["deployments/default/kstale"].as_f64().expect("the emulator noted availability");
    // After the rollout labforge lists the app's pods to prove it answers: its first request after.
    let noticed = emulator
        .requests()
        .iter()
        .filter(|r| r["method"] == "GET" && r["path"].as_str().unwrap().starts_with("/api/v1/namespaces/default/pods?"))
        .filter_map(|r| r["time"].as_f64())
        .find(|t| *t >= available - 0.001);
    let noticed = noticed.expect("labforge looked at the pods after the rollout");
    let early: Vec<_> = emulator
        .requests()
        .iter()
        .filter(|r| {
            r["method"] == "GET"
                && r["path"].as_str().unwrap().contains("/pods/")
                && r["path"].as_str().unwrap().contains("portforward")
        })
        .filter_map(|r| r["time"].as_f64())
        .filter(|t| *t < available)
        .collect();
    assert!(early.is_empty(), "labforge believed the stale status: it asked the app before the rollout ended");
    let lag = noticed - available;
    assert!(lag <= 0.25, "noticed {lag:.3}s after the Deployment became available");
}

#[test]
fn bad_kubernetes_input_is_refused_before_anything_is_built_or_applied() {
    let emulator = Emulator::start("healthy");
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("kbad");
    let new = Command::new(labforge_bin())
        .args(["new", "kbad", "--yes", "--db", "none", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(new.status.success(), "{}", text(&new));
    let run = |args: &[&str], kubeconfig: &Path| {
        Command::new(labforge_bin())
            .args(args)
            .current_dir(&dir)
            .env("NO_COLOR", "1")
            .env("KUBECONFIG", kubeconfig)
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .output()
            .unwrap()
    };
    let usage = |args: &[&str], kubeconfig: &Path, says: &str| {
        let out = run(args, kubeconfig);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{args:?}: exit 2\n{}", text(&out));
        assert!(err.contains(says), "{args:?}: says {says:?}\n{err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line\n{err}");
    };
    let config = emulator.kubeconfig();
    usage(&["deploy", "--namespace", "Team_A"], &config, "--namespace \"Team_A\"");
    usage(
        &["deploy", "--context", "prod"],
        &config,
        "--context prod: no such context in the kubeconfig (it has: emulator)",
    );
    usage(&["deploy", "--registry", "http://localhost:5001/x"], &config, "--registry");
    usage(&["deploy", "--timeout", "0"], &config, "--timeout");
    usage(&["deploy"], &root.path().join("missing-kubeconfig"), "labforge cluster create");
    usage(&["deploy"], &config, "is not a kind cluster");
    let closed = root.path().join("closed.yaml");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    std::fs::write(
        &closed,
        std::fs::read_to_string(&config).unwrap().replace(&emulator.port().to_string(), &port.to_string()),
    )
    .unwrap();
    let started = Instant::now();
    usage(&["deploy", "--registry", "localhost:5001/x"], &closed, "cannot reach the cluster of context emulator");
    assert!(started.elapsed() < Duration::from_secs(10));
    // A broken manifest is found before the cluster or Docker are asked anything.
    std::fs::write(dir.join("k8s/extra.yaml"), "apiVersion: v1\nmetadata:\n  name: x\n").unwrap();
    emulator.clear_requests();
    usage(
        &["deploy", "--registry", "localhost:5001/x"],
        &config,
        "k8s/extra.yaml: not listed in k8s/kustomization.yaml",
    );
    let kustomization = dir.join("k8s/kustomization.yaml");
    let listed = std::fs::read_to_string(&kustomization)
        .unwrap()
        .replace("  - service.yaml", "  - service.yaml\n  - extra.yaml");
    std::fs::write(&kustomization, listed).unwrap();
    usage(&["deploy", "--registry", "localhost:5001/x"], &config, "k8s/extra.yaml:1: the document has no kind");
    assert_eq!(emulator.requests(), Vec::<Value>::new());
}

/// A scratch folder holding the fake `kind` as `kind` on a PATH of its own.
struct FakeKind {
    root: tempfile::TempDir,
}

impl FakeKind {
    fn new() -> FakeKind {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("bin")).unwrap();
        std::fs::create_dir(root.path().join("state")).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/k8s/fake-kind");
        std::os::unix::fs::symlink(script, root.path().join("bin/kind")).unwrap();
        FakeKind { root }
    }

    fn path(&self) -> String {
        format!("{}:{}", self.root.path().join("bin").display(), std::env::var("PATH").unwrap_or_default())
    }

    fn state(&self) -> PathBuf {
        self.root.path().join("state")
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.state().join("calls")).unwrap_or_default().lines().map(str::to_string).collect()
    }

    fn kubeconfig(&self) -> PathBuf {
        self.root.path().join("kubeconfig")
    }

    fn command(&self, emulator: &Emulator, args: &[&str]) -> Command {
        let mut cmd = Command::new(labforge_bin());
        cmd.args(args)
            .env("NO_COLOR", "1")
            .env("PATH", self.path())
            .env("FAKE_KIND_STATE", self.state())
            .env("FAKE_KIND_SERVER", format!("http://127.0.0.1:{}", emulator.port()))
            .env("KUBECONFIG", self.kubeconfig());
        cmd
    }
}

#[test]
fn cluster_create_maps_loopback_only_reuses_an_existing_cluster_and_delete_is_idempotent() {
    let emulator = Emulator::start("healthy");
    let kind = FakeKind::new();
    let out = kind.command(&emulator, &["cluster", "create", "--name", "lab", "--port", "8089"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let config: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(kind.state().join("config-lab.yaml")).unwrap()).unwrap();
    let mappings = config["nodes"][0]["extraPortMappings"].as_array().unwrap();
    assert!(!mappings.is_empty() && mappings.iter().all(|m| m["listenAddress"] == "127.0.0.1"), "{config:#}");
    assert_eq!(mappings[0]["hostPort"], 8089);
    assert!(config.get("containerdConfigPatches").is_none(), "no registry asked");
    assert!(text(&out).contains("context kind-lab"), "{}", text(&out));

    let out = kind.command(&emulator, &["cluster", "create", "--name", "lab"]).output().unwrap();
    assert!(out.status.success() && text(&out).contains("lab exists: using it"), "{}", text(&out));
    assert_eq!(kind.calls().iter().filter(|c| c.starts_with("create cluster")).count(), 1, "{:?}", kind.calls());

    let out = kind.command(&emulator, &["cluster", "status", "--name", "lab", "--json"]).output().unwrap();
    let status = json(&out);
    assert!(out.status.success(), "{status:#}");
    assert_eq!(status["nodes"], serde_json::json!(["lab-control-plane"]));
    assert!(status["reachable"].as_str().unwrap().starts_with("the API server answers"));

    let out = kind.command(&emulator, &["cluster", "delete", "--name", "lab"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let out = kind.command(&emulator, &["cluster", "delete", "--name", "lab"]).output().unwrap();
    assert!(out.status.success() && text(&out).contains("nothing to delete"), "{}", text(&out));
    let out = kind.command(&emulator, &["cluster", "status", "--name", "lab"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // No kind: exit 2 with how to install it.
    let out = Command::new(labforge_bin()).args(["cluster", "create"]).env("PATH", "/nonexistent").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kind is not installed: install it"), "{}", text(&out));
    let out = kind.command(&emulator, &["cluster", "create", "--name", "Lab_1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// Ctrl-C while kind creates the cluster: kind is stopped and what it made is deleted.
#[test]
fn an_interrupted_cluster_create_leaves_no_half_cluster() {
    let _docker = stack::exclusive();
    stack::images();
    let emulator = Emulator::start("healthy");
    let kind = FakeKind::new();
    let _ = Command::new("docker").args(["rm", "-f", "half-control-plane"]).output();
    let child = kind
        .command(&emulator, &["cluster", "create", "--name", "half"])
        .env("FAKE_KIND_HANG", "1")
        .env("FAKE_KIND_NODE_IMAGE", PYTHON_IMAGE)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    stack::eventually(Duration::from_secs(60), "kind made the node", || {
        (!stack::docker(&["ps", "-q", "--filter", "name=^half-control-plane$"]).trim().is_empty()).then_some(())
    });
    rustix::process::kill_process(rustix::process::Pid::from_child(&child), rustix::process::Signal::INT).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert!(kind.calls().iter().any(|c| c.starts_with("delete cluster --name half")), "{:?}", kind.calls());
    assert_eq!(std::fs::read_to_string(kind.state().join("clusters")).unwrap().trim(), "", "kind forgot the cluster");
    assert!(
        stack::docker(&["ps", "-aq", "--filter", "name=^half-control-plane$"]).trim().is_empty(),
        "the node is gone"
    );
}

/// On kind, the image goes to the node by `kind load` — only when the node lacks that image id —
/// and `--registry` runs a registry wired into the nodes as KEP-1755 describes.
#[test]
fn on_kind_the_image_is_loaded_only_when_the_node_lacks_it_and_the_registry_is_wired() {
    let _docker = stack::exclusive();
    stack::images();
    let emulator = Emulator::start_with("healthy", &["--rollout-delay-ms", "100"]);
    let kind = FakeKind::new();
    let cleanup = || {
        let _ = Command::new("docker").args(["rm", "-f", "kl-control-plane", "kind-registry"]).output();
    };
    cleanup();
    // A stand-in registry image: it only has to run and listen (the wiring is what is tested).
    let context = tempfile::tempdir().unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        format!("FROM {PYTHON_IMAGE}\nCMD [\"python3\", \"-m\", \"http.server\", \"5000\"]\n"),
    )
    .unwrap();
    stack::docker(&["build", "-q", "-t", "labforge-test/registry:stand-in", context.path().to_str().unwrap()]);

    let host_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let create = kind
        .command(
            &emulator,
            &[
                "cluster",
                "create",
                "--name",
                "kl",
                "--port",
                &host_port,
                "--registry",
                "--registry-port",
                "5071",
                "--registry-image",
                "labforge-test/registry:stand-in",
            ],
        )
        .env("FAKE_KIND_NODE_IMAGE", PYTHON_IMAGE)
        .env("FAKE_KIND_PUBLISH", &host_port)
        .output()
        .unwrap();
    assert!(create.status.success(), "{}\n{}", text(&create), emulator.log());
    let config: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(kind.state().join("config-kl.yaml")).unwrap()).unwrap();
    assert!(
        config["containerdConfigPatches"][0].as_str().unwrap().contains("config_path = \"/etc/containerd/certs.d\"")
    );
    let hosts =
        stack::docker(&["exec", "kl-control-plane", "cat", "/etc/containerd/certs.d/localhost:5071/hosts.toml"]);
    assert_eq!(hosts.trim(), "[host.\"http://kind-registry:5000\"]");
    let published = stack::docker(&["port", "kind-registry", "5000/tcp"]);
    assert_eq!(published.trim(), "127.0.0.1:5071", "the registry listens on loopback only");
    let networks = stack::docker(&[
        "inspect",
        "-f",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
        "kind-registry",
    ]);
    assert!(networks.split_whitespace().any(|n| n == "kind"), "on kind's network: {networks}");
    let hosting =
        emulator.get("/api/v1/namespaces/kube-public/configmaps/local-registry-hosting").expect("KEP-1755 ConfigMap");
    assert!(hosting["data"]["localRegistryHosting.v1"].as_str().unwrap().contains("host: \"localhost:5071\""));

    // deploy on the kind context: load once, then never again for the same image id.
    let project = StackProject::new("kload", &["--db", "none"]);
    let deploy = || {
        project
            .command(&["deploy", "--json"])
            .env("PATH", kind.path())
            .env("FAKE_KIND_STATE", kind.state())
            .env("KUBECONFIG", kind.kubeconfig())
            .output()
            .unwrap()
    };
    let out = deploy();
    let report = json(&out);
    assert!(out.status.success(), "{report:#}\n{}", text(&out));
    let image = report["image"].as_str().unwrap();
    assert!(image.starts_with("labforge/kload-app:") && !image.ends_with(":latest"), "{image}");
    assert!(step(&report, "image")["detail"].as_str().unwrap().contains("loaded into kl-control-plane"), "{report:#}");
    assert_eq!(kind.calls().iter().filter(|c| c.starts_with("load docker-image")).count(), 1);
    // The node publishes the node port on the host: a NodePort Service makes the app reachable.
    assert_eq!(report["url"], format!("http://127.0.0.1:{host_port}"));
    let host = emulator.get("/api/v1/namespaces/default/services/kload-host").expect("the NodePort Service");
    assert_eq!(host["spec"]["type"], "NodePort");
    assert_eq!(host["spec"]["ports"][0]["nodePort"], 30080);
    assert_eq!(host["spec"]["selector"]["app.kubernetes.io/name"], "kload");
    let out = deploy();
    assert!(out.status.success(), "{}", text(&out));
    assert!(step(&json(&out), "image")["detail"].as_str().unwrap().contains("already on the node"));
    assert_eq!(kind.calls().iter().filter(|c| c.starts_with("load docker-image")).count(), 1, "{:?}", kind.calls());

    let out = kind.command(&emulator, &["cluster", "delete", "--name", "kl"]).output().unwrap();
    assert!(out.status.success() && text(&out).contains("registry kind-registry"), "{}", text(&out));
    cleanup();
}

/// The real thing, where kind can run: `LABFORGE_E2E_KIND=1 cargo test e2e_kind`.
#[test]
fn e2e_kind() {
    if std::env::var("LABFORGE_E2E_KIND").as_deref() != Ok("1") {
        eprintln!("e2e_kind: SKIPPED (set LABFORGE_E2E_KIND=1 on a machine where kind runs)");
        return;
    }
    let project = StackProject::new("ke2e", &[]);
    let run = |args: &[&str]| {
        let out = Command::new(labforge_bin()).args(args).current_dir(&project.dir).output().unwrap();
        assert!(out.status.success(), "{args:?}:\n{}", text(&out));
        out
    };
    run(&["cluster", "create", "--name", "labforge-e2e"]);
    run(&["deploy", "--context", "kind-labforge-e2e", "--timeout", "300"]);
    run(&["deploy", "--context", "kind-labforge-e2e"]);
    run(&["undeploy", "--context", "kind-labforge-e2e"]);
    run(&["cluster", "delete", "--name", "labforge-e2e"]);
}

/// The emulator the tests above trust is itself tested: its own suite (apply, generation, watch,
/// scenarios, port-forward) against the emulator as a subprocess.
#[test]
fn the_api_emulator_passes_its_own_tests() {
    let out = crate::support::python::tool("python")
        .args(["-m", "unittest", "discover", "-s"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/k8s"))
        .output()
        .unwrap();
    assert!(out.status.success(), "tests/k8s/test_emulator.py:\n{}", text(&out));
    let report = String::from_utf8_lossy(&out.stderr);
    let ran: usize =
        report.lines().find_map(|l| l.strip_prefix("Ran ")?.split_whitespace().next()?.parse().ok()).unwrap_or(0);
    assert!(ran >= 10, "the emulator's suite ran {ran} tests:\n{report}");
}

/// `lab selftest kubernetes` on a cluster: the starter and then the solution are built, pushed,
/// deployed and checked, the `k8s` checks included, and removed afterwards. Without a cluster the
/// same selftest proves the manifest part and names each check it could not run.
#[test]
fn the_kubernetes_lab_proves_itself_on_a_cluster_and_its_manifests_without_one() {
    let _docker = stack::exclusive();
    stack::images();
    let registry = Registry::start();
    let emulator = Emulator::start_with("healthy", &["--rollout-delay-ms", "0"]);
    let scratch = tempfile::tempdir().unwrap();
    let selftest = |kubeconfig: &Path| {
        let out = Command::new(labforge_bin())
            .args(["lab", "selftest", "kubernetes", "--json", "--registry", &format!("{}/labforge", registry.address)])
            .current_dir(scratch.path())
            .env_remove("LABFORGE_LABS")
            .env("KUBECONFIG", kubeconfig)
            .env("LABFORGE_IMAGE_PYTHON", PYTHON_IMAGE)
            .env("PIP_CERT", stack::ca_bundle())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}:\n{}", text(&out)));
        (out, doc["labs"][0].clone())
    };

    let (out, lab) = selftest(&emulator.kubeconfig());
    assert!(out.status.success() && lab["passed"] == true, "{lab:#}\n{}\n{}", text(&out), emulator.log());
    assert_eq!(lab["skipped"], serde_json::json!([]), "every check ran");
    // The solution reached the cluster: three replicas, probes, the ConfigMap; then it was removed.
    let applied: Vec<Value> = emulator
        .writes()
        .into_iter()
        .filter(|w| w["method"] == "PATCH" && w["path"].as_str().unwrap().contains("/deployments/selftest-kubernetes?"))
        .collect();
    let kinds: Vec<&str> = applied.iter().map(|w| w["content_type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["application/apply-patch+yaml", "application/merge-patch+json"].repeat(2),
        "the starter, then the solution: each applied, then its pods restarted under traffic: {applied:#?}"
    );
    assert!(
        emulator
            .writes()
            .iter()
            .any(|w| w["path"].as_str().unwrap().contains("/configmaps/selftest-kubernetes-config"))
    );
    assert!(emulator.get("/apis/apps/v1/namespaces/default/deployments/selftest-kubernetes").is_none(), "undeployed");

    let (out, lab) = selftest(&scratch.path().join("no-kubeconfig"));
    assert!(out.status.success() && lab["passed"] == true, "{lab:#}\n{}", text(&out));
    let skipped: Vec<&str> = lab["skipped"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert_eq!(skipped.len(), 7, "{skipped:?}");
    assert!(skipped.contains(&"scale / three replicas are available"), "{skipped:?}");
    assert!(lab["not_run"].as_str().unwrap().contains("no kubeconfig found"), "{lab:#}");
}
