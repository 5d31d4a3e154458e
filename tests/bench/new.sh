#!/usr/bin/env bash
# Benchmark: `labforge new` (fastapi × postgres, all options) against cookiecutter rendering an
# equivalent template with the same files, in the same run; plus `labforge --help`; plus peak RSS.
#
#   tests/bench/new.sh            prints a Markdown table for BENCHMARKS.md
#   LABFORGE_BIN=PATH tests/bench/new.sh      times that binary instead of building this tree
#
# Needs: hyperfine (installed with apt-get when missing), Python 3.11+ (cookiecutter is installed
# into a venv under target/bench/).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
work="$root/target/bench"
mkdir -p "$work"

command -v hyperfine >/dev/null || { echo "installing hyperfine" >&2; apt-get install -y -qq hyperfine >/dev/null; }
if [ -n "${LABFORGE_BIN:-}" ]; then
    bin=$LABFORGE_BIN
else
    cargo build --release --quiet
    bin="$root/target/release/labforge"
fi

venv="$work/venv"
if [ ! -x "$venv/bin/cookiecutter" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet cookiecutter==2.7.1
fi

args=(new shop --framework fastapi --db postgres --auth jwt --with graphql,ratelimit,oauth --yes)

# The cookiecutter template: the very files labforge writes, with the project name turned back
# into a cookiecutter variable, so both tools render the same number of files of the same size.
tpl="$work/cookiecutter-fastapi"
rm -rf "$tpl" "$work/sample"
"$bin" "${args[@]}" --dir "$work/sample" >/dev/null
python3 - "$work/sample" "$tpl" <<'PY'
import json, pathlib, sys
src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
root = dst / "{{cookiecutter.project_slug}}"
count = 0
for path in sorted(p for p in src.rglob("*") if p.is_file()):
    rel = path.relative_to(src)
    text = path.read_text()
    # Everything literal except the project name, which cookiecutter substitutes.
    body = "{% raw %}" + text.replace("shop", "{% endraw %}{{ cookiecutter.project_slug }}{% raw %}") + "{% endraw %}"
    out = root / str(rel).replace("shop", "{{cookiecutter.project_slug}}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body)
    count += 1
(dst / "cookiecutter.json").write_text(json.dumps({
    "project_slug": "shop", "db": ["postgres", "mongo", "none"], "auth": ["jwt", "none"],
    "extras": "graphql,ratelimit,oauth",
}))
print(f"cookiecutter template: {count} files", file=sys.stderr)
PY
files=$(find "$work/sample" -type f | wc -l)

hyperfine --style none --warmup 3 --runs 40 --export-json "$work/new.json" \
    --prepare "rm -rf $work/out-l $work/out-c" \
    -n "labforge new" "$bin ${args[*]} --dir $work/out-l/shop" \
    -n "cookiecutter" "$venv/bin/cookiecutter --no-input -o $work/out-c $tpl" >/dev/null
hyperfine --style none --warmup 5 --runs 100 -N --export-json "$work/help.json" \
    -n "labforge --help" "$bin --help" >/dev/null

rss() { # median peak RSS in KiB over 15 runs
    for _ in $(seq 15); do
        rm -rf "$work/out-r"
        /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1
    done | sort -n | sed -n 8p
}
rss_new=$(rss "$bin" "${args[@]}" --dir "$work/out-r/shop")
rss_cc=$(rss "$venv/bin/cookiecutter" --no-input -o "$work/out-r" "$tpl")
rss_help=$(rss "$bin" --help)

python3 - "$work/new.json" "$work/help.json" "$files" "$rss_new" "$rss_cc" "$rss_help" <<'PY'
import json, sys
new, hlp = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
files, rss_new, rss_cc, rss_help = sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
m = {r["command"]: r for r in new["results"] + hlp["results"]}
med = lambda n: m[n]["median"] * 1000
lf, cc, hp = med("labforge new"), med("cookiecutter"), med("labforge --help")
print(f"| command | median | min | max | peak RSS |")
print(f"|---|---|---|---|---|")
for name, rss in [("labforge new", rss_new), ("cookiecutter", rss_cc), ("labforge --help", rss_help)]:
    r = m[name]
    print(f"| {name} | {r['median']*1000:.1f} ms | {r['min']*1000:.1f} ms | {r['max']*1000:.1f} ms | {rss/1024:.1f} MiB |")
print()
print(f"{files} files per project. labforge new is {cc/lf:.1f}× faster than cookiecutter (median {lf:.1f} ms vs {cc:.1f} ms).")
PY
