#!/usr/bin/env bash
# `labforge lab start` with the stand-in base images present, every phase timed, for two labs of
# one template (default: http-rest, then validation: the same dependencies):
#   cold: an empty labforge cache (LABFORGE_CACHE_DIR) and no development image for them (see
#         below for Docker's own layer cache);
#   warm: the same two labs again, into new folders, with what the cold round left.
#
#   tests/bench/labstart.sh [FIRST SECOND]
#
# Prints each run's wall-clock time and labforge's own phase lines (Started / Installed / Built or
# Found / Ready). LABFORGE_BIN names the binary (else a release build of this tree).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tests/bench/lib.sh
first=${1:-http-rest}
second=${2:-validation}
work=$(mktemp -d)
export LABFORGE_CACHE_DIR="$work/cache"
started=()
cleanup() {
    for dir in "${started[@]}"; do (cd "$dir" && "$bin" down --volumes >/dev/null 2>&1) || true; done
    rm -rf "$work"
    docker rmi "$base" >/dev/null 2>&1 || true
}
trap cleanup EXIT

run() {
    local round=$1 id=$2 dir="$work/$1-$2" t0=$EPOCHREALTIME
    "$bin" lab start "$id" --dir "$dir" >"$dir.log" 2>&1 || { cat "$dir.log"; exit 1; }
    local us=$((${EPOCHREALTIME/./} - ${t0/./}))
    started+=("$dir")
    printf '%-5s %-12s %5d.%d s   ' "$round" "$id" $((us / 1000000)) $((us % 1000000 / 100000))
    grep -E '^ *(Installed|Built|Found|Ready) ' "$dir.log" | grep -v ' app in \| app (unchanged)' | sed 's/^ *//' | paste -sd'|' | sed 's/|/ | /g'
    (cd "$dir" && "$bin" down --volumes >/dev/null 2>&1) || true
}

# Cold: an empty wheel cache, and no development image yet: the base image under a name of this
# run's own makes the images' hash new (other projects' images are left alone). Docker's layer
# cache is the machine's: a layer another project built with the same instructions is reused.
base="labforge-bench/python:$(date +%s)"
docker tag "$LABFORGE_IMAGE_PYTHON" "$base"
export LABFORGE_IMAGE_PYTHON="$base"
run cold "$first"
run cold "$second"
run warm "$first"
run warm "$second"
