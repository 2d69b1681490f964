#!/usr/bin/env python3
"""Regenerates fuzz/seeds/<target>/ from the project's own test vectors and transcripts.

It reads the Rust string literals of the test files (and unit tests) that hold server
responses, mailbox names, sequence sets and mbox messages, and writes each as a seed in the
form its fuzz target reads. Run from the repository root: python3 scripts/fuzz-seeds.py
"""
import hashlib
import os
import re
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "fuzz", "seeds")
LIT = re.compile(rb'(b?)r(#*)"(.*?)"\2|(b?)"((?:[^"\\]|\\.)*)"', re.S)


def unescape(body):
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != 0x5C:
            out.append(c)
            i += 1
            continue
        n = body[i + 1:i + 2]
        i += 2
        if n == b"n":
            out += b"\n"
        elif n == b"r":
            out += b"\r"
        elif n == b"t":
            out += b"\t"
        elif n == b"0":
            out += b"\0"
        elif n in (b"\\", b'"', b"'"):
            out += n
        elif n == b"x":
            out.append(int(body[i:i + 2], 16))
            i += 2
        elif n == b"u":
            end = body.index(b"}", i)
            out += chr(int(body[i + 1:end], 16)).encode()
            i = end + 1
        elif n == b"\n":
            while i < len(body) and body[i] in b" \t\r\n":
                i += 1
        else:
            out += b"\\" + n
    return bytes(out)


def literals(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        src = f.read()
    for m in LIT.finditer(src):
        if m.group(3) is not None:
            yield m.group(3)
        else:
            yield unescape(m.group(5))


def functions(path):
    """The literals of each `fn` in the file, in order: a test's transcript."""
    with open(os.path.join(ROOT, path), "rb") as f:
        src = f.read()
    for part in re.split(rb"\n\s*(?:#\[test\]\s*)?fn ", src)[1:]:
        lits = []
        for m in LIT.finditer(part):
            lits.append(m.group(3) if m.group(3) is not None else unescape(m.group(5)))
        yield lits


def write(target, data, seen):
    if not data or len(data) > 16384:
        return
    h = hashlib.sha1(data).hexdigest()[:16]
    if (target, h) in seen:
        return
    seen.add((target, h))
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, h), "wb") as f:
        f.write(data)


def is_imap(b):
    return (b.endswith(b"\n") or b"\r\n" in b) and re.match(rb"(\* |\+|[A-Za-z0-9.]+ (OK|NO|BAD))", b)


def is_pop3(b):
    return re.match(rb"(\+OK|-ERR|\+ |\+\r|\.|[0-9]+ )", b) and b.endswith(b"\n")


def main():
    if os.path.isdir(SEEDS):
        shutil.rmtree(SEEDS)
    seen = set()
    proto = "crates/mailbag-proto"
    imap_files = [f"{proto}/tests/{f}" for f in ("imap_parse.rs", "imap_limits.rs", "imap_props.rs")]
    imap_files += [f"{proto}/src/imap/parse/{f}" for f in os.listdir(os.path.join(ROOT, proto, "src/imap/parse"))]
    imap_files.append(f"{proto}/src/imap/mod.rs")
    for path in imap_files:
        for fn in functions(path):
            stream = b""
            for lit in fn:
                if is_imap(lit):
                    for t in ("imap_response", "imap_roundtrip"):
                        write(t, lit, seen)
                    stream += lit
            for t in ("imap_response", "imap_roundtrip"):
                write(t, stream, seen)
    # The client core: each transcript test's server lines in order, and every response seed.
    for fn in functions(f"{proto}/tests/imap_client_core.rs"):
        stream = b"".join(lit for lit in fn if is_imap(lit))
        write("imap_client", stream, seen)
    for name in os.listdir(os.path.join(SEEDS, "imap_response")):
        with open(os.path.join(SEEDS, "imap_response", name), "rb") as f:
            write("imap_client", f.read(), seen)
    # Values a client sends back: the encoder tests' mailbox names and sets.
    for path in [f"{proto}/tests/imap_encode.rs", f"{proto}/src/imap/utf7.rs",
                 f"{proto}/src/imap/types/sequence.rs", f"{proto}/src/imap/types/mailbox.rs"]:
        for lit in literals(path):
            if re.fullmatch(rb"[0-9:*,]+", lit):
                write("sequence_set", lit, seen)
                write("imap_roundtrip", lit, seen)
            if b"\n" not in lit and len(lit) < 200:
                write("utf7", lit, seen)
    # POP3: single replies under each shape; each test's replies in order as a session.
    shapes = [b"\x00\x00", b"\x55\x55", b"\xaa\xaa", b"\xff\xff", b"\x04\x91"]
    for path in [f"{proto}/tests/pop3_parser.rs", f"{proto}/tests/pop3_session.rs",
                 f"{proto}/tests/pop3_sasl.rs", f"{proto}/src/pop3/reply.rs",
                 f"{proto}/src/pop3/session.rs"]:
        for fn in functions(path):
            stream = b""
            for lit in fn:
                if is_pop3(lit):
                    for s in shapes:
                        write("pop3_reply", s + lit, seen)
                    stream += lit
            # The session target's input starts after the greeting.
            if stream.startswith(b"+OK") and stream.count(b"\n") > 1:
                write("pop3_session", stream.split(b"\n", 1)[1], seen)
            write("pop3_session", stream, seen)
    # mbox: the store's messages, several per seed (0xFF separates messages).
    store = "crates/mailbag-store"
    msgs = []
    for path in [f"{store}/src/mboxrd.rs", f"{store}/src/folder.rs", f"{store}/src/store.rs"] + \
            [f"{store}/tests/{f}" for f in os.listdir(os.path.join(ROOT, store, "tests"))]:
        if os.path.isfile(os.path.join(ROOT, path)):
            msgs += [l for l in literals(path) if b"\n" in l and b"\xff" not in l]
    for i, m in enumerate(msgs):
        write("mbox_roundtrip", m, seen)
        write("mbox_roundtrip", b"\xff".join(msgs[i:i + 4]), seen)
    counts = {t: len(os.listdir(os.path.join(SEEDS, t))) for t in sorted(os.listdir(SEEDS))}
    print(counts)


if __name__ == "__main__":
    sys.exit(main())
