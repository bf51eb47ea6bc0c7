#!/usr/bin/env bash
# Runs every fuzz target for a bounded time. Not part of CI.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]        (default: 600 s, every target)
#   JOBS=2 fuzz/run.sh 600                               (targets run JOBS at a time)
#
# With a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`) the targets run
# under libFuzzer (coverage-guided, seeded from fuzz/seeds/TARGET, corpus kept in
# fuzz/corpus/TARGET); without them, the same target bodies run in the plain randomized
# harness (src/bin/randomized.rs: mutations of the seeds, no coverage feedback).
# A crashing input lands in fuzz/artifacts/TARGET/; add it as a regression test next to the
# parser it broke, then fix the parser. The script exits 1 if any target crashed.
set -uo pipefail
cd "$(dirname "$0")"

secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(jwt_parse set_cookie config_load json_path spec_load entropy_analyze)
jobs=${JOBS:-1}

if cargo +nightly --version >/dev/null 2>&1 && cargo fuzz --version >/dev/null 2>&1; then
  mode=libfuzzer
  # No sanitizer: the code under test is safe Rust; a panic (or an overflow, with the
  # debug assertions on) is the crash being looked for.
  cargo +nightly fuzz build --sanitizer none --features libfuzzer || exit 2
else
  mode=randomized
  echo "run.sh: nightly or cargo-fuzz missing; running the plain randomized harness" >&2
  cargo build --release --features plain --bin randomized || exit 2
fi

mkdir -p logs
run_one() {
  local t=$1
  if [ "$mode" = libfuzzer ]; then
    mkdir -p "corpus/$t" "artifacts/$t"
    cargo +nightly fuzz run --sanitizer none --features libfuzzer "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$secs" -max_len=4096 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      > "logs/$t.log" 2>&1
  else
    ./target/release/randomized "$t" "$secs" > "logs/$t.log" 2>&1
  fi
  local rc=$?
  local summary
  if [ "$mode" = libfuzzer ]; then
    summary=$(grep -E '^stat::number_of_executed_units|^stat::new_units_added' "logs/$t.log" | tr '\n' ' ')
  else
    summary=$(tail -1 "logs/$t.log")
  fi
  echo "$t: mode=$mode seconds=$secs exit=$rc $summary"
  return $rc
}

failed=0
pids=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
exit $failed
