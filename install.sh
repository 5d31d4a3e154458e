#!/usr/bin/env bash
# Installs labforge from this checkout and reports the optional tools its commands use.
#
#   ./install.sh                 install into cargo's bin folder (~/.cargo/bin)
#   ./install.sh --prefix DIR    install into DIR/bin
#
# Safe to run again: it rebuilds and replaces the installed binary.
set -euo pipefail

prefix=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
        --prefix=*) prefix="${1#--prefix=}"; shift ;;
        -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown option $1 (see ./install.sh --help)" >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")"

if ! command -v cargo >/dev/null 2>&1; then
    echo "error: no Rust toolchain found (cargo is not on PATH)." >&2
    echo "       Install one from https://rustup.rs, then run ./install.sh again." >&2
    exit 2
fi

echo "Building and installing labforge (cargo install --path . --locked)..."
if [ -n "$prefix" ]; then
    cargo install --quiet --path . --locked --force --root "$prefix"
    bin_dir="$prefix/bin"
else
    cargo install --quiet --path . --locked --force
    bin_dir="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin"
fi
echo "  ✓ labforge $("$bin_dir/labforge" --version | cut -d' ' -f2) installed in $bin_dir"
case ":$PATH:" in
    *":$bin_dir:"*) ;;
    *) echo "  ! $bin_dir is not on PATH: add it, e.g. export PATH=\"$bin_dir:\$PATH\"" ;;
esac

echo "Optional tools:"
check() {
    local name="$1" why="$2" how="$3"
    if command -v "$name" >/dev/null 2>&1; then
        echo "  ✓ $name ($why)"
    else
        echo "  ✗ $name missing ($why): $how"
    fi
}
check python3 "generated projects and their tests; 3.11 or newer" "install Python 3.11+ from your package manager or https://www.python.org"
check docker "runs the project's stack" "https://docs.docker.com/engine/install/"
check kind "a local Kubernetes cluster" "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
check kubectl "inspects the cluster" "https://kubernetes.io/docs/tasks/tools/"
check gh "GitHub sign-in for CI set-up" "https://cli.github.com"
