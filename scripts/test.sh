#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs the Debian tools when missing, then checks
# formatting, lints and the API docs, and runs every test in release mode (simulation is
# ~30x slower in debug).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-tools.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --release --workspace --all-targets -- -D warnings
echo "== cargo doc (a broken link or tag in the API docs is an error; ~1.5 min cold)"
RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps --workspace
echo "== cargo test (release)"
cargo test --release --workspace --no-fail-fast   # benches are not run here: `cargo bench` runs them
