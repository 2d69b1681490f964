#!/usr/bin/env bash
# mailbag benchmarks (issue 8): mailbag against its peers and the raw limit, on a private
# Dovecot on 127.0.0.1. One command, as root on Debian 12:
#
#   ./scripts/bench.sh                 # full run (5 interleaved repetitions), writes BENCHMARKS.md
#   BENCH_QUICK=1 ./scripts/bench.sh   # 1,000 messages, 1 repetition, writes bench/work/BENCHMARKS.quick.md
#
# Options (environment):
#   BENCH_QUICK=1        small mailboxes and one repetition, for development
#   BENCH_CASES="B1 B5"  only these cases (default: B1 B2 B3 B4 B5 B6 B7)
#   BENCH_REPS=N         repetitions (default 5, quick 1)
#   BENCH_OUT=FILE       where the report goes (default BENCHMARKS.md, quick: bench/work/...)
#   BENCH_WORK=DIR       scratch directory (default bench/work; removed and recreated)
#
# What it does: installs the peers when missing (Debian isync, fetchmail, time; IMAPClient and
# getmail6 into bench/.venv), builds mailbag and the testserver (root workspace, release) and
# the bench peers (bench/peers, its own Cargo project), starts one harness Dovecot per
# mailbox (INBOX filled by `mailbag-testserver --messages N --size S`, so the same mailbox
# serves IMAP and POP3), runs every tool of a case once per repetition in turn, checks what
# each tool wrote (bench/verify.py) and writes the report (bench/report.py).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
    N=1000; N4=10000; BIG=20000000; REPS=${BENCH_REPS:-1}
    OUT=${BENCH_OUT:-bench/BENCHMARKS.quick.md}
else
    N=10000; N4=100000; BIG=200000000; REPS=${BENCH_REPS:-5}
    OUT=${BENCH_OUT:-BENCHMARKS.md}
