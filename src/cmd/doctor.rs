//! `labforge doctor`: one line per prerequisite, ✓ or ✗, with the fix.

use std::path::Path;

use crate::context::Context;
use crate::context::config::CA_ENV;
use crate::stack::docker::Engine;
use crate::stack::kind::PUBLISHED_ON;
use crate::stack::spec::ServiceKind;
use crate::ui::Shell;
use crate::{Error, Outcome};

/// The services whose ports the default stacks publish.
const DEFAULT_SERVICES: [ServiceKind; 3] = [ServiceKind::Postgres, ServiceKind::Mongo, ServiceKind::App];
/// Below this, image builds start failing.
const MIN_FREE_BYTES: u64 = 5 * 1024 * 1024 * 1024;

pub fn run(ctx: &Context, shell: &Shell) -> Result<Outcome, Error> {
    let mut required_ok = true;
    let mut docker_ok = true;
    let check = |ok: bool, text: String| {
        let mark = if ok { "✓" } else { "✗" };
        shell.line(format_args!("{mark} {text}"));
    };

    let engine = crate::base::runtime().block_on(super::docker(ctx));
    match &engine {
        Ok(engine) => {
            let info = engine.info();
            let api_ok = api_at_least(&info.api_version, (1, 41));
            check(
                true,
                format!("Docker reachable at {} (Engine {}, API {})", info.endpoint, info.version, info.api_version),
            );
            check(
                api_ok,
                if api_ok {
                    "Engine API 1.41 or newer".into()
                } else {
                    format!("Engine API {} is older than 1.41: upgrade Docker", info.api_version)
                },
            );
            required_ok &= api_ok;
        }
        Err(e) => {
            docker_ok = false;
            check(false, e.to_string());
        }
    }

    for path in ["/var/lib/docker", "."] {
        if let Some(free) = free_bytes(Path::new(path)) {
            let ok = free >= MIN_FREE_BYTES;
            let gib = free as f64 / (1024.0 * 1024.0 * 1024.0);
            check(
                ok,
                if ok {
                    format!("{gib:.1} GiB free on {path}")
                } else {
                    format!(
                        "only {gib:.1} GiB free on {path}: image builds need about 5 GiB (`docker system prune` frees space)"
                    )
                },
            );
            required_ok &= ok;
            break;
        }
    }

    for kind in DEFAULT_SERVICES {
        let (port, what) = (kind.port(), kind.title());
        let free = std::net::TcpListener::bind((PUBLISHED_ON, port)).is_ok();
        check(
            true,
            if free {
                format!("port {port} ({what}) is free")
            } else {
                format!("port {port} ({what}) is in use: `labforge up` will choose another (or stop the other process)")
            },
        );
    }

    match ctx.ca_bundle(None) {
        Ok(Some((path, _))) => check(true, format!("builds will trust the CA bundle {}", path.display())),
        Ok(None) => check(
            true,
            format!(
                "no extra CA for builds (behind a TLS-inspecting proxy, set one of {} or pass `up --ca-cert FILE`)",
                CA_ENV.join(", ")
            ),
        ),
        Err(e) => {
            required_ok = false;
            check(false, e.to_string());
        }
    }
    match ctx.user_config() {
        Ok(config) => {
            for (key, image) in &config.images {
                check(true, format!("{key} image replaced by {image} (from {})", config.image_sources[key]));
            }
        }
        Err(e) => {
            required_ok = false;
            check(false, e.to_string());
        }
    }

    for (tool, why, how) in [
        ("python3", "generated projects run their tests with it", "install Python 3.11+ from your package manager"),
        ("kind", "local Kubernetes clusters", "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"),
        ("kubectl", "inspecting clusters", "https://kubernetes.io/docs/tasks/tools/"),
        ("gh", "GitHub sign-in for CI set-up", "https://cli.github.com"),
    ] {
        match ctx.which(tool) {
            Some(path) => check(true, format!("{tool} found at {} ({why})", path.display())),
            None => check(false, format!("{tool} not found ({why}): {how}")),
        }
    }
    if !docker_ok {
        return Ok(Outcome::Unreachable);
    }
    Ok(if required_ok { Outcome::Success } else { Outcome::Failed })
}

fn api_at_least(version: &str, min: (u32, u32)) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= min
}

fn free_bytes(path: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(path).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}
