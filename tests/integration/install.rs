//! `install.sh`, driven with a recording stand-in for `cargo` on PATH: the real `cargo install`
//! is cargo's own business; what the script decides and reports is ours.

use std::path::Path;
use std::process::Command;

/// A fake `cargo` that records its arguments and "installs" a labforge that prints a version.
fn fake_cargo(bin: &Path, log: &Path) {
    let script = format!(
        r#"#!/bin/sh
echo "$@" >> {log}
root=""
while [ $# -gt 0 ]; do
  if [ "$1" = "--root" ]; then root="$2"; fi
  shift
done
[ -n "$root" ] || root="$CARGO_HOME"
mkdir -p "$root/bin"
printf '#!/bin/sh\necho "labforge 9.9.9"\n' > "$root/bin/labforge"
chmod +x "$root/bin/labforge"
"#,
        log = log.display()
    );
    std::fs::write(bin.join("cargo"), script).unwrap();
    let mut perms = std::fs::metadata(bin.join("cargo")).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(bin.join("cargo"), perms).unwrap();
}

fn install(path: &str, args: &[&str], cargo_home: &Path) -> (i32, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh");
    let out =
        Command::new("bash").arg(script).args(args).env("PATH", path).env("CARGO_HOME", cargo_home).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

#[test]
fn installs_with_a_prefix_twice_and_reports_optional_tools() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("fakebin");
    std::fs::create_dir(&bin).unwrap();
    let log = dir.path().join("cargo.log");
    fake_cargo(&bin, &log);
    let prefix = dir.path().join("prefix");
    let path = format!("{}:/usr/bin:/bin", bin.display());
    for _ in 0..2 {
        let (code, out) = install(&path, &["--prefix", prefix.to_str().unwrap()], &dir.path().join("cargo-home"));
        assert_eq!(code, 0, "{out}");
        assert!(out.contains(&format!("✓ labforge 9.9.9 installed in {}/bin", prefix.display())), "{out}");
        assert!(out.contains("is not on PATH"), "the prefix is not on PATH, and the script says so:\n{out}");
        for tool in ["docker", "kind", "kubectl", "gh"] {
            assert!(
                out.contains(&format!("✓ {tool} (")) || out.contains(&format!("✗ {tool} missing (")),
                "{tool} not reported:\n{out}"
            );
        }
        if !Path::new("/usr/bin/kind").exists() && !Path::new("/bin/kind").exists() {
            assert!(
                out.contains("✗ kind missing (a local Kubernetes cluster): https://kind.sigs.k8s.io"),
                "a missing tool comes with how to get it:\n{out}"
            );
        }
    }
    let calls = std::fs::read_to_string(&log).unwrap();
    let expected = format!("install --quiet --path . --locked --force --root {}", prefix.display());
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        vec![expected.as_str(), expected.as_str()],
        "idempotent: the same install each time"
    );
}

#[test]
fn without_a_rust_toolchain_it_says_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = install("/usr/bin:/bin", &[], dir.path());
    if Path::new("/usr/bin/cargo").exists() || Path::new("/bin/cargo").exists() {
        panic!("this test needs cargo to be outside /usr/bin and /bin");
    }
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no Rust toolchain found") && out.contains("https://rustup.rs"), "{out}");
}

#[test]
fn an_unknown_option_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = install("/usr/bin:/bin", &["--frobnicate"], dir.path());
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("unknown option --frobnicate"), "{out}");
}
