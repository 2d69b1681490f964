#!/usr/bin/env bash
# Installs what mailbag's demo and tests need on a Debian 12 machine, as root.
# Idempotent: does nothing when everything is there.
set -euo pipefail

need_apt=()
# dovecot-imapd pulls dovecot-core; the POP3 server is a separate package.
[ -e /usr/lib/dovecot/imap ] || need_apt+=(dovecot-imapd)
[ -e /usr/lib/dovecot/pop3 ] || need_apt+=(dovecot-pop3d)
command -v cc >/dev/null || need_apt+=(gcc libc6-dev)
command -v python3 >/dev/null || need_apt+=(python3)

if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # The packages' own system service is not used: tests start private servers.
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
    if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
        systemctl disable --now dovecot >/dev/null 2>&1 || true
    fi
fi

if ! command -v cargo >/dev/null; then
    echo "setup: cargo is missing; install a Rust toolchain (rustup, stable >= 1.85) first" >&2
    exit 1
fi
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        rustup component add "$component"
    fi
done
