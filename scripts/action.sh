#!/usr/bin/env bash
# The logic of the GitHub Action (action.yml at the repository root), in three steps:
#
#   action.sh install   Download the released binary for the action's tag (or INPUT_VERSION)
#                       and this runner, checked against its .sha256; publishes `bin`, or
#                       `build=true` and `lock-hash` (the cargo cache key) when there is none.
#   action.sh build     Build authprobe from this repository with cargo; publishes `bin`.
#   action.sh [scan]    Scan, write every report, print the gate's reason and the top
#                       findings to the log, append the Markdown report to
#                       $GITHUB_STEP_SUMMARY, post or update the pull-request comment, and
#                       publish score, grade, exit-code and the report paths. Exits with
#                       authprobe's code (0 gate passed, 1 gate failed, 2 error).
#
# Inputs come as environment variables, as GitHub passes them:
#   INPUT_TARGET (required), INPUT_CONFIG, INPUT_FAIL_ON, INPUT_MIN_SCORE,
#   INPUT_SARIF (path of the SARIF copy; empty for none), INPUT_ARGS (extra flags),
#   INPUT_OUTPUT_DIR (default authprobe-reports), INPUT_COMMENT (sticky, new or off;
#   default sticky), INPUT_VERSION (a release tag, `latest`, or `source`; default: the
#   action's own ref when it is a release tag, else source).
# GitHub's own: GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_EVENT_PATH, GITHUB_REPOSITORY,
#   GITHUB_TOKEN (for the comment), GITHUB_API_URL (default https://api.github.com).
# AUTHPROBE_BIN names a ready binary; without it, `authprobe` from PATH, else one built
# from this repository with cargo. AUTHPROBE_REPOSITORY_URL replaces the repository URL
# of Cargo.toml for downloads (a mirror, or a test's fake server).
# Needs bash, curl and jq (all on GitHub's runners); without jq the log lists no findings
# and no comment is posted.
# Locally: INPUT_TARGET=http://127.0.0.1:8000/ GITHUB_OUTPUT=/tmp/out scripts/action.sh
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
outputs="${GITHUB_OUTPUT:-/dev/stdout}"
marker='<!-- authprobe-report -->'
# GitHub's limits: 1 MiB per step summary, 65,536 characters per comment.
summary_limit=1000000
comment_limit=65000

say() { echo "authprobe action: $*" >&2; }
# A workflow command (GitHub reads them on stderr too): an annotation on the run's page.
warn() { echo "::warning title=authprobe::$*" >&2; }
output() { echo "$1=$2" >>"$outputs"; }
have() { command -v "$1" >/dev/null 2>&1; }

sha256_of() {
  if have sha256sum; then
    sha256sum "$1" | cut -d ' ' -f 1
  else
    shasum -a 256 "$1" | cut -d ' ' -f 1
  fi
}

# ---------------------------------------------------------------------------------------
# install

# The release asset's target triple for this runner; empty when none is published.
release_target() {
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) echo x86_64-unknown-linux-gnu ;;
    Linux-aarch64 | Linux-arm64) echo aarch64-unknown-linux-gnu ;;
    Darwin-x86_64) echo x86_64-apple-darwin ;;
    Darwin-arm64) echo aarch64-apple-darwin ;;
    *) echo "" ;;
  esac
}

# The release tag to download, or empty to build from source.
release_tag() {
  local version="${INPUT_VERSION:-}"
  if [ -z "$version" ]; then
    # `uses: authprobe/authprobe@v0.2.0`: the ref, which composite actions do not always
    # get, is also the last directory of the action's path.
    version="${ACTION_REF:-}"
    if [ -z "$version" ] && [ -n "${GITHUB_ACTION_PATH:-}" ]; then
      version="$(basename "$GITHUB_ACTION_PATH")"
    fi
    # A branch or a commit has no release: build it.
    [[ "$version" =~ ^v[0-9]+(\.[0-9]+)*([-+][0-9A-Za-z.-]+)?$ ]] || version=""
  fi
  [ "$version" = "source" ] && version=""
  echo "$version"
}

