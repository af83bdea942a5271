#!/usr/bin/env bash
# Runs Ember's whole test suite on a fresh machine: installs what the tests need
# (redis-server and redis-tools, the differential oracle), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  echo "installing redis-server and redis-tools (the differential tests' oracle)"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-tools >/dev/null
fi
# Debian's package starts a system redis on 6379; the tests use their own ports.

cargo test --workspace "$@"
# The simulator: a swarm of 400 seeds (re-running every 10th to check determinism),
# then the mutation check: each planted bug must be caught within its budget of seeds.
cargo run -q -p ember-sim --release -- swarm --from 50000 --seeds 400 --check-determinism 10
cargo test -p ember-sim --release --features planted-bugs --test mutations "$@"