fi
CASES=${BENCH_CASES:-B1 B2 B3 B4 B5 B6 B7}
W=${BENCH_WORK:-$ROOT/bench/work}
TMO=${BENCH_TIMEOUT:-900}
# Where the tools write (removed after each run): tmpfs, so that the figures measure the
# clients and the protocol, not this machine's disk (fsync is free there; mbsync's default
# FSync costs about 10 ms a message on this machine's disk). BENCH_DEST=/some/disk/dir measures
# with the disk.
D=${BENCH_DEST:-/dev/shm/mailbag-bench}
STARTED=$(date +%s)
log() { printf '[bench %4ss] %s\n' "$(( $(date +%s) - STARTED ))" "$*" >&2; }
want() { case " $CASES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# ---------------------------------------------------------------- install and build
bash scripts/setup.sh
need_apt=()
command -v mbsync >/dev/null || need_apt+=(isync)
command -v fetchmail >/dev/null || need_apt+=(fetchmail)
[ -x /usr/bin/time ] || need_apt+=(time)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
    log "installing ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
VENV=$ROOT/bench/.venv
if ! "$VENV/bin/python" -c 'import imapclient' 2>/dev/null || [ ! -x "$VENV/bin/getmail" ]; then
    log "installing IMAPClient and getmail6 into bench/.venv"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check IMAPClient getmail6
fi
PY=$VENV/bin/python

log "building mailbag and the testserver (release)"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
cargo build --release --locked --quiet -p mailbag-testserver -p mailbag-cli
BIN=$CARGO_TARGET_DIR/release
log "building the bench peers (bench/peers, release)"
(unset CARGO_TARGET_DIR; cd bench/peers && cargo build --release --locked --quiet)
PEERS=$ROOT/bench/peers/target/release

MAILBAG_OK=0
if "$BIN/mailbag" download --help 2>&1 | grep -q -- '--format'; then MAILBAG_OK=1; fi
MAILBAG_WATCH=0
if "$BIN/mailbag" watch --help 2>&1 | grep -qi -- 'idle\|watch'; then
    "$BIN/mailbag" watch --help 2>&1 | grep -q -- '--' && MAILBAG_WATCH=1
fi
log "mailbag download available: $MAILBAG_OK"

rm -rf "$W" "$D"
mkdir -p "$W" "$D" "$(dirname "$OUT")"
RES=$W/results.tsv
printf 'case\ttool\trep\twall\tuser\tsys\trss_kb\tmessages\tbytes\tsum\tstatus\tnote\n' > "$RES"
META=$W/meta.txt
: > "$META"
meta() { printf '%s=%s\n' "$1" "$2" >> "$META"; }
meta load "$(cut -d" " -f1-3 /proc/loadavg)"; meta quick "$QUICK"; meta n "$N"; meta n4 "$N4"; meta big "$BIG"; meta reps "$REPS"
meta mailbag "$MAILBAG_OK"; meta dest "$D ($(df --output=fstype "$D" | tail -1))"; meta cases "$CASES"
meta mbsync "$(mbsync --version 2>&1 | head -1)"
meta fetchmail "$(fetchmail --version 2>/dev/null | head -1 | cut -c1-60)"
meta getmail "$("$VENV/bin/getmail" --version 2>&1 | head -1)"
meta imapclient "$("$PY" -c 'import imapclient; print(imapclient.__version__)')"
meta python "$("$PY" --version 2>&1)"
meta dovecot "$(/usr/sbin/dovecot --version 2>&1 | head -1)"
meta async_imap "$(grep -A1 'name = "async-imap"' bench/peers/Cargo.lock | sed -n 's/version = "\(.*\)"/\1/p')"

# ---------------------------------------------------------------- the server
SERVER_PID=
start_server() { # ARGS for mailbag-testserver
    coproc SERVER { exec "$BIN/mailbag-testserver" "$@"; }
    SERVER_IN=${SERVER[1]}
    local key value
    while IFS='=' read -r key value <&"${SERVER[0]}"; do
        [ "$key" = READY ] && break
        printf -v "SRV_$key" '%s' "$value"
    done
    export MAILBAG_PASSWORD=$SRV_PASSWORD
    U=$SRV_USER
}
stop_server() {
    if [ -n "${SERVER_PID:-}" ]; then
        echo quit >&"$SERVER_IN" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
RTPROXY_PID=
cleanup() {
    [ -n "$RTPROXY_PID" ] && kill "$RTPROXY_PID" 2>/dev/null
    stop_server
    rm -rf "$D"
}
trap cleanup EXIT

# ---------------------------------------------------------------- measuring
# measure CASE TOOL REP VERIFY_KIND VERIFY_PATH [VERIFY_ARGS...] -- COMMAND...
# Times COMMAND with GNU time (wall, user, sys, peak RSS). On the first repetition the output
# is normalised and checked by verify.py; on later ones the tool's own count is kept.
measure() {
    local case=$1 tool=$2 rep=$3 vkind=$4 vpath=$5
    shift 5
    local vargs=()
    while [ "$1" != -- ]; do vargs+=("$1"); shift; done
    shift
    local status=ok rc=0
    # Wall time to the millisecond from bash's clock (GNU time's %e has 10 ms steps, 7 % of a
    # 0.15 s B2 run); it includes starting GNU time and timeout, about 1 ms, for every tool.
    local t0=$EPOCHREALTIME t1
    /usr/bin/time -f '%e %U %S %M' -o "$W/time.txt" timeout "$TMO" "$@" \
        > "$W/out.txt" 2> "$W/err.txt" || rc=$?
    t1=$EPOCHREALTIME
    [ $rc = 0 ] || status="failed(rc=$rc)"
    local wall user sys rss
    read -r wall user sys rss < <(tail -1 "$W/time.txt")
    wall=$(awk "BEGIN{printf \"%.3f\", $t1 - $t0}")
    local counts
    counts=$(grep -o 'messages=[0-9]* bytes=[0-9]*' "$W/out.txt" | tail -1 || true)
    local sum=-
    if [ "$rep" = 1 ] && [ "$vkind" != none ]; then
        local v
        v=$("$PY" bench/verify.py "$vkind" "$vpath" "${vargs[@]}" 2>&1) || v="verify failed: $v"
        counts=$(grep -o 'messages=[0-9]* bytes=[0-9]*' <<<"$v" || true)
        sum=$(grep -o 'sum=[0-9a-f]*' <<<"$v" | cut -d= -f2 || true)
        [ -n "$sum" ] || sum=-
    fi
    local msgs=${counts#messages=}; msgs=${msgs%% *}
    local bytes=${counts##*bytes=}
    [ -n "$counts" ] || { msgs=-; bytes=-; }
    local note=""
    [ -f "$W/rt.txt" ] && note=$(tail -1 "$W/rt.txt") && rm -f "$W/rt.txt"
    if [ "$status" != ok ]; then
        note="$(tail -3 "$W/err.txt" | tr '\t\n' '  ' | cut -c1-300)"
        log "$case $tool rep $rep FAILED: $note"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$case" "$tool" "$rep" \
        "$wall" "$user" "$sys" "$rss" "$msgs" "$bytes" "$sum" "$status" "$note" >> "$RES"
    log "$case $tool rep $rep: ${wall}s wall, $(awk "BEGIN{print $user+$sys}")s cpu, ${rss} KB, $msgs msgs, $bytes bytes ${sum:+sum $sum} $status"
}
na() { # CASE TOOL WHY
    printf '%s\t%s\t1\t-\t-\t-\t-\t-\t-\t-\tn/a\t%s\n' "$1" "$2" "$3" >> "$RES"
}
fresh() { rm -rf "$1"; mkdir -p "$1"; }
settle() { sync; } # untimed: dirty pages of the last tool must not slow the next one

# ---------------------------------------------------------------- the tools
# Each tool_X CASE REP MODE runs one timed repetition. MODE: plain|tls (IMAP) or pop3.
port_of() { if [ "$1" = tls ]; then echo "$SRV_IMAPS_PORT"; else echo "$SRV_IMAP_PORT"; fi; }

tool_raw() {
    measure "$1" raw "$2" none - -- "$PEERS/raw-imap" "$3" "$(port_of "$3")" "$U" INBOX "$SRV_CA_FILE"
}
# The limit of a client that stores the mail: raw-imap writing each message to a Maildir file
# as mailbag's writer does (no parsing, no state).
tool_raw_maildir() {
    local d=$D/raw-maildir; fresh "$d"
    measure "$1" raw-maildir "$2" maildir "$d" -- "$PEERS/raw-imap" "$3" "$(port_of "$3")" "$U" INBOX \
        "$SRV_CA_FILE" --maildir "$d"
}
mailbag_url() { # MODE
    if [ "$1" = tls ]; then echo "imaps://$U@127.0.0.1:$SRV_IMAPS_PORT/INBOX"
    else echo "imap://$U@127.0.0.1:$SRV_IMAP_PORT/INBOX"; fi
}
mailbag_tls_args() { # MODE
    if [ "$1" = tls ]; then echo "--ca-file $SRV_CA_FILE"; else echo "--tls none --allow-plaintext"; fi
}
tool_mailbag_maildir() {
    local d=$D/mailbag-maildir; fresh "$d"
    # shellcheck disable=SC2046
    measure "$1" mailbag-maildir "$2" maildir "$d" -- "$BIN/mailbag" download "$(mailbag_url "$3")" \
        "$d/Maildir" --format maildir $(mailbag_tls_args "$3")
}
tool_mailbag_mbox() {
    local d=$D/mailbag-mbox; fresh "$d"
    # shellcheck disable=SC2046
    measure "$1" mailbag-mbox "$2" mbox "$d/inbox.mbox" -- "$BIN/mailbag" download "$(mailbag_url "$3")" \
        "$d/inbox.mbox" --format mbox $(mailbag_tls_args "$3")
}
mbsync_conf() { # MODE DEST EXTRA -> config file path
    local mode=$1 d=$2 extra=$3 conf=$W/mbsyncrc
    {
        [[ $extra == *FSync* ]] && echo "FSync no"
        echo "IMAPAccount acc"
        echo "Host localhost" # mbsync checks the certificate by name, not by IP address
        echo "Port $(port_of "$mode")"
        echo "User $U"
        echo "Pass $SRV_PASSWORD"
        if [ "$mode" = tls ]; then
            echo "SSLType IMAPS"
            echo "CertificateFile $SRV_CA_FILE"
        else
            echo "SSLType None"
        fi
        [[ $extra == *Disable* ]] && echo "DisableExtension COMPRESS=DEFLATE"
        echo
        echo "IMAPStore remote"
        echo "Account acc"
        echo
        echo "MaildirStore local"
        echo "Path $d/"
        echo "Inbox $d/INBOX"
        echo
        echo "Channel ch"
        echo "Far :remote:"
        echo "Near :local:"
        echo "Patterns INBOX"
        echo "Create Near"
        echo "SyncState *"
    } > "$conf"
    echo "$conf"
}
tool_mbsync() { # CASE REP MODE NAME EXTRA
    local d=$D/$4; fresh "$d"
    local conf; conf=$(mbsync_conf "$3" "$d" "$5")
    # mbsync adds an X-TUID header to each message it stores; verify.py drops it.
    measure "$1" "$4" "$2" maildir "$d" --strip-header X-TUID -- mbsync -q -c "$conf" ch
}
tool_mbsync_default() { tool_mbsync "$1" "$2" "$3" mbsync-default ""; }
tool_mbsync_nocompress() { tool_mbsync "$1" "$2" "$3" mbsync-nocompress "DisableExtension COMPRESS=DEFLATE"; }
tool_py() { # CASE REP MODE LIB
    local d=$D/$4; fresh "$d"
    measure "$1" "$4" "$2" files "$d" -- "$PY" bench/imap_py.py "$4" "$3" "$(port_of "$3")" "$U" INBOX "$d" "$SRV_CA_FILE"
}
tool_imaplib() { tool_py "$1" "$2" "$3" imaplib; }
tool_imapclient() { tool_py "$1" "$2" "$3" imapclient; }
tool_async_imap() {
    local d=$D/async-imap; fresh "$d"
    measure "$1" async-imap "$2" files "$d" -- "$PEERS/async-imap-fetch" "$3" "$(port_of "$3")" "$U" INBOX "$d" "$SRV_CA_FILE"
}

# POP3 tools (plain POP3, no DELE: the maildrop stays as it is).
tool_raw_pop3() { measure "$1" raw-pop3 "$2" none - -- "$PEERS/raw-pop3" "$SRV_POP3_PORT" "$U"; }
tool_raw_pop3_maildir() {
    local d=$D/raw-pop3-maildir; fresh "$d"
    measure "$1" raw-pop3-maildir "$2" maildir "$d" -- "$PEERS/raw-pop3" "$SRV_POP3_PORT" "$U" --maildir "$d"
}
tool_mailbag_pop3() {
    local d=$D/mailbag-pop3; fresh "$d"
    measure "$1" mailbag-pop3 "$2" maildir "$d" -- "$BIN/mailbag" download "pop3://$U@127.0.0.1:$SRV_POP3_PORT" \
        "$d/Maildir" --format maildir --tls none --allow-plaintext
}
tool_poplib() {
    local d=$D/poplib; fresh "$d"
    measure "$1" poplib "$2" files "$d" -- "$PY" bench/pop3_py.py "$SRV_POP3_PORT" "$U" "$d"
}
tool_fetchmail() {
    local d=$D/fetchmail; fresh "$d"
    local home=$W/fetchmail-home; fresh "$home"
    cat > "$home/fetchmailrc" <<EOF
set no syslog
set no bouncemail
set invisible
poll 127.0.0.1 with protocol POP3 port $SRV_POP3_PORT
    user "$U" there with password "$SRV_PASSWORD" is root here
    keep fetchall no rewrite sslproto ''
    mda "cat > $d/msg.\$\$"
EOF
    chmod 600 "$home/fetchmailrc"
    measure "$1" fetchmail "$2" files "$d" -- env FETCHMAILHOME="$home" HOME="$home" \
        fetchmail --silent -f "$home/fetchmailrc" --pidfile "$home/pid" --nodetach
}
tool_getmail() {
    local d=$D/getmail6; fresh "$d"; mkdir -p "$d/Maildir/cur" "$d/Maildir/new" "$d/Maildir/tmp"
    # getmail6 refuses to deliver as root: it delivers as the stock mail user.
    chown -R mail "$d"
    local gm=$W/getmail-home; fresh "$gm"
    cat > "$gm/getmailrc" <<EOF
[retriever]
type = SimplePOP3Retriever
server = 127.0.0.1
port = $SRV_POP3_PORT
username = $U
password = $SRV_PASSWORD

[destination]
type = Maildir
path = $d/Maildir/
user = mail

[options]
read_all = true
delete = false
delivered_to = false
received = false
verbose = 0
max_messages_per_session = $GETMAIL_MAX
EOF
    measure "$1" getmail6 "$2" maildir "$d" --strip-header Return-Path -- \
        "$VENV/bin/getmail" --getmaildir "$gm" --rcfile "$gm/getmailrc"
}

IMAP_TOOLS="raw raw_maildir mailbag_maildir mailbag_mbox mbsync_default mbsync_nocompress imaplib imapclient async_imap"
# mbsync with COMPRESS takes 85-100 s per 500 MB run here (Dovecot's deflate): measured in
# plain TCP only (B1, B2), which shows what compression costs on loopback; TLS and B3 skip it
# to keep the whole run under 20 minutes.
IMAP_TOOLS_FAST="raw raw_maildir mailbag_maildir mailbag_mbox mbsync_nocompress imaplib imapclient async_imap"
POP3_TOOLS="raw_pop3 raw_pop3_maildir mailbag_pop3 poplib fetchmail getmail"

# run_case CASE MODE REPS TOOLS...: every tool once per repetition, in turn.
run_case() {
    local case=$1 mode=$2 reps=$3; shift 3
    local rep t
    for t in "$@"; do
        if [[ $t == mailbag* ]] && [ "$MAILBAG_OK" != 1 ]; then
            na "$case" "${t//_/-}" "not yet available: \`mailbag download\` is not implemented yet"
        fi
    done
    declare -A first=()
    for rep in $(seq 1 "$reps"); do
        for t in "$@"; do
            [[ $t == mailbag* ]] && [ "$MAILBAG_OK" != 1 ] && continue
            # Slow peers get fewer runs (see SLOW_* below); the report shows each median's runs.
            if [ "$rep" -gt 1 ]; then
                local f=${first[$t]:-0}
                if awk "BEGIN{exit !($f > $SLOW_1_S)}"; then continue; fi
                if awk "BEGIN{exit !($f > $SLOW_3_S)}" && [ "$rep" -gt 3 ]; then continue; fi
            fi
            "tool_$t" "$case" "$rep" "$mode"
            [ "$rep" = 1 ] && first[$t]=$(tail -1 "$W/time.txt" | cut -d' ' -f1)
            rm -rf "$D"; settle
        done
    done
}
# The slowest peers take minutes per run in the full case: a tool whose first run took over
# SLOW_3_S seconds runs 3 times, over SLOW_1_S once, which keeps the whole run near 20 minutes.
# getmail6 forks a delivery process per message (about 20 ms each): it fetches a sample of
# GETMAIL_MAX messages (its rate is what the report compares).
SLOW_3_S=${BENCH_SLOW_3_S:-8}
SLOW_1_S=${BENCH_SLOW_1_S:-15}
GETMAIL_MAX=${BENCH_GETMAIL_MAX:-500}
meta getmail_max "$GETMAIL_MAX"; meta slow3 "$SLOW_3_S"; meta slow1 "$SLOW_1_S"

warm() { "$PEERS/raw-imap" plain "$SRV_IMAP_PORT" "$U" INBOX >/dev/null; }

# ---------------------------------------------------------------- B1 and B5 (50 KB)
if want B1 || want B5; then
    log "B1/B5: filling $N x 50 KB"
    start_server --messages "$N" --size 50000
    warm
    if want B1; then
        run_case B1-plain plain "$REPS" $IMAP_TOOLS
        run_case B1-tls tls "$REPS" $IMAP_TOOLS_FAST
    fi
    if want B5; then run_case B5-50k pop3 "$REPS" $POP3_TOOLS; fi
    stop_server
fi

# ---------------------------------------------------------------- B2 and B5 (2 KB)
if want B2 || want B5; then
    log "B2/B5: filling $N x 2 KB"
    start_server --messages "$N" --size 2000
    warm
    if want B2; then
        run_case B2-plain plain "$REPS" $IMAP_TOOLS
        run_case B2-tls tls "$REPS" $IMAP_TOOLS
    fi
    if want B5; then run_case B5-2k pop3 "$REPS" $POP3_TOOLS; fi
    stop_server
fi

# ---------------------------------------------------------------- B3: one big message
if want B3; then
    log "B3: one message of $BIG bytes"
    start_server --messages 1 --size "$BIG"
    warm
    run_case B3 plain "$REPS" $IMAP_TOOLS_FAST raw_pop3 mailbag_pop3 poplib
    stop_server
fi

# ---------------------------------------------------------------- B4: nothing new
if want B4; then
    log "B4: filling $N4 x 1 KB"
    start_server --messages "$N4" --size 1000
    warm
    # Each tool syncs once (untimed), then the timed runs find nothing new. Round trips are
    # measured in extra, untimed runs through bench/rtproxy.py, which holds the server's
    # bytes back RT_DELAY_MS as a slow link would: waits = round((wall with delay - wall
    # without) / delay), and round trips = waits - 1 (the greeting, which every tool waits for).
    RT_DELAY_MS=${RT_DELAY_MS:-200}
    RT_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    echo 0 > "$W/rtdelay"
    "$PY" bench/rtproxy.py "$RT_PORT" "$SRV_IMAP_PORT" "$W/rtcount.txt" "$W/rtdelay" &
    RTPROXY_PID=$!
    sleep 0.5
    b4_tools="raw mbsync_default mbsync_nocompress"
    [ "$MAILBAG_OK" = 1 ] && b4_tools="raw mailbag_maildir mbsync_default mbsync_nocompress" \
        || na B4 mailbag-maildir "not yet available: \`mailbag download\` is not implemented yet"
    mkdir -p "$D/b4"
    # b4_argv TOOL PORT: sets B4_ARGV to the tool's command against PORT.
    b4_argv() {
        case $1 in
            raw) B4_ARGV=("$PEERS/raw-imap" plain "$2" "$U" INBOX --check) ;;
            # mailbag's state names the account with its port: one destination per port.
            mailbag_maildir) B4_ARGV=("$BIN/mailbag" download "imap://$U@127.0.0.1:$2/INBOX" \
                "$D/b4/mailbag-$2" --format maildir --tls none --allow-plaintext) ;;
            mbsync_default|mbsync_nocompress)
                local extra=""; [ "$1" = mbsync_nocompress ] && extra="DisableExtension COMPRESS=DEFLATE"
                mkdir -p "$D/b4/$1"
                SRV_IMAP_PORT=$2 mbsync_conf plain "$D/b4/$1" "$extra" > /dev/null
                cp "$W/mbsyncrc" "$D/b4/$1-$2.rc"
                B4_ARGV=(mbsync -q -c "$D/b4/$1-$2.rc" ch) ;;
        esac
    }
    for t in $b4_tools; do
        log "B4: first sync of $t (untimed)"
        b4_argv "$t" "$SRV_IMAP_PORT"; "${B4_ARGV[@]}" > /dev/null
        if [ "$t" = mailbag_maildir ]; then b4_argv "$t" "$RT_PORT"; "${B4_ARGV[@]}" > /dev/null; fi
        : > "$W/rtcount.txt"
        b4_argv "$t" "$RT_PORT"
        local_ms() { date +%s%3N; }
        echo 0 > "$W/rtdelay"
        t0=$(local_ms); "${B4_ARGV[@]}" > /dev/null; t0=$(( $(local_ms) - t0 ))
        echo "$RT_DELAY_MS" > "$W/rtdelay"
        t1=$(local_ms); "${B4_ARGV[@]}" > /dev/null; t1=$(( $(local_ms) - t1 ))
        echo 0 > "$W/rtdelay"
        sleep 0.3
        waits=$(( (t1 - t0 + RT_DELAY_MS / 2) / RT_DELAY_MS ))
        printf 'round_trips=%d waits=%d %s wall_ms=%d/%d delay_ms=%d\n' "$((waits - 1))" "$waits" \
            "$(tail -1 "$W/rtcount.txt")" "$t0" "$t1" "$RT_DELAY_MS" > "$W/rt-$t.txt"
        log "B4 $t: $(cat "$W/rt-$t.txt")"
    done
    for rep in $(seq 1 "$REPS"); do
        for t in $b4_tools; do
            cp "$W/rt-$t.txt" "$W/rt.txt"
            b4_argv "$t" "$SRV_IMAP_PORT"
            measure B4 "${t//_/-}" "$rep" none - -- "${B4_ARGV[@]}"
        done
    done
    log "B4: done"
    kill "$RTPROXY_PID" 2>/dev/null || true; wait "$RTPROXY_PID" 2>/dev/null || true; RTPROXY_PID=
    rm -rf "$D/b4"
    # The last server: tell it to quit and do not wait while it removes 100,000 files.
    echo quit >&"$SERVER_IN" 2>/dev/null || true
    SERVER_PID=
fi

log "servers stopped"
# ---------------------------------------------------------------- B6: IDLE watchers
# bench/peers idle-watch (on the mailbag library): B6_N connections in one process, each
# LOGIN + EXAMINE of its own folder + IDLE; resident memory per watcher, then B6_ROUNDS APPENDs
# to one folder on another connection, timed to the library's EXISTS and to a raw-socket IDLE
# client's on the same folder. Its key=value output goes to bench/work/b6.txt.
if want B6; then
    B6_N=${BENCH_B6_N:-$([ "$QUICK" = 1 ] && echo 100 || echo 1000)}
    B6_ROUNDS=${BENCH_B6_ROUNDS:-7}
    log "B6: $B6_N folders watched with IDLE"
    # Each idling imap process takes an inotify instance of the mail user (uid 8); past
    # fs.inotify.max_user_instances (128 on Debian) Dovecot polls instead, and the delay
    # measured would be the poll interval's, not the library's.
    want_inotify=$((B6_N + 64))
    if [ "$(cat /proc/sys/fs/inotify/max_user_instances)" -lt "$want_inotify" ]; then
        log "B6: raising fs.inotify.max_user_instances to $want_inotify"
        sysctl -q -w fs.inotify.max_user_instances="$want_inotify" || log "B6: could not (not root?); Dovecot will poll"
    fi
    meta b6_inotify_instances "$(cat /proc/sys/fs/inotify/max_user_instances)"
    start_server --messages 0
    if /usr/bin/time -f '%e %U %S %M' -o "$W/b6time.txt" timeout "$TMO" \
        "$PEERS/idle-watch" "$SRV_IMAP_PORT" "$U" "$B6_N" "$B6_ROUNDS" > "$W/b6.txt" 2> "$W/b6err.txt"; then
        meta b6 ok
    else
        meta b6 "failed: $(tail -2 "$W/b6err.txt" | tr '\n' ' ' | cut -c1-200)"
    fi
    cat "$W/b6.txt" >&2
    stop_server
fi

# ---------------------------------------------------------------- B7: the parser bench
if want B7; then
    if [ -f benches/parser/benches/parse.rs ]; then
        log "B7: cargo bench --manifest-path benches/parser/Cargo.toml"
        extra=()
        [ "$QUICK" = 1 ] && extra=(-- --warm-up-time 1 --measurement-time 2)
        if cargo bench --locked --manifest-path benches/parser/Cargo.toml "${extra[@]}" > "$W/b7.txt" 2>&1; then
            meta b7 ok
        else
            meta b7 failed
        fi
    else
        meta b7 missing
    fi
fi

stop_server
log "writing $OUT"
BENCH_ELAPSED=$(( $(date +%s) - STARTED )) "$PY" bench/report.py "$W" "$OUT"
log "done in $(( $(date +%s) - STARTED )) s"
