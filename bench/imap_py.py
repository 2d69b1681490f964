#!/usr/bin/env python3
"""Python IMAP peers of mailbag: imaplib (stdlib) or IMAPClient, fetching every body of a
folder to DEST/UID.eml, in batches of BATCH UIDs per UID FETCH (the way scripts do it).

imap_py.py imaplib|imapclient plain|tls PORT USER FOLDER DEST [CA_FILE]
Password from MAILBAG_PASSWORD. Prints: messages=N bytes=B.
"""
import os
import ssl
import sys

BATCH = 500


def main():
    lib, mode, port, user, folder, dest = sys.argv[1:7]
    ca = sys.argv[7] if len(sys.argv) > 7 else None
    port = int(port)
    pw = os.environ["MAILBAG_PASSWORD"]
    ctx = None
    if mode == "tls":
        ctx = ssl.create_default_context(cafile=ca)
    messages = total = 0
    if lib == "imaplib":
        import imaplib
        if ctx:
            c = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=ctx)
        else:
            c = imaplib.IMAP4("127.0.0.1", port)
        c.login(user, pw)
        c.select(folder, readonly=True)
        typ, data = c.uid("SEARCH", None, "ALL")
        uids = data[0].split()
        for i in range(0, len(uids), BATCH):
            batch = b",".join(uids[i:i + BATCH]).decode()
            typ, data = c.uid("FETCH", batch, "(BODY.PEEK[])")
            for item in data:
                if isinstance(item, tuple):
                    head, body = item
                    uid = head.split(b"UID ")[1].split()[0].rstrip(b")")
                    with open(os.path.join(dest, uid.decode() + ".eml"), "wb") as f:
                        f.write(body)
                    messages += 1
                    total += len(body)
        c.logout()
    else:
        from imapclient import IMAPClient
        c = IMAPClient("127.0.0.1", port=port, ssl=bool(ctx), ssl_context=ctx)
        c.login(user, pw)
        c.select_folder(folder, readonly=True)
        uids = c.search("ALL")
        for i in range(0, len(uids), BATCH):
            for uid, data in c.fetch(uids[i:i + BATCH], ["BODY.PEEK[]"]).items():
                body = data[b"BODY[]"]
                with open(os.path.join(dest, "%d.eml" % uid), "wb") as f:
                    f.write(body)
                messages += 1
                total += len(body)
        c.logout()
    print("messages=%d bytes=%d" % (messages, total))


if __name__ == "__main__":
    main()
