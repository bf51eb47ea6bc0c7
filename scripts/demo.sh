#!/usr/bin/env bash
# Installs authprobe (`cargo install`, so `authprobe` is on PATH afterwards) and the
# testbed, starts the testbed with every flaw on, and scans it. The scan's history goes to
# a throwaway database, never your own ~/.local/share/authprobe/history.db.
# Usage: scripts/demo.sh [FLAWS]   (default: all; try `none` for the hardened API)
set -euo pipefail
cd "$(dirname "$0")/.."
flaws="${1:-all}"
testbed/setup
cargo install --locked --path crates/authprobe --quiet
bin_dir="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin"
case ":$PATH:" in
  *":$bin_dir:"*) ;;
  *) echo "demo: add $bin_dir to your PATH to run authprobe from anywhere (export PATH=\"$bin_dir:\$PATH\")" >&2
     export PATH="$bin_dir:$PATH" ;;
esac
authprobe --version

scratch=$(mktemp -d)
port=8765
testbed/serve --port "$port" --flaws "$flaws" > "$scratch/testbed.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$scratch"' EXIT
for _ in $(seq 1 100); do
  grep -q '^ready ' "$scratch/testbed.log" 2>/dev/null && break
  sleep 0.1
done
AUTHPROBE_DB="$scratch/history.db" authprobe scan "http://127.0.0.1:$port/" \
  --user alice:alice-pass-1 --user bob:bob-pass-2 || true
