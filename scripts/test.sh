#!/usr/bin/env bash
# Runs every check of mailbag: formatting, clippy, and all tests (including those against a
# private Dovecot that the tests start themselves). Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked --no-fail-fast 2>&1 | tee target/test-output.log

# Every harness server stops and removes its directory when its test process ends (its
# watchdog needs a moment). Anything left behind is a harness bug.
for _ in $(seq 50); do
    if ! pgrep -f 'dovecot -F -c /tmp/mailbag-dovecot-' >/dev/null \
        && ! ls -d /tmp/mailbag-dovecot-* >/dev/null 2>&1; then
        break
    fi
    sleep 0.2
done
if pgrep -af 'dovecot -F -c /tmp/mailbag-dovecot-' || ls -d /tmp/mailbag-dovecot-* 2>/dev/null; then
    echo "test harness left a Dovecot process or directory behind" >&2
    exit 1
fi
echo "== all checks passed"
