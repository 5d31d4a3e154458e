#!/usr/bin/env bash
# Benchmark: `labforge deploy` against the emulated Kubernetes API server of the tests
# (tests/k8s/emulator.py) and a local registry (Debian's docker-registry), on the generated
# FastAPI + PostgreSQL project (Deployment, StatefulSet, Services, ConfigMap, Secret):
#   first   a first deploy into an empty emulator, the controllers answering at once
#           (--rollout-delay-ms 0), so the time is labforge's own (image already built and pushed)
#   no-op   a second deploy with nothing changed
#   lag     how long after the Deployment became available (the emulator's clock) labforge
#           noticed, with a stale status first and the real one 1 s later
# For each: the median wall time, the API requests and the writes the emulator recorded.
#
#   tests/bench/deploy.sh [RUNS]      prints Markdown for BENCHMARKS.md (default 5 runs each)
#   LABFORGE_BIN=PATH tests/bench/deploy.sh ...   times that binary instead of building this tree
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
runs=${1:-5}
work="$root/target/bench/deploy"

source tests/bench/lib.sh

# The emulator's Python: kmock and aiohttp as pinned for the tests.
venv="$root/target/bench/k8s-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    grep -E '^(kmock|aiohttp)==' tests/tools/requirements.txt > "$venv/requirements.txt"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$venv/requirements.txt"
fi
command -v docker-registry >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null

rm -rf "$work" && mkdir -p "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
reg_port=$(free_port)
cat > "$work/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: 127.0.0.1:$reg_port}
YAML
docker-registry serve "$work/registry.yml" >/dev/null 2>&1 & pids+=($!)

# emulator SCENARIO DELAY_MS: starts one, sets $emu_port and $KUBECONFIG.
emulator() {
    "$venv/bin/python" "$root/tests/k8s/emulator.py" --scenario "$1" --rollout-delay-ms "$2" > "$work/emu.port" 2>"$work/emu.log" & pids+=($!)
    emu_pid=$!
    for _ in $(seq 200); do [ -s "$work/emu.port" ] && break; sleep 0.05; done
    emu_port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$work/emu.port")
    export KUBECONFIG="$work/kubeconfig"
    cat > "$KUBECONFIG" <<YAML
apiVersion: v1
kind: Config
clusters: [{name: emu, cluster: {server: "http://127.0.0.1:$emu_port"}}]
users: [{name: emu, user: {token: bench}}]
contexts: [{name: emu, context: {cluster: emu, user: emu}}]
current-context: emu
YAML
}
stop_emulator() { kill "$emu_pid" 2>/dev/null || true; wait "$emu_pid" 2>/dev/null || true; : > "$work/emu.port"; }
requests() { curl -s "http://127.0.0.1:$emu_port/_emulator/requests"; }
clear() { curl -s -X DELETE "http://127.0.0.1:$emu_port/_emulator/requests" >/dev/null; }
count() { python3 -c 'import json,sys; r=json.load(sys.stdin); print(len(r), sum(1 for x in r if x["write"]))'; }
now() { date +%s%N; }

project="$work/bench"
"$bin" new bench --db postgres --auth none --dir "$project" --yes >/dev/null
cd "$project"
deploy() { "$bin" deploy --registry "127.0.0.1:$reg_port/bench" "$@"; }

# Build and push once: every timed run finds both done, as a re-deploy of unchanged code does.
emulator healthy 0
deploy >/dev/null 2>&1
stop_emulator

: > "$work/times"
for i in $(seq "$runs"); do
    emulator healthy 0
    t0=$(now); deploy >/dev/null 2>&1; t1=$(now)
    echo "first $(( (t1 - t0) / 1000000 )) $(requests | count)" >> "$work/times"
    clear
    t0=$(now); deploy >/dev/null 2>&1; t1=$(now)
    echo "noop $(( (t1 - t0) / 1000000 )) $(requests | count)" >> "$work/times"
    stop_emulator

    emulator stale 1000
    deploy >/dev/null 2>&1
    python3 - "$emu_port" >> "$work/times" <<'PY'
import json, sys, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}/_emulator"
available = json.load(urllib.request.urlopen(base + "/available"))["deployments/default/bench"]
requests = json.load(urllib.request.urlopen(base + "/requests"))
noticed = min(r["time"] for r in requests if r["method"] == "GET" and r["path"].startswith("/api/v1/namespaces/default/pods?") and r["time"] >= available - 0.001)
print(f"lag {(noticed - available) * 1000:.0f} 0 0")
PY
    stop_emulator
done

python3 - "$work/times" "$runs" <<'PY'
import statistics, sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    kind, ms, reqs, writes = line.split()
    rows[kind].append((float(ms), int(reqs), int(writes)))
med = statistics.median
print("| case | wall time (median, min–max) | API requests | writes |")
print("|---|---|---|---|")
for kind, label in [("first", "first deploy (controllers answer at once)"), ("noop", "no-op re-deploy")]:
    ms = [r[0] for r in rows[kind]]
    print(f"| {label} | {med(ms):.0f} ms ({min(ms):.0f}–{max(ms):.0f}) | {med([r[1] for r in rows[kind]]):.0f} | {med([r[2] for r in rows[kind]]):.0f} |")
lag = [r[0] for r in rows["lag"]]
print()
print(f"- rollout completion noticed after the emulator marked the Deployment available: median {med(lag):.0f} ms, max {max(lag):.0f} ms")
print(f"- {sys.argv[2]} runs of each")
PY
