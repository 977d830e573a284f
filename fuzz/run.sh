#!/usr/bin/env bash
# A bounded fuzz run of every target: `fuzz/run.sh [SECONDS] [TARGET…]` (default 60 s each, every
# target). Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). See README.md, "Bad
# input".
#
# Each target starts from its committed seed corpus (fuzz/corpus/TARGET, read only) and writes what it
# finds to fuzz/target/corpus/TARGET, so a run never changes the committed files. A crash, timeout
# (10 s on one input) or out-of-memory input (2 GB) is saved under fuzz/artifacts/TARGET/ and the
# script exits non-zero after the remaining targets ran. The last lines printed per target are
# libFuzzer's own statistics (executions, corpus size).
#
# One job, in process (libFuzzer's default: no -jobs/-fork), niced, so it shares a small machine.
#
# Sanitizer: none by default. The code under test is safe Rust (`unsafe_code = "deny"`), so what the
# targets look for is a panic, a hang or a runaway allocation, which need no AddressSanitizer; without
# it a run does several times more executions. FUZZ_SANITIZER=address brings it back.
set -euo pipefail

cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
case "$seconds" in
  '' | *[!0-9]*)
    echo "usage: fuzz/run.sh [SECONDS] [TARGET…] (SECONDS a whole number, found '$seconds')" >&2
    exit 2
    ;;
esac
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
sanitizer="${FUZZ_SANITIZER:-none}"

failed=()
for t in "${targets[@]}"; do
  mkdir -p "target/corpus/$t" "artifacts/$t"
  echo "== $t: ${seconds} s" >&2
  if ! nice -n 10 cargo +nightly fuzz run --sanitizer "$sanitizer" "$t" "target/corpus/$t" "corpus/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="artifacts/$t/" 2>"target/$t.log"; then
    failed+=("$t")
  fi
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|^Done|SUMMARY|panicked at' "target/$t.log" >&2 || true
  grep -E 'corp: ' "target/$t.log" | tail -n 1 >&2 || true
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "failed: ${failed[*]} (inputs in fuzz/artifacts/, logs in fuzz/target/TARGET.log)" >&2
  exit 1
fi
echo "all ${#targets[@]} targets ran ${seconds} s without a crash" >&2
