#!/usr/bin/env python3
"""Writes BENCHMARKS.md from the results of scripts/bench.sh.

report.py WORK_DIR OUT_FILE
WORK_DIR holds results.tsv (one row per timed run), meta.txt and b7.txt.
"""
import collections
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys

work, out = sys.argv[1:3]

meta = {}
with open(os.path.join(work, "meta.txt")) as f:
    for line in f:
        k, _, v = line.rstrip("\n").partition("=")
        meta[k] = v

rows = []
with open(os.path.join(work, "results.tsv")) as f:
    head = f.readline().rstrip("\n").split("\t")
    for line in f:
        rows.append(dict(zip(head, line.rstrip("\n").split("\t"))))

by_case = collections.OrderedDict()
for r in rows:
    by_case.setdefault(r["case"], collections.OrderedDict()).setdefault(r["tool"], []).append(r)


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summary(runs):
    ok = [r for r in runs if r["status"] == "ok"]
    if not ok:
        return None
    first = runs[0]
    return {
        "runs": len(ok),
        "wall": median(num(r["wall"]) for r in ok),
        "cpu": median((num(r["user"]) or 0) + (num(r["sys"]) or 0) for r in ok),
        "rss": median(num(r["rss_kb"]) for r in ok),
        "messages": first["messages"],
        "bytes": first["bytes"],
        "sum": first["sum"],
        "note": first["note"],
    }


def fmt_s(x, coarse=False):
    """Seconds. Wall times are measured to the millisecond; CPU times (coarse) in 10 ms steps."""
    if x is None:
        return "-"
    if x < 0.1:
        return "%.0f ms" % (x * 1000)
    if x < 1 and not coarse:
        return "%.3f s" % x
    if x < 10:
        return "%.2f s" % x
    return "%.1f s" % x


def fmt_mb(kb):
    return "-" if kb is None else "%.0f MB" % (kb / 1024) if kb >= 10240 else "%.1f MB" % (kb / 1024)


def fmt_ratio(x):
    return "-" if x is None else ("%.2fx" % x if x < 10 else "%.0fx" % x)


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception:
        return "?"


cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
quick = meta.get("quick") == "1"
n = int(meta.get("n", "0"))

