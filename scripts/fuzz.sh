#!/usr/bin/env bash
# Runs every cargo-fuzz target under fuzz/ for SECONDS_PER_TARGET seconds (default 600), one
# after another, one libFuzzer process at a time.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`); runs on the stable toolchain through
# RUSTC_BOOTSTRAP=1. Seeds: fuzz/seeds/<target> (committed, made by scripts/fuzz-seeds.py from
# the tests), plus the MailKit corpus of recorded server replies when it is found (set
# MAILBAG_CORPUS to its mailkit/ directory, else ../shared/corpus/mailkit is looked for above
# the checkout). New inputs go to fuzz/corpus/<target>, crashes to fuzz/artifacts/<target>,
# libFuzzer's output to fuzz/logs/<target>.log. Prints one line per target with its executions
# and time; exits non-zero if any target found something. Several copies may run at once on
# different targets (e.g. one per core).
set -uo pipefail

secs=${1:-600}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export RUSTC_BOOTSTRAP=1

all=(imap_response imap_roundtrip pop3_reply pop3_session utf7 sequence_set mbox_roundtrip)
if [ -f fuzz/fuzz_targets/imap_client.rs ]; then
    all+=(imap_client)
fi
targets=("${@:-${all[@]}}")
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi

corpus=${MAILBAG_CORPUS:-}
if [ -z "$corpus" ]; then
    dir=$root
    while [ "$dir" != / ]; do
        if [ -d "$dir/shared/corpus/mailkit" ]; then corpus=$dir/shared/corpus/mailkit; break; fi
        dir=$(dirname "$dir")
    done
fi

max_len() {
    case $1 in
        utf7 | sequence_set) echo 512 ;;
        imap_roundtrip | pop3_reply | pop3_session) echo 4096 ;;
        *) echo 8192 ;;
    esac
}

extra_seeds() {
    [ -n "$corpus" ] || return 0
    case $1 in
        imap_response | imap_roundtrip | imap_client) [ -d "$corpus/imap" ] && echo "$corpus/imap" ;;
        pop3_session) [ -d "$corpus/pop3" ] && echo "$corpus/pop3" ;;
    esac
    return 0
}

cargo fuzz build >/dev/null || exit 1
mkdir -p fuzz/logs
failed=0
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    log=fuzz/logs/$t.log
    start=$(date +%s)
    # -jobs=1 runs the fuzzer in a child whose output goes to fuzz-0.log in the working dir;
    # one working dir per target, so several copies of this script can run side by side.
    mkdir -p "fuzz/logs/$t.d"
    (cd "fuzz/logs/$t.d" && rm -f fuzz-0.log &&
        cargo fuzz run --fuzz-dir "$root/fuzz" "$t" "$root/fuzz/corpus/$t" "$root/fuzz/seeds/$t" $(extra_seeds "$t") -- \
            -max_total_time="$secs" -jobs=1 -workers=1 -rss_limit_mb=2048 -timeout=30 \
            -max_len="$(max_len "$t")" -print_final_stats=1 \
            -artifact_prefix="$root/fuzz/artifacts/$t/" >"$t.out" 2>&1
        status=$?
        cat "$t.out" fuzz-0.log >"../$t.log" 2>/dev/null
        rm -f fuzz-0.log "$t.out"
        exit $status)
    status=$?
    elapsed=$(( $(date +%s) - start ))
    execs=$(grep -a 'stat::number_of_executed_units' "$log" | tail -1 | awk '{print $2}')
    [ -n "$execs" ] || execs=$(grep -aoE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    if [ $status -ne 0 ] || ls "fuzz/artifacts/$t" | grep -q .; then
        echo "$t: FINDING after ${elapsed}s (${execs:-?} executions): see $log and fuzz/artifacts/$t/"
        failed=1
    else
        echo "$t: ${execs:-?} executions in ${elapsed}s, no finding"
    fi
done
exit $failed