# Downloads, verifies and unpacks the release binary; prints its path, or fails.
download_release() {
  local tag="$1" target="$2" repo url dir asset
  repo="${AUTHPROBE_REPOSITORY_URL:-$(sed -n 's/^repository = "\(.*\)"$/\1/p' "$here/Cargo.toml" | head -n 1)}"
  asset="authprobe-$target.tar.gz"
  if [ "$tag" = "latest" ]; then
    url="$repo/releases/latest/download/$asset"
  else
    url="$repo/releases/download/$tag/$asset"
  fi
  dir="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/authprobe-$tag-$target"
  rm -rf "$dir"
  mkdir -p "$dir"
  say "downloading $url"
  if ! curl -fsSL --retry 2 -o "$dir/$asset" "$url" || ! curl -fsSL --retry 2 -o "$dir/$asset.sha256" "$url.sha256"; then
    say "no release binary at $url (or no $asset.sha256 beside it)"
    return 1
  fi
  local want got
  want="$(cut -d ' ' -f 1 <"$dir/$asset.sha256" | tr -d '\r\n')"
  got="$(sha256_of "$dir/$asset")"
  if [ "$want" != "$got" ]; then
    warn "the checksum of $asset does not match $asset.sha256 ($got, expected $want): not using it"
    return 1
  fi
  tar -xzf "$dir/$asset" -C "$dir"
  local bin
  bin="$(find "$dir" -type f \( -name authprobe -o -name authprobe.exe \) | head -n 1)"
  if [ -z "$bin" ]; then
    say "$asset holds no authprobe binary"
    return 1
  fi
  chmod +x "$bin"
  if ! "$bin" --version >/dev/null 2>&1; then
    say "the binary of $asset does not run here"
    return 1
  fi
  echo "$bin"
}

install() {
  local tag target bin=""
  tag="$(release_tag)"
  target="$(release_target)"
  if [ -z "$tag" ]; then
    say "no release tag (version input empty and the action's ref is not vX.Y.Z): building from source"
  elif [ -z "$target" ]; then
    say "no release binary for $(uname -s) $(uname -m): building from source"
  else
    bin="$(download_release "$tag" "$target")" || bin=""
  fi
  if [ -n "$bin" ]; then
    say "using $("$bin" --version) ($target, release $tag)"
    output bin "$bin"
    output build false
  else
    if [ -n "$tag" ] && [ -n "$target" ]; then
      say "falling back to building from source"
    fi
    output build true
    output lock-hash "$(sha256_of "$here/Cargo.lock")"
  fi
}

# ---------------------------------------------------------------------------------------
# build

build() {
  if ! have cargo; then
    say "cargo is not installed: install Rust first (e.g. dtolnay/rust-toolchain), or use a release (version input)"
    exit 2
  fi
  say "building authprobe (cargo build --release; the cargo cache makes later runs quick)"
  # The action's checkout has no .git: --version then names the action's ref.
  if [ ! -e "$here/.git" ] && [ -z "${AUTHPROBE_COMMIT:-}" ]; then
    export AUTHPROBE_COMMIT="${ACTION_REF:-$(basename "$here")}"
  fi
  cargo build --release --locked -p authprobe --manifest-path "$here/Cargo.toml" --target-dir "$here/target" >&2
  output bin "$here/target/release/authprobe"
}

# ---------------------------------------------------------------------------------------
# scan

# Copies at most $2 bytes of file $1 to stdout, saying so when it cut.
fit() {
  local size
  size="$(wc -c <"$1" | tr -d ' ')"
  if [ "$size" -le "$2" ]; then
    cat "$1"
  else
    head -c "$2" "$1"
    printf '\n\n_(cut to fit: the full report is in the reports directory)_\n'
  fi
}

# The most severe counted findings, one line each: severity, code, endpoint, title.
top_findings() {
  jq -r --argjson n "$2" '
    def pad(w): tostring | . + (" " * ([w - length, 1] | max));
    {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4} as $rank
    | [.findings[] | select(.suppressed != true)] | sort_by($rank[.severity])
    | if length == 0 then "  (no findings)"
      else (.[:$n][] | "  \(.severity | pad(9))\(.check | pad(9))\(.endpoint | pad(28))\(.title)"),
           (if length > $n then "  ... and \(length - $n) more (see the step summary)" else empty end)
      end' "$1"
}

