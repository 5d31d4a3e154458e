#!/usr/bin/env bash
# Benchmark: checking a whole lab on a running stack (`labforge check --all`), the way a learner
# who has solved every step would. For each lab named (default: http-rest postgres-orm validation):
# start it, lay every step's reference solution over it, wait until the whole lab passes, then
# time `labforge check --all` with hyperfine. The issue's target: under 5 s per lab.
#
#   tests/bench/check.sh [LAB...]      prints Markdown for BENCHMARKS.md
#   LABFORGE_BIN=PATH tests/bench/check.sh ...   times that binary instead of building this tree
#   LABFORGE_BASELINE=PATH tests/bench/check.sh ...  also times that binary (an earlier commit's),
#                                      side by side on the same stacks, with the ratio
#
# Needs what `lab selftest` needs: Docker, the stand-in images (tests/images/build.sh), Python
# 3.11+; hyperfine is installed with apt-get when missing, uv into a venv under target/bench/.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
labs=("$@")
[ ${#labs[@]} -gt 0 ] || labs=(http-rest postgres-orm validation)
work="$root/target/bench/check"

command -v hyperfine >/dev/null || { echo "installing hyperfine" >&2; apt-get install -y -qq hyperfine >/dev/null; }
source tests/bench/lib.sh
if [ ! -x "$work/tools/bin/uv" ]; then
    python3 -m venv "$work/tools"
    "$work/tools/bin/pip" install --quiet --disable-pip-version-check uv
fi
export PATH="$work/tools/bin:$PATH" NO_COLOR=1
export LABFORGE_IMAGE_POSTGRES=labforge-test/postgres:15 LABFORGE_IMAGE_MONGO=labforge-test/mongo:nx LABFORGE_IMAGE_PYTHON=labforge-test/python:3.11
export PIP_CERT="${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}"

rows=()
for lab in "${labs[@]}"; do
    dir="$work/$lab"
    if [ -d "$dir" ]; then (cd "$dir" && "$bin" down --volumes >/dev/null 2>&1) || true; fi
    rm -rf "$dir" && mkdir -p "$work"
    echo "starting $lab" >&2
    "$bin" lab start "$lab" --dir "$dir" >/dev/null 2>&1
    cd "$dir"
    steps=$("$bin" check --all --json 2>"$work/$lab.err" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["steps"]))' || true)
    for ((n = 1; n <= steps; n++)); do "$bin" lab solve --step "$n" --force >/dev/null; done
    # Fresh containers, as a learner's `labforge down && labforge up` after a changed Dockerfile;
    # then wait (with a deadline) until the whole lab passes.
    "$bin" down >/dev/null 2>&1
    "$bin" up >/dev/null 2>&1
    deadline=$((SECONDS + 60))
    until "$bin" check --all >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || { "$bin" check --all >&2; echo "$lab does not pass when solved" >&2; exit 1; }
    done
    checks=$("$bin" check --all --json | python3 -c 'import json,sys; print(sum(len(s["checks"]) for s in json.load(sys.stdin)["steps"]))')
    if [ -z "${LABFORGE_BASELINE:-}" ]; then
        hyperfine --style none --warmup 2 --runs 15 --export-json "$work/$lab.json" "$bin check --all" >/dev/null
    else
        # Side by side: the two binaries take turns, run by run, so a machine that slows down
        # meanwhile slows both (hyperfine would run all of one, then all of the other).
        python3 - "$work/$lab.json" "$bin" "$(realpath "$LABFORGE_BASELINE")" <<'PY'
import json, subprocess, sys, time
out, binaries = sys.argv[1], sys.argv[2:]
times = {b: [] for b in binaries}
for run in range(17):
    for b in binaries:
        started = time.perf_counter()
        subprocess.run([b, "check", "--all"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if run >= 2:  # two warm-up rounds
            times[b].append(time.perf_counter() - started)
median = lambda xs: sorted(xs)[len(xs) // 2]
json.dump({"results": [{"command": b, "median": median(t), "times": t} for b, t in times.items()]}, open(out, "w"))
PY
    fi
    rows+=("$(python3 - "$work/$lab.json" "$lab" "$steps" "$checks" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
r = results[0]
row = f"| `{sys.argv[2]}` | {sys.argv[3]} | {sys.argv[4]} | {r['median']:.2f} s | {min(r['times']):.2f}–{max(r['times']):.2f} s |"
if len(results) > 1:
    b = results[1]
    row += f" {b['median']:.2f} s | {r['median'] / b['median']:.2f}× |"
print(row)
PY
)")
    "$bin" down --volumes >/dev/null
    cd "$root"
done

if [ -n "${LABFORGE_BASELINE:-}" ]; then
    echo "| lab | steps | checks | \`check --all\` (median) | range | baseline (median) | ratio |"
    echo "|---|---|---|---|---|---|---|"
else
    echo "| lab | steps | checks | \`check --all\` (median) | range |"
    echo "|---|---|---|---|---|"
fi
printf '%s\n' "${rows[@]}"
