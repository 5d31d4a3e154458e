#!/usr/bin/env bash
# Runs every fuzz target (or those named) for FUZZ_SECONDS each (default 600), one after the other,
# seeded with the project's own good files and the bad-input corpus's files. Needs nightly Rust
# and cargo-fuzz (`cargo install cargo-fuzz`). Corpora and crashes stay under target/fuzz/.
#
#   tests/fuzz/run.sh [TARGET...]          FUZZ_SECONDS=60 tests/fuzz/run.sh dotenv
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(stack_yaml lab_yaml template_manifest dotenv user_config)
seconds="${FUZZ_SECONDS:-600}"
# A unit slower than this is reported as a hang. The fuzz build (AddressSanitizer and coverage)
# runs about 30 times slower than the release binary: the alias bomb that labforge refuses in
# 0.5 s takes 10-15 s there on a loaded machine, so the limit is generous.
unit_timeout="${FUZZ_UNIT_TIMEOUT:-60}"
work="$root/target/fuzz"
mkdir -p "$work"

# Seeds: the files a user would start from, and each bad-input case's file for that parser.
seed() {
    local target=$1 dir="$work/seeds/$1"
    rm -rf "$dir" && mkdir -p "$dir"
    case $target in
        stack_yaml) section=labforge.yaml; group=stack ;;
        lab_yaml) section=lab.yaml; group=labs
            for f in labs/*/lab.yaml; do cp "$f" "$dir/$(basename "$(dirname "$f")").yaml"; done ;;
        template_manifest) section=template.yaml; group=templates
            for f in templates/*/template.yaml; do cp "$f" "$dir/$(basename "$(dirname "$f")").yaml"; done ;;
        dotenv) section=.env; group=dotenv ;;
        user_config) section=config.yaml; group=config ;;
    esac
    python3 - "$dir" "$section" tests/bad-input/"$group"/*.case <<'PY'
import pathlib, re, sys
out, section, cases = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
for case in cases:
    text = pathlib.Path(case).read_bytes().decode("utf-8", "replace")
    parts = re.split(r"^--- (.+)$", text, flags=re.M)
    for name, body in zip(parts[1::2], parts[2::2]):
        if name.split(" ")[0].endswith(section):
            (out / pathlib.Path(case).stem).write_bytes(body[1:].encode())
PY
    echo "$dir"
}

for target in "${targets[@]}"; do
    seeds=$(seed "$target")
    corpus="$work/corpus/$target"
    mkdir -p "$corpus"
    echo "fuzzing $target for ${seconds}s (seeds: $(ls "$seeds" | wc -l))" >&2
    cargo +nightly fuzz run --fuzz-dir tests/fuzz --target-dir "$work/build" "$target" "$corpus" "$seeds" -- \
        -max_total_time="$seconds" -print_final_stats=1 -timeout="$unit_timeout" -rss_limit_mb=4096 \
        2>&1 | tee "$work/$target.log" | grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb|==|SUMMARY)" || true
    if grep -q "^SUMMARY\|panicked\|deadly signal" "$work/$target.log"; then
        echo "$target: a crash; see $work/$target.log and the input under tests/fuzz/artifacts/$target/" >&2
        exit 1
    fi
done
