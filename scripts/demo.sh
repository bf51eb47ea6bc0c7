#!/usr/bin/env bash
# Installs authprobe and the testbed, starts the testbed with every flaw on, and scans it.
# Usage: scripts/demo.sh [FLAWS]   (default: all; try `none` for the hardened API)
set -euo pipefail
cd "$(dirname "$0")/.."
flaws="${1:-all}"
testbed/setup
cargo build --release --locked -q -p authprobe
port=8765
testbed/serve --port "$port" --flaws "$flaws" > /tmp/authprobe-demo-testbed.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q '^ready ' /tmp/authprobe-demo-testbed.log 2>/dev/null && break
  sleep 0.1
done
./target/release/authprobe scan "http://127.0.0.1:$port/" --user alice:alice-pass-1 --user bob:bob-pass-2 || true