# GET/POST/PATCH against the GitHub REST API; the body goes to $response, the status to stdout.
api() {
  local method="$1" url="$2" data="${3:-}"
  local args=(-sS -X "$method" -o "$response" -w '%{http_code}'
    -H "Authorization: Bearer $GITHUB_TOKEN"
    -H "Accept: application/vnd.github+json"
    -H "X-GitHub-Api-Version: 2022-11-28"
    # No `Expect: 100-continue` round trip for large bodies.
    -H "Expect:")
  [ -n "$data" ] && args+=(-H "Content-Type: application/json" --data-binary "@$data")
  curl "${args[@]}" "$url" || echo 000
}

# Posts the body file $1 to the pull request, or with `sticky` updates the comment that
# starts with the marker; a failure is a warning, never the job's failure.
comment() {
  local mode="${INPUT_COMMENT:-sticky}" body_file="$1"
  case "$mode" in
    off | false | "") return 0 ;;
    sticky | new) ;;
    *)
      warn "comment: '$mode' is not sticky, new or off; no comment"
      return 0
      ;;
  esac
  local number=""
  if [ -n "${GITHUB_EVENT_PATH:-}" ] && [ -f "$GITHUB_EVENT_PATH" ] && have jq; then
    number="$(jq -r '.pull_request.number // (if .issue.pull_request then .issue.number else empty end) // empty' "$GITHUB_EVENT_PATH")"
  fi
  if [ -z "$number" ]; then
    say "not a pull request: no comment"
    return 0
  fi
  if [ -z "${GITHUB_TOKEN:-}" ] || [ -z "${GITHUB_REPOSITORY:-}" ] || ! have jq; then
    warn "cannot comment on pull request #$number: it needs GITHUB_TOKEN, GITHUB_REPOSITORY, curl and jq"
    return 0
  fi
  local base="${GITHUB_API_URL:-https://api.github.com}/repos/$GITHUB_REPOSITORY"
  response="$(mktemp)"
  local data status id=""
  data="$(mktemp)"
  jq -Rs '{body: .}' <"$body_file" >"$data"
  if [ "$mode" = "sticky" ]; then
    local page=1 count
    while [ -z "$id" ] && [ "$page" -le 30 ]; do
      status="$(api GET "$base/issues/$number/comments?per_page=100&page=$page")"
      if [ "$status" != "200" ]; then
        warn "cannot list the comments of pull request #$number (HTTP $status)"
        return 0
      fi
      id="$(jq -r --arg m "$marker" '[.[] | select((.body // "") | startswith($m))] | first | .id // empty' "$response")"
      count="$(jq 'length' "$response")"
      [ "$count" -lt 100 ] && break
      page=$((page + 1))
    done
  fi
  local verb
  if [ -n "$id" ]; then
    status="$(api PATCH "$base/issues/comments/$id" "$data")"
    verb="updated"
  else
    status="$(api POST "$base/issues/$number/comments" "$data")"
    verb="posted"
  fi
  case "$status" in
    200 | 201)
      local url
      url="$(jq -r '.html_url // empty' "$response")"
      say "$verb the report on pull request #$number${url:+: $url}"
      output comment-url "$url"
      ;;
    *)
      warn "cannot comment on pull request #$number (HTTP $status): the job needs 'permissions: pull-requests: write' (a fork's pull request gets a read-only token)"
      ;;
  esac
}

