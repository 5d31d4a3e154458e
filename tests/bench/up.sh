#!/usr/bin/env bash
# Benchmark: `labforge up` against `docker-compose up -d` followed by waiting until every service
# is healthy, on the same stack (PostgreSQL + MongoDB + the generated FastAPI app), the same
# images (already present), the same healthchecks (interval 1 s), alternating, in one run:
#   cold  fresh volumes, nothing running
#   warm  the stack is already up (a no-op)
# Also: how long after a service was actually ready labforge noticed (from the container's own
# log timestamps), labforge's peak memory during a cold `up`, and in the same runs the physical
# limit: each service alone with `docker run` (PostgreSQL's first init on a fresh volume until
# pg_isready says it accepts TCP connections; then the app, against that database, until its
# /ready answers).
#
#   tests/bench/up.sh [RUNS]      prints Markdown for BENCHMARKS.md (default 5 runs each)
#   LABFORGE_BIN=PATH tests/bench/up.sh ...   times that binary instead of building this tree
#
# MongoDB is the nx-27017 stand-in and PostgreSQL Debian's, built by tests/images/build.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
runs=${1:-5}
work="$root/target/bench/up"

source tests/bench/lib.sh

rm -rf "$work" && mkdir -p "$work"
project="$work/bench"
"$bin" new bench --db postgres --auth none --dir "$project" --yes >/dev/null
cd "$project"
# A MongoDB service as well, so the stack matches the reference compose measurement.
cat >> .env <<'ENV'
MONGO_INITDB_ROOT_USERNAME=bench
MONGO_INITDB_ROOT_PASSWORD=bench-mongo-password
ENV
python3 - <<'PY'
import re
text = open("labforge.yaml").read()
mongo = """  mongo:
    kind: mongo
    image: mongo:8
    environment:
      MONGO_INITDB_ROOT_USERNAME: ${MONGO_INITDB_ROOT_USERNAME}
      MONGO_INITDB_ROOT_PASSWORD: ${MONGO_INITDB_ROOT_PASSWORD}
    ports: ["27017:27017"]
    volumes: ["mongodata:/data/db"]
    healthcheck:
      test: [CMD, bash, -c, "exec 3<>/dev/tcp/127.0.0.1/27017"]
      interval: 1s
      timeout: 3s
      retries: 60
  app:
"""
open("labforge.yaml", "w").write(text.replace("  app:\n", mongo, 1))
PY

# Build the production image once; both tools then run the very same image. A stack left by an
# earlier run goes first (its volume holds other passwords).
"$bin" down --volumes >/dev/null
docker-compose -p benchc down -v >/dev/null 2>&1 || true
"$bin" up --prod >/dev/null
app_image=$(docker inspect --format '{{.Config.Image}}' bench-app)
"$bin" down --volumes >/dev/null

cat > docker-compose.yml <<YAML
version: "2.4"
services:
  postgres:
    image: labforge-test/postgres:15
    env_file: .env
    ports: ["127.0.0.1:5432:5432"]
    volumes: ["pgdata:/var/lib/postgresql/data"]
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -h 127.0.0.1 -U \"\$\$POSTGRES_USER\" -d \"\$\$POSTGRES_DB\""]
      interval: 1s
      timeout: 3s
      retries: 60
  mongo:
    image: labforge-test/mongo:nx
    env_file: .env
    ports: ["127.0.0.1:27017:27017"]
    volumes: ["mongodata:/data/db"]
    healthcheck:
      test: ["CMD", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/27017"]
      interval: 1s
      timeout: 3s
      retries: 60
  app:
    image: $app_image
    env_file: .env
    environment:
      APP_ENV: development
    ports: ["127.0.0.1:8000:8000"]
    depends_on:
      postgres:
        condition: service_healthy
    healthcheck:
      test: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
      interval: 1s
      timeout: 3s
      retries: 60
volumes:
  pgdata:
  mongodata:
YAML

now() { date +%s%N; }
compose_healthy() { # waits until the three compose containers are healthy
    local deadline=$(( $(date +%s) + 120 )) ids
    ids=$(docker-compose -p benchc ps -q)
    until [ "$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.Name}}: no healthcheck{{end}}' $ids | sort -u)" = "healthy" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "compose stack not healthy in 120 s" >&2; exit 1; }
        sleep 0.05
    done
}
labforge_cold() { "$bin" down --volumes >/dev/null 2>&1 || true; local t0; t0=$(now); "$bin" up --prod --json > "$work/last.json" 2>/dev/null; echo $(( ($(now) - t0) / 1000000 )); }
labforge_warm() { local t0; t0=$(now); "$bin" up --prod >/dev/null 2>&1; echo $(( ($(now) - t0) / 1000000 )); }
compose_cold() { docker-compose -p benchc down -v >/dev/null 2>&1 || true; local t0; t0=$(now); docker-compose -p benchc up -d >/dev/null 2>&1; compose_healthy; echo $(( ($(now) - t0) / 1000000 )); }
compose_warm() { local t0; t0=$(now); docker-compose -p benchc up -d >/dev/null 2>&1; compose_healthy; echo $(( ($(now) - t0) / 1000000 )); }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
alone_clean() {
    docker rm -f benchalone-pg benchalone-app >/dev/null 2>&1 || true
    docker network rm benchalone >/dev/null 2>&1 || true
    docker volume rm benchalone_pg >/dev/null 2>&1 || true
}
# Prints "PG_MS APP_MS": PostgreSQL alone from `docker run` on a fresh volume until it accepts TCP
# connections, then the app alone (the same image, on a network where the database is
# `postgres`) from `docker run` until GET /ready answers 200 (its migration included).
alone() {
    local pg_port app_port t0 t1 t2 deadline
    alone_clean
    docker network create benchalone >/dev/null
    pg_port=$(free_port) app_port=$(free_port)
    deadline=$(( $(date +%s) + 120 ))
    t0=$(now)
    docker run -d --name benchalone-pg --network benchalone --network-alias postgres --env-file .env \
        -p "127.0.0.1:$pg_port:5432" -v benchalone_pg:/var/lib/postgresql/data labforge-test/postgres:15 >/dev/null
    until pg_isready -q -h 127.0.0.1 -p "$pg_port"; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "postgres alone not ready in 120 s" >&2; exit 1; }
        sleep 0.02
    done
    t1=$(now)
    docker run -d --name benchalone-app --network benchalone --env-file .env -e APP_ENV=development \
        -p "127.0.0.1:$app_port:8000" "$app_image" >/dev/null
    until curl -sf -o /dev/null "http://127.0.0.1:$app_port/ready"; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "app alone not ready in 120 s" >&2; exit 1; }
        sleep 0.02
    done
    t2=$(now)
    alone_clean
    echo "$(( (t1 - t0) / 1000000 )) $(( (t2 - t1) / 1000000 ))"
}