POP3_TOOLS = {"raw-pop3", "raw-pop3-maildir", "mailbag-pop3", "poplib", "fetchmail", "getmail6"}
TITLES = collections.OrderedDict([
    ("B1-plain", "B1: %s messages of about 50 KB, plain TCP" % format(n, ",")),
    ("B1-tls", "B1: %s messages of about 50 KB, TLS (IMAPS)" % format(n, ",")),
    ("B2-plain", "B2: %s messages of about 2 KB, plain TCP" % format(n, ",")),
    ("B2-tls", "B2: %s messages of about 2 KB, TLS (IMAPS)" % format(n, ",")),
    ("B3", "B3: one message of %s MB (plain TCP): peak RSS" % format(int(meta.get("big", "0")) // 1000000)),
    ("B4", "B4: re-run with nothing new on a %s-message folder (plain TCP)" % format(int(meta.get("n4", "0")), ",")),
    ("B5-50k", "B5: POP3, %s messages of about 50 KB (plain)" % format(n, ",")),
    ("B5-2k", "B5: POP3, %s messages of about 2 KB (plain)" % format(n, ",")),
    ("B6", "B6: IDLE watchers"),
])
TOOL_TEXT = {
    "raw": "raw limit (bench/peers raw-imap)",
    "raw-pop3": "raw limit (bench/peers raw-pop3, all RETR pipelined)",
    "raw-maildir": "raw limit writing Maildir (raw-imap `--maildir`)",
    "raw-pop3-maildir": "raw POP3 limit writing Maildir (raw-pop3 `--maildir`)",
    "mailbag-maildir": "**mailbag** download → Maildir",
    "mailbag-mbox": "**mailbag** download → mbox",
    "mailbag-pop3": "**mailbag** download pop3:// → Maildir",
    "mbsync-default": "mbsync (defaults)",
    "mbsync-nocompress": "mbsync, `DisableExtension COMPRESS=DEFLATE`",
    "imaplib": "imaplib (500 UIDs per FETCH)",
    "imapclient": "IMAPClient (500 UIDs per FETCH)",
    "async-imap": "async-imap %s (tokio)" % meta.get("async_imap", ""),
    "poplib": "poplib",
    "fetchmail": "fetchmail (mda `cat > file`)",
    "getmail6": "getmail6 (Maildir)",
    "mailbag-watch": "**mailbag** watch",
}

lines = []
w = lines.append
w("# mailbag benchmarks")
w("")
if quick:
    w("**Quick mode** (`BENCH_QUICK=1`): small mailboxes, %s repetition(s); not for comparison." % meta.get("reps"))
    w("")
w("Machine: %s cores (`nproc`), %s, %s memory, Linux %s (%s). Server: %s, private instance "
  "on 127.0.0.1 (mailbag-testserver), its Maildir on disk and in the page cache (warmed by one "
  "untimed raw run), `mail_fsync = never`. The tools write to %s. Other engineers' builds share "
  "the 2 cores during the run (load average at the start: %s), so figures are noisy." % (
      sh("nproc"), cpu, mem, platform.release(), platform.machine(), meta.get("dovecot", "?"),
      meta.get("dest", "?"), meta.get("load", "?")))
w("")
w("Date: %s. Peers: %s; fetchmail %s; %s; IMAPClient %s; %s; async-imap %s." % (
    datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    meta.get("mbsync"), meta.get("fetchmail", "").replace("This is fetchmail release ", "").split(",")[0].split("+")[0],
    meta.get("getmail"), meta.get("imapclient"), meta.get("python"), meta.get("async_imap")))
w("")
if os.environ.get("BENCH_ELAPSED"):
    w("The whole run (installs checked, builds, all cases, this report) took %s min." % (
        "%.1f" % (int(os.environ["BENCH_ELAPSED"]) / 60)))
    w("")
w("Reproduce: `./scripts/bench.sh` as root on Debian 12 (installs the peers, builds, runs every "
  "case, rewrites this file; `BENCH_QUICK=1` for a 1,000-message smoke run).")
w("")
w("Each tool runs once per repetition, the tools of a case in turn (A, B, C, …, then again); "
  "figures are medians of %s runs unless the *runs* column says otherwise. "
  "Wall time is bash's clock (`$EPOCHREALTIME`, to the millisecond) around GNU time around the "
  "tool; CPU (user+sys, in 10 ms steps) and peak RSS come from GNU `/usr/bin/time -f '%%U %%S %%M'` "
  "around the whole process (start-up, login and writing included). MB/s is the wire size of the messages "
  "(CRLF, what the limit counted) over wall time. *× limit* is the tool's speed as a fraction "
  "of the raw limit's (1.00x = as fast); *mailbag is* is this tool's wall time over mailbag's "
  "(Maildir) wall time, i.e. how many times faster mailbag is than that tool (both as "
  "messages per second). A tool whose first run took over %s s runs 3 times, over %s s once "
  "(the *runs* column); getmail6 fetches only the first %s messages of the POP3 maildrop "
  "(`max_messages_per_session`), its rates are from that sample. The *check* column compares "
  "the messages each tool wrote, normalised by bench/verify.py, with the limit's count and wire "
  "bytes and with the other tools' checksum." % (meta.get("reps"), meta.get("slow3", "10"),
                                                   meta.get("slow1", "30"), meta.get("getmail_max")))
w("")
if meta.get("mailbag") != "1":
    w("**mailbag rows are not yet available**: `mailbag download --help` does not offer the command "
      "yet; the script measures them automatically once it does.")
    w("")

sums_seen = collections.Counter()


def check_text(tool, s, limit, majority):
    if s is None:
        return "-"
    if s["messages"] in ("-", "") or not limit:
        return "?"
    if tool == "getmail6" and s["messages"] == meta.get("getmail_max") and s["messages"] != limit["messages"]:
        return "sample: first %s msgs, %s B" % (s["messages"], s["bytes"])
    ok = s["messages"] == limit["messages"] and s["bytes"] == limit["bytes"]
    text = "%s msgs, %s B" % (s["messages"], s["bytes"])
    if s["sum"] not in ("-", ""):
        text += ", sum " + s["sum"][:8]
        if majority and s["sum"] != majority:
            ok = False
    return ("✓ " if ok else "✗ MISMATCH: ") + text


for case, title in TITLES.items():
    tools = by_case.get(case)
    if not tools:
        continue
    w("## " + title)
    w("")
    if case == "B6":
        for tool, runs in tools.items():
            w("- %s: %s" % (TOOL_TEXT.get(tool, tool), runs[0]["note"]))
        w("")
        continue
    summaries = {t: summary(r) for t, r in tools.items()}
    sums = collections.Counter(v["sum"] for v in summaries.values() if v and v["sum"] not in ("-", ""))
    majority = sums.most_common(1)[0][0] if sums else None
    if case == "B4":
        w("*Round trips*: the tool's waits for the server after the greeting, measured in two extra "
          "untimed runs through `bench/rtproxy.py`, once as is and once with the server's bytes held "
          "back by a delay D: round((wall with D - wall without) / D) - 1.")
        w("")
        w("| tool | wall | CPU | peak RSS | round trips | runs |")
        w("|---|---|---|---|---|---|")
    else:
        w("| tool | wall | CPU | peak RSS | MB/s | msgs/s | × limit | mailbag is | runs | check (first run) |")
        w("|---|---|---|---|---|---|---|---|---|---|")
    for tool, runs in tools.items():
        s = summaries[tool]
        name = TOOL_TEXT.get(tool, tool)
        # POP3 tools (B5, and those in B3) compare with the raw POP3 client and mailbag's POP3.
        pop = case.startswith("B5") or tool in POP3_TOOLS
        limit = summaries.get("raw-pop3" if pop else "raw")
        mb = summaries.get("mailbag-pop3" if pop else "mailbag-maildir")
        if s is None:
            why = runs[0]["note"] or runs[0]["status"]
            if runs[0]["status"] == "n/a":
                why = why
            else:
                why = "failed: " + why
            cols = 5 if case == "B4" else 9
            w("| %s | %s |%s" % (name, why, " |" * (cols - 1)))
            continue
        if case == "B4":
            rt = re.search(r"round_trips=(\d+)", s["note"] or "")
            w("| %s | %s | %s | %s | %s | %d |" % (name, fmt_s(s["wall"]), fmt_s(s["cpu"], coarse=True), fmt_mb(s["rss"]),
                                                  rt.group(1) if rt else "?", s["runs"]))
            continue
        # Rates use the tool's own count (a capped sample counts what it fetched), else the limit's.
        def rate(x):
            if not x or not x["wall"]:
                return None, None
            m, b = num(x["messages"]), num(x["bytes"])
            if not m and limit:
                m, b = num(limit["messages"]), num(limit["bytes"])
            return (b / 1e6 / x["wall"] if b else None), (m / x["wall"] if m else None)
        mbps, mps = rate(s)
        lim_mps = rate(limit)[1]
        mb_mps = rate(mb)[1]
        xl = mps / lim_mps if mps and lim_mps else None
        xm = mb_mps / mps if mps and mb_mps else None
        w("| %s | %s | %s | %s | %s | %s | %s | %s | %d | %s |" % (
            name, fmt_s(s["wall"]), fmt_s(s["cpu"], coarse=True), fmt_mb(s["rss"]),
            "-" if mbps is None else "%.0f" % mbps if mbps >= 10 else "%.1f" % mbps if mbps >= 1 else "%.2f" % mbps,
            "-" if mps is None or case == "B3" else "%.0f" % mps if mps >= 10 else "%.1f" % mps,
            fmt_ratio(xl), fmt_ratio(xm), s["runs"], check_text(tool, s, limit, majority)))
    if case == "B3":
        w("")
        w("POP3 rows compare with the raw POP3 client. Peak RSS is the figure of this case: the "
          "target is at most 16 MB for mailbag, whatever the message size.")
    failed = [r for rs in tools.values() for r in rs if r["status"] not in ("ok", "n/a")]
    if failed:
        w("")
        for r in failed:
            w("- failed run: %s rep %s: %s %s" % (r["tool"], r["rep"], r["status"], r["note"]))
    w("")

# B6
if "b6" in meta:
    w("## B6: IDLE watchers")
    w("")
    b6 = {}
    try:
        for line in open(os.path.join(work, "b6.txt")):
            k, _, v = line.strip().partition("=")
            b6[k] = v
    except OSError:
        pass
    if meta["b6"] != "ok":
        w("`bench/peers` idle-watch did not finish: %s. What it printed before:" % meta["b6"])
        w("")
        w("```")
        w("\n".join("%s=%s" % kv for kv in b6.items()))
        w("```")
    else:
        n = b6.get("watchers", "?")
        w("One process (`bench/peers/src/bin/idle-watch.rs`, on the `mailbag` library, tokio "
          "current-thread runtime) opens %s connections, each LOGIN + EXAMINE of its own folder "
          "+ IDLE (set-up took %s s). Then %s times an APPEND of a small message to one of the "
          "folders, on another connection, is timed from the moment it is written to the "
          "library's `EXISTS` notification and to a raw-socket client idling on the same folder."
          % (n, b6.get("setup_s", "?"), b6.get("rounds", "?")))
        w("")
        w("| figure | value | target |")
        w("|---|---|---|")
        per = float(b6["rss_per_watcher_kb"])
        w("| resident memory per watcher (VmRSS after - before, over %s) | %.1f KB | at most 64 KB |"
          % (n, per))
        w("| process RSS before / after the watchers | %s KB / %s KB | |"
          % (b6.get("rss_before_kb"), b6.get("rss_after_kb")))
        w("| APPEND to EXISTS, mailbag library (median) | %s ms | |" % b6.get("lib_delay_median_ms"))
        w("| APPEND to EXISTS, raw socket (median) | %s ms | |" % b6.get("raw_delay_median_ms"))
        w("| added by the library (median of the per-round differences) | %s ms | under 5 ms |"
          % b6.get("added_delay_median_ms"))
        w("")
        w("Per round (ms), library: %s; raw: %s." % (b6.get("lib_delay_ms"), b6.get("raw_delay_ms")))
    w("")

# B7
if "b7" in meta or "B7" in meta.get("cases", ""):
    w("## B7: the parser benchmark of mailbag-proto")
    w("")
    st = meta.get("b7", "missing")
    if st == "missing":
        w("Pending: `crates/mailbag-proto/benches/parse.rs` (the `parse` criterion bench, against "
          "imap-proto and imap-codec) does not exist yet; the script runs "
          "`cargo bench -p mailbag-proto --bench parse` once it does and copies its summary here.")
    else:
        try:
            text = open(os.path.join(work, "b7.txt")).read()
        except OSError:
            text = ""
        keep = []
        for line in text.splitlines():
            if re.match(r"^\s*(Compiling|Finished|Running|Benchmarking|Gnuplot|Warning|Found|Downloaded|Updating|Locking|Adding)", line):
                continue
            if not line.strip():
                continue
            keep.append(line.rstrip())
        if st != "ok":
            w("`cargo bench -p mailbag-proto --bench parse` failed; its last lines:")
            keep = keep[-20:]
        w("```")
        w("\n".join(keep[-120:]))
        w("```")
    w("")

w("## Before mailbag existed (from issue 8, same kind of machine, medians)")
w("")
w("| case | raw limit | imaplib | IMAPClient | mbsync default | mbsync no COMPRESS |")
w("|---|---|---|---|---|---|")
w("| 10k x 50 KB plain | 2.1 s, 2 MB RSS | 1.7-1.9 s, 45-508 MB | 9.8-12.2 s, 123-1516 MB | 23 s | 2.3 s, 8 MB |")
w("| 10k x 2 KB plain | 0.34 s | 0.43 s | 1.2 s | 1.6 s | 1.0 s |")
w("| 10k x 50 KB TLS | about 5.3 s (Python client) | | | | |")
w("")
w("POP3, 10k x 2 KB: raw pipelined 0.49 s, poplib 6.2 s, fetchmail 8.0 s, getmail6 210 s; "
  "10k x 50 KB: raw pipelined 3.0 s.")
w("")

derived = []
for case in ("B1-plain", "B1-tls", "B2-plain", "B3"):
    t = by_case.get(case, {})
    a, b = summary(t.get("mbsync-default", [])) if t.get("mbsync-default") else None, \
        summary(t.get("mbsync-nocompress", [])) if t.get("mbsync-nocompress") else None
    if a and b and a["wall"] and b["wall"]:
        derived.append("%s: mbsync with COMPRESS=DEFLATE (its default) took %s, without it %s: "
                       "%.1fx slower with compression." % (case, fmt_s(a["wall"]), fmt_s(b["wall"]),
                                                           a["wall"] / b["wall"]))
for case in ("B1", "B2"):
    p_, t_ = by_case.get(case + "-plain", {}), by_case.get(case + "-tls", {})
    a = summary(p_["raw"]) if "raw" in p_ else None
    b = summary(t_["raw"]) if "raw" in t_ else None
    if a and b and a["wall"] and b["wall"]:
        derived.append("%s: the raw limit over TLS took %s against %s in plain TCP (%.1fx)." % (
            case, fmt_s(b["wall"]), fmt_s(a["wall"]), b["wall"] / a["wall"]))
# mailbag against the limit of a client that stores the mail, in the same run.
STORING = [(case, "raw-maildir", "the raw limit writing Maildir", "mailbag-maildir", "mailbag → Maildir")
           for case in ("B1-plain", "B1-tls", "B2-plain", "B2-tls")] + \
          [(case, "raw-pop3-maildir", "the raw POP3 limit writing Maildir", "mailbag-pop3", "mailbag")
           for case in ("B5-50k", "B5-2k")]
for case, limit_tool, limit_text, mailbag_tool, mailbag_text in STORING:
    t = by_case.get(case, {})
    r = summary(t[limit_tool]) if limit_tool in t else None
    m = summary(t[mailbag_tool]) if mailbag_tool in t else None
    if r and m and r["wall"] and m["wall"]:
        derived.append("%s: %s took %s, %s %s: mailbag at %.2fx of the limit of a client that "
                       "stores the mail." % (case, limit_text, fmt_s(r["wall"]), mailbag_text,
                                             fmt_s(m["wall"]), r["wall"] / m["wall"]))
if derived:
    w("## Notes")
    w("")
    w("Derived from the tables above:")
    w("")
    for d in derived:
        w("- " + d)
    w("")

notes_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "NOTES.md")
if os.path.exists(notes_path):
    w(open(notes_path).read().rstrip())
    w("")

os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
print("wrote", out)
