#!/usr/bin/env bash
# The mailbag demo: starts a private Dovecot with a demo mailbox on 127.0.0.1, runs the
# mailbag CLI against it, tells where the output went, and stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
echo "== building mailbag (release)"
cargo build --release --locked --quiet -p mailbag-cli -p mailbag-testserver
BIN=target/release

OUT=${MAILBAG_DEMO_OUT:-$(mktemp -d /tmp/mailbag-demo.XXXXXX)}
mkdir -p "$OUT"

# The server runs as a coprocess: we read its ports from it and tell it to deliver mail.
coproc SERVER { "$BIN/mailbag-testserver" --messages 25 --size 6000; }
SERVER_IN=${SERVER[1]}
stop_server() { echo quit >&"$SERVER_IN" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
trap stop_server EXIT
while IFS='=' read -r key value <&"${SERVER[0]}"; do
    [ "$key" = READY ] && break
    declare "$key=$value"
done
echo "== private Dovecot running: IMAP 127.0.0.1:$IMAP_PORT (STARTTLS), IMAPS :$IMAPS_PORT," \
     "POP3 :$POP3_PORT (STLS), POP3S :$POP3S_PORT; CA $CA_FILE; user $USER"
export MAILBAG_PASSWORD=$PASSWORD

run() {
    echo
    echo "\$ $*"
    "$@"
}

M="$BIN/mailbag"
CA=(--ca-file "$CA_FILE")
POP="pop3s://$USER@127.0.0.1:$POP3S_PORT"

IMAP="imaps://$USER@127.0.0.1:$IMAPS_PORT"

run "$M" --version
run "$M" capabilities "$IMAP" "${CA[@]}"
run "$M" folders "$IMAP" "${CA[@]}"
run "$M" examine "$IMAP/INBOX" "${CA[@]}"
run "$M" subjects "$IMAP/INBOX" --last 5 "${CA[@]}"
run "$M" search "$IMAP/INBOX" SUBJECT "Nachricht" "${CA[@]}"
run "$M" flags "$IMAP/INBOX" 1:2 --add '\Flagged' "${CA[@]}"
run "$M" download "$IMAP/INBOX" "$OUT/imap-mbox" --format mbox "${CA[@]}"

echo
echo "\$ $M watch $IMAP/INBOX ${CA[*]}    (the script delivers two messages meanwhile)"
"$M" watch "$IMAP/INBOX" "${CA[@]}" > "$OUT/watch.log" 2>/dev/null &
WATCH=$!
sleep 2
echo deliver >&"$SERVER_IN"; read -r _ <&"${SERVER[0]}"
sleep 1
echo deliver >&"$SERVER_IN"; read -r _ <&"${SERVER[0]}"
for _ in $(seq 40); do [ "$(grep -c '^new' "$OUT/watch.log")" -ge 2 ] && break; sleep 0.25; done
kill "$WATCH" 2>/dev/null || true; wait "$WATCH" 2>/dev/null || true
cat "$OUT/watch.log"

run "$M" download "$IMAP/INBOX" "$OUT/imap-mbox" --format mbox "${CA[@]}"
run "$M" download "$IMAP" "$OUT/imap-maildir" --all-folders --format maildir "${CA[@]}"

run "$M" pop stat "$POP" "${CA[@]}"
run "$M" download "$POP" "$OUT/pop3-mbox" --format mbox "${CA[@]}"
echo
echo "== demo output is in $OUT"
