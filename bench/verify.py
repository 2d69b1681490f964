#!/usr/bin/env python3
"""Normalises what a tool wrote and prints `messages=N bytes=B sum=HEX`.

verify.py maildir|files|mbox PATH [--strip-header NAME]...

- maildir: every file under PATH/**/{cur,new} (mbsync, mailbag, getmail6).
- files:   every regular file under PATH, recursively (imaplib, IMAPClient, async-imap,
           poplib, fetchmail's mda).
- mbox:    PATH is one mbox file; messages are split at `From ` lines after a blank line
           (or at the start), the `From ` line is dropped, mboxrd quoting (`>From ` with
           any number of `>`) loses one `>`, and the blank line that ends each message
           is removed.
Every message is then brought to the wire form: each LF not after a CR becomes CRLF (Maildir
and mbox store LF; IMAP and POP3 send CRLF). Headers named with --strip-header (e.g. a
Received: a tool adds) are dropped before counting. bytes is the sum of the wire sizes, as the
raw clients count literal bytes; sum is a SHA-256 over the sorted per-message SHA-256s, so
it does not depend on file names or order.
"""
import hashlib
import os
import re
import sys

LF = re.compile(rb"(?<!\r)\n")


def wire(msg):
    # Same as LF.sub(b"\r\n", msg) for mail without a bare CR before LF, and much faster.
    if b"\r" not in msg:
        return msg.replace(b"\n", b"\r\n")
    return msg.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def strip_headers(msg, names):
    if not names:
        return msg
    end = msg.find(b"\r\n\r\n")
    head, rest = (msg[:end + 2], msg[end + 2:]) if end >= 0 else (msg, b"")
    out = []
    skipping = False
    for line in head.split(b"\r\n")[:-1]:
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                out.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower()
        skipping = name in names
        if not skipping:
            out.append(line)
    return b"\r\n".join(out) + b"\r\n" + rest


def messages(kind, path):
    if kind == "maildir":
        for root, dirs, files in os.walk(path):
            if os.path.basename(root) in ("cur", "new"):
                for f in files:
                    with open(os.path.join(root, f), "rb") as fh:
                        yield fh.read()
    elif kind == "files":
        for root, dirs, files in os.walk(path):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    yield fh.read()
    elif kind == "mbox":
        # `mailbag download` takes a destination directory and writes DEST/INBOX.mbox there.
        if os.path.isdir(path):
            path = os.path.join(path, "INBOX.mbox")
        with open(path, "rb") as fh:
            data = fh.read()
        cur = None
        prev_blank = True
        for line in data.splitlines(keepends=True):
            if line.startswith(b"From ") and prev_blank:
                if cur is not None:
                    yield finish_mbox(cur)
                cur = []
                prev_blank = False
                continue
            if re.match(rb">+From ", line):
                line = line[1:]
            cur.append(line)
            prev_blank = line in (b"\n", b"\r\n")
        if cur is not None:
            yield finish_mbox(cur)
    else:
        raise SystemExit("unknown kind " + kind)


def finish_mbox(lines):
    if lines and lines[-1] in (b"\n", b"\r\n"):
        lines = lines[:-1]
    return b"".join(lines)


def main():
    kind, path = sys.argv[1:3]
    names = set()
    args = sys.argv[3:]
    while args:
        if args[0] == "--strip-header":
            names.add(args[1].lower().encode())
            args = args[2:]
        else:
            raise SystemExit("unknown argument " + args[0])
    sums = []
    total = 0
    for m in messages(kind, path):
        w = strip_headers(wire(m), names)
        total += len(w)
        sums.append(hashlib.sha256(w).digest())
    sums.sort()
    print("messages=%d bytes=%d sum=%s" % (len(sums), total, hashlib.sha256(b"".join(sums)).hexdigest()[:16]))


if __name__ == "__main__":
    main()
