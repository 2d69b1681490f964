#!/usr/bin/env python3
"""poplib peer: RETR every message of the POP3 maildrop to DEST/N.eml, one at a time.

pop3_py.py PORT USER DEST      Password from MAILBAG_PASSWORD. Prints: messages=N bytes=B.
poplib undoes dot-stuffing and splits lines; we write them back with CRLF.
"""
import os
import poplib
import sys


def main():
    port, user, dest = sys.argv[1:4]
    c = poplib.POP3("127.0.0.1", int(port))
    c.user(user)
    c.pass_(os.environ["MAILBAG_PASSWORD"])
    count, _ = c.stat()
    total = 0
    for i in range(1, count + 1):
        _, lines, _ = c.retr(i)
        body = b"\r\n".join(lines) + b"\r\n"
        with open(os.path.join(dest, "%d.eml" % i), "wb") as f:
            f.write(body)
        total += len(body)
    c.quit()
    print("messages=%d bytes=%d" % (count, total))


if __name__ == "__main__":
    main()
