#!/usr/bin/env bash
# The logic of the GitHub Action (action.yml at the repository root). Runs one scan that
# writes JSON, Markdown, HTML, JUnit and SARIF reports, then publishes `score`, `grade`,
# `sarif`, `markdown` and `report-dir` to $GITHUB_OUTPUT, and exits with authprobe's code
# (0 gate passed, 1 gate failed, 2 error) so the job fails when the gate does.
#
# Inputs come as environment variables, as GitHub passes them:
#   INPUT_TARGET (required), INPUT_CONFIG, INPUT_FAIL_ON, INPUT_MIN_SCORE,
#   INPUT_SARIF (path of the SARIF file; empty for none), INPUT_ARGS (extra flags),
#   INPUT_OUTPUT_DIR (default authprobe-reports).
# AUTHPROBE_BIN names a ready binary; without it, `authprobe` from PATH, else one built
# from this repository with cargo.
# Locally: INPUT_TARGET=http://127.0.0.1:8000/ GITHUB_OUTPUT=/tmp/out scripts/action.sh
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
target="${INPUT_TARGET:-}"
if [ -z "$target" ]; then
  echo "authprobe action: the 'target' input is required" >&2
  exit 2
fi
out_dir="${INPUT_OUTPUT_DIR:-authprobe-reports}"
outputs="${GITHUB_OUTPUT:-/dev/stdout}"

bin="${AUTHPROBE_BIN:-}"
if [ -z "$bin" ]; then
  if command -v authprobe >/dev/null 2>&1; then
    bin="$(command -v authprobe)"
  else
    echo "authprobe action: building authprobe (cargo build --release)" >&2
    cargo build --release --locked -p authprobe --manifest-path "$here/Cargo.toml" >&2
    bin="$here/target/release/authprobe"
  fi
fi

args=(scan "$target" --quiet --format json,markdown,html,junit,sarif --output-dir "$out_dir")
[ -n "${INPUT_CONFIG:-}" ] && args+=(--config "$INPUT_CONFIG")
[ -n "${INPUT_FAIL_ON:-}" ] && args+=(--fail-on "$INPUT_FAIL_ON")
[ -n "${INPUT_MIN_SCORE:-}" ] && args+=(--min-score "$INPUT_MIN_SCORE")
if [ -n "${INPUT_ARGS:-}" ]; then
  # Word-split on purpose: extra flags as one string, e.g. "--profile thorough --rate 20".
  read -r -a extra <<<"$INPUT_ARGS"
  args+=("${extra[@]}")
fi

code=0
"$bin" "${args[@]}" || code=$?
if [ "$code" -ge 2 ] || [ ! -f "$out_dir/report.json" ]; then
  echo "authprobe action: the scan failed (exit $code)" >&2
  exit "$code"
fi

# The JSON report is pretty-printed: its top-level keys are the lines indented by two spaces.
score="$(sed -n 's/^  "score": \([0-9]*\),$/\1/p' "$out_dir/report.json" | head -n 1)"
grade="$(sed -n 's/^  "grade": "\([A-F]\)",$/\1/p' "$out_dir/report.json" | head -n 1)"
if [ -z "$score" ] || [ -z "$grade" ]; then
  echo "authprobe action: no score or grade in $out_dir/report.json" >&2
  exit 2
fi

sarif="${INPUT_SARIF-authprobe.sarif}"
if [ -n "$sarif" ] && [ "$sarif" != "$out_dir/report.sarif" ]; then
  mkdir -p "$(dirname "$sarif")"
  cp "$out_dir/report.sarif" "$sarif"
fi

{
  echo "score=$score"
  echo "grade=$grade"
  echo "sarif=$sarif"
  echo "markdown=$out_dir/report.md"
  echo "report-dir=$out_dir"
} >>"$outputs"
echo "authprobe: score $score, grade $grade (exit $code)" >&2
exit "$code"