# How long after the service was ready labforge noticed: the container's own log line that marks
# readiness (last occurrence before the notice) against labforge's notice time.
latencies() {
    python3 - "$work/last.json" <<'PY'
import json, subprocess, sys, datetime
report = json.load(open(sys.argv[1]))
marks = {"postgres": "database system is ready to accept connections", "app": "Application startup complete"}
for svc in report["services"]:
    mark = marks.get(svc["name"])
    if not mark or svc["readiness"]["status"] != "ready":
        continue
    at = svc["readiness"]["at_ms"]
    logs = subprocess.run(["docker", "logs", "--timestamps", svc["container"]], capture_output=True, text=True)
    stamps = []
    for line in (logs.stdout + logs.stderr).splitlines():
        if mark in line:
            ts = line.split()[0]
            base, frac = ts.rstrip("Z").split(".")
            t = datetime.datetime.fromisoformat(base).replace(tzinfo=datetime.timezone.utc).timestamp() + float("0." + frac)
            if t * 1000 <= at:
                stamps.append(t * 1000)
    if stamps:
        print(f"{svc['name']} {at - max(stamps):.0f}")
PY
}

: > "$work/times"
for i in $(seq "$runs"); do
    echo "labforge cold $(labforge_cold)" >> "$work/times"
    latencies | sed 's/^/latency /' >> "$work/times"
    echo "labforge warm $(labforge_warm)" >> "$work/times"
    "$bin" down --volumes >/dev/null
    echo "compose cold $(compose_cold)" >> "$work/times"
    echo "compose warm $(compose_warm)" >> "$work/times"
    docker-compose -p benchc down -v >/dev/null 2>&1
    alone | { read -r pg app; echo "alone postgres $pg"; echo "alone app $app"; } >> "$work/times"
done
"$bin" down --volumes >/dev/null 2>&1 || true
rss=$( /usr/bin/time -f %M "$bin" up --prod 2>&1 >/dev/null | tail -1 )
"$bin" down --volumes >/dev/null

python3 - "$work/times" "$rss" "$runs" <<'PY'
import statistics, sys, collections
rows = collections.defaultdict(list)
lat = collections.defaultdict(list)
for line in open(sys.argv[1]):
    parts = line.split()
    if parts[0] == "latency":
        lat[parts[1]].append(float(parts[2]))
    else:
        rows[(parts[0], parts[1])].append(float(parts[2]))
med = lambda xs: statistics.median(xs)
alone_pg, alone_app = rows[("alone", "postgres")], rows[("alone", "app")]
limits = [max(p, a) for p, a in zip(alone_pg, alone_app)]
print(f"| case | labforge up (median) | docker-compose up -d + healthy (median) | ratio |")
print(f"|---|---|---|---|")
for case in ["cold", "warm"]:
    l, c = rows[("labforge", case)], rows[("compose", case)]
    print(f"| {case} | {med(l)/1000:.2f} s ({min(l)/1000:.2f}–{max(l)/1000:.2f}) | {med(c)/1000:.2f} s ({min(c)/1000:.2f}–{max(c)/1000:.2f}) | {med(l)/med(c):.2f}× |")
print()
cold = rows[("labforge", "cold")]
print(f"- each alone, `docker run` until it answers: PostgreSQL's first init {med(alone_pg)/1000:.2f} s "
      f"({min(alone_pg)/1000:.2f}–{max(alone_pg)/1000:.2f}), the app's start {med(alone_app)/1000:.2f} s "
      f"({min(alone_app)/1000:.2f}–{max(alone_app)/1000:.2f}); max of the two per run, median {med(limits)/1000:.2f} s")
print(f"- cold labforge up ÷ that limit: {med(cold)/med(limits):.2f}× (medians)")
for svc, xs in sorted(lat.items()):
    print(f"- readiness noticed after the service was ready ({svc}): median {med(xs):.0f} ms, max {max(xs):.0f} ms over {len(xs)} cold runs")
print(f"- labforge peak RSS during a cold `up --prod`: {int(sys.argv[2])/1024:.1f} MiB")
print(f"- {sys.argv[3]} runs of each, alternating labforge and docker-compose")
PY