scan() {
  # Whatever ends the step, the Gate step of action.yml gets an exit code: authprobe's
  # once it ran (a failing summary or comment does not change the verdict), else 2.
  exit_code=""
  trap 'output exit-code "${exit_code:-2}"; exit "${exit_code:-2}"' EXIT
  local target="${INPUT_TARGET:-}"
  if [ -z "$target" ]; then
    say "the 'target' input is required"
    exit 2
  fi
  local out_dir="${INPUT_OUTPUT_DIR:-authprobe-reports}"
  local bin="${AUTHPROBE_BIN:-}"
  if [ -z "$bin" ]; then
    if have authprobe; then
      bin="$(command -v authprobe)"
    else
      build
      bin="$here/target/release/authprobe"
    fi
  fi

  # No --quiet: off a terminal, authprobe prints a heartbeat line every few seconds
  # (AUTHPROBE_HEARTBEAT_SECS); the gate's reason and the summary print either way.
  local args=(scan "$target" --format "json,markdown,html,junit,sarif" --output-dir "$out_dir")
  [ -n "${INPUT_CONFIG:-}" ] && args+=(--config "$INPUT_CONFIG")
  [ -n "${INPUT_FAIL_ON:-}" ] && args+=(--fail-on "$INPUT_FAIL_ON")
  [ -n "${INPUT_MIN_SCORE:-}" ] && args+=(--min-score "$INPUT_MIN_SCORE")
  if [ -n "${INPUT_ARGS:-}" ]; then
    # Word-split on purpose: extra flags as one string, e.g. "--profile thorough --rate 20".
    local extra
    read -r -a extra <<<"$INPUT_ARGS"
    args+=("${extra[@]}")
  fi

  # authprobe's standard error goes to the log as it comes, and to a file for the gate line.
  local log_file code=0
  log_file="$(mktemp)"
  (
    set +e
    "$bin" "${args[@]}" 2>&1 1>&3 3>&- | tee "$log_file" >&2
    exit "${PIPESTATUS[0]}"
  ) 3>&1 || code=$?
  exit_code="$code"

  local summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
  if [ "$code" -ge 2 ] || [ ! -f "$out_dir/report.json" ]; then
    say "the scan failed (exit $code)"
    {
      echo "### authprobe: the scan failed (exit $code)"
      echo
      echo '```'
      grep -E '^(error|hint|warning):' "$log_file" | head -n 20 || true
      echo '```'
    } >>"$summary"
    exit "$code"
  fi

  # The JSON report is pretty-printed: its top-level keys are the lines indented by two spaces.
  local score grade
  score="$(sed -n 's/^  "score": \([0-9]*\),$/\1/p' "$out_dir/report.json" | head -n 1)"
  grade="$(sed -n 's/^  "grade": "\([A-F]\)",$/\1/p' "$out_dir/report.json" | head -n 1)"
  if [ -z "$score" ] || [ -z "$grade" ]; then
    say "no score or grade in $out_dir/report.json"
    exit_code=2
    exit 2
  fi

  local sarif="${INPUT_SARIF-authprobe.sarif}"
  if [ -n "$sarif" ] && [ "$sarif" != "$out_dir/report.sarif" ]; then
    mkdir -p "$(dirname "$sarif")"
    cp "$out_dir/report.sarif" "$sarif"
  fi

  output score "$score"
  output grade "$grade"
  output sarif "$sarif"
  output markdown "$out_dir/report.md"
  output html "$out_dir/report.html"
  output json "$out_dir/report.json"
  output report-dir "$out_dir"

  # The log: the gate's verdict (authprobe printed it above, but it is the line people
  # look for), then the findings that matter most.
  local gate
  gate="$(grep -E '^gate: ' "$log_file" | tail -n 1 || true)"
  say "score $score, grade $grade, exit $code${gate:+; $gate}"
  if have jq; then
    say "top findings (severity, check, endpoint, title):"
    top_findings "$out_dir/report.json" 10 >&2 || say "cannot list the findings of $out_dir/report.json"
  else
    say "jq is not installed: the findings are in $out_dir/report.md"
  fi
  if [ "$code" -eq 1 ]; then
    echo "::error title=authprobe gate failed::${gate#gate: failed: }" >&2
  fi

  # The step summary and the comment: the verdict, then the report.
  local body
  body="$(mktemp)"
  {
    case "$gate" in
      "gate: failed: "*) echo "> **authprobe gate failed:** ${gate#gate: failed: }" ;;
      "gate: passed"*) echo "> **authprobe gate passed** ${gate#gate: passed }" ;;
    esac
    [ -n "$gate" ] && echo
    cat "$out_dir/report.md"
  } >"$body"
  fit "$body" "$summary_limit" >>"$summary"

  # The marker finds the comment again on the next run.
  local comment_body
  comment_body="$(mktemp)"
  {
    echo "$marker"
    fit "$body" "$comment_limit"
  } >"$comment_body"
  comment "$comment_body" || warn "the pull-request comment failed"
  exit "$code"
}

case "${1:-scan}" in
  install) install ;;
  build) build ;;
  scan) scan ;;
  *)
    say "unknown step '$1' (install, build or scan)"
    exit 2
    ;;
esac
