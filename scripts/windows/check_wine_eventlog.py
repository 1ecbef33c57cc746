#!/usr/bin/env python3
"""Checks, from wine's stderr, what examples/eventlog_smoke.rs reported with ReportEventW.

Run wine with WINEDEBUG=-all,+eventlog,fixme+advapi: for each ReportEventW call wine prints
  fixme:advapi:ReportEventW (handle,0xTYPE,0xCATEGORY,0xEVENTID,...): stub
then the string on the channel of its type (err: error, warn: warning, trace: information):
  err:eventlog:ReportEventW L"text"          (escaped like C, cut after ~290 characters)

usage: check_wine_eventlog.py STDERR_FILE (hint|nohint) [log|tracing]
`log` (the default) checks `eventlog_smoke log`, `tracing` checks `eventlog_smoke tracing` (the
tracing front end: fields, spans, an error chain, a `log` record through the bridge; each once).
Prints one line per check and exits 1 if any failed.
"""
import re
import sys

LONG_RECORD_LINES = 800  # as in examples/eventlog_smoke.rs
MAX_MESSAGE_CHARS = 31_839  # the Event Log's per-string limit
MARKER_ROOM = 64  # room the appender keeps for " [part i/n]"

ERROR, WARNING, INFORMATION = 1, 2, 4
CHANNEL = {ERROR: "err", WARNING: "warn", INFORMATION: "trace"}


def wine_escape(text):
    """Wine's debugstr_w rendering of an ASCII/BMP string (without the L"...")."""
    out = []
    for ch in text:
        c = ord(ch)
        if ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif c < 32 or c >= 127:
            out.append("\\%04x" % c)
        else:
            out.append(ch)
    return "".join(out)


def expected_events():
    long_text = "ERROR smoke: " + "".join(
        "long line %04d: the quick brown fox jumps over\n" % i for i in range(LONG_RECORD_LINES)
    ).rstrip("\n")
    chunk = MAX_MESSAGE_CHARS - MARKER_ROOM  # ASCII: one UTF-16 unit per character
    assert len(long_text) > chunk and len(long_text) <= 2 * chunk, "the long record needs 2 parts"
    return [
        (ERROR, 7, 1000, "ERROR smoke: disk full on C:\\data (errno 28)", True),
        (WARNING, 7, 2000, "WARN smoke: queue at 91% of capacity", True),
        (INFORMATION, 7, 3000, "INFO smoke: user caf\u00e9 logged in", True),
        (INFORMATION, 7, 3000, "DEBUG smoke: cache warmed in 12 ms", True),
        # Split parts: wine cuts long strings, so compare the start of each part.
        (ERROR, 7, 1000, long_text[:chunk], False),
        (ERROR, 7, 1000, long_text[chunk:] + " [part 2/2]", False),
    ]


def expected_tracing_events():
    """What `eventlog_smoke tracing` reports: its Python encoder's format is
    `%(levelname)s %(name)s %(funcName)s [%(spans)s] %(message)s user_id=%(user_id)s`."""
    spans = 'save_profile [request{id=7}:save_profile{attempt=1 user="susan"}]'
    return [
        # A typed field, the span chain, the #[instrument] function as funcName, the error chain.
        (ERROR, 7, 1000, "ERROR smoke %s cannot save the profile user_id=42\n"
         'Error: cannot save the profile of "susan"\n'
         "Caused by: disk full on C:\\data" % spans, True),
        (WARNING, 7, 2000, "WARNING smoke %s queue almost full user_id=-" % spans, True),
        # A `log` record through the LogBridge: the same appender, the span chain, once.
        (WARNING, 7, 2000, "WARNING smoke %s a log record through the bridge user_id=-" % spans, True),
        # Outside spans; the trace event is below the root level and must not appear.
        (INFORMATION, 7, 3000, "INFO smoke (unknown function) [] user caf\u00e9 logged in user_id=7", True),
        # No message: the fields are the message.
        (INFORMATION, 7, 3000, "DEBUG smoke (unknown function) [] elapsed_ms=12 user_id=-", True),
    ]


def main():
    path, hint = sys.argv[1], sys.argv[2]
    mode = sys.argv[3] if len(sys.argv) > 3 else "log"
    lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    calls = []
    pending = None
    call_re = re.compile(r"fixme:advapi:ReportEventW \([0-9A-Fa-f]+,0x([0-9a-f]+),0x([0-9a-f]+),0x([0-9a-f]+),")
    text_re = re.compile(r":(err|warn|trace):eventlog:ReportEventW L\"(.*)$")
    for line in lines:
        m = call_re.search(line)
        if m:
            pending = tuple(int(g, 16) for g in m.groups())
            continue
        m = text_re.search(line)
        if m and pending is not None:
            calls.append((pending, m.group(1), m.group(2)))
            pending = None

    failures = 0
    checks = 0

    def check(ok, what):
        nonlocal failures, checks
        checks += 1
        failures += 0 if ok else 1
        print(("PASS " if ok else "FAIL ") + what)

    expected = expected_tracing_events() if mode == "tracing" else expected_events()
    check(len(calls) == len(expected), "%d ReportEventW calls (expected %d)" % (len(calls), len(expected)))
    for i, ((etype, cat, eid, text, whole), call) in enumerate(zip(expected, calls)):
        (got_type, got_cat, got_id), channel, got_text = call
        want = wine_escape(text)
        if whole:
            text_ok = got_text == want + '"'
        else:
            shown = got_text.rstrip(".").rstrip('"')  # wine ends a cut string with "..."
            text_ok = len(shown) > 100 and want.startswith(shown[:-8])
        check(
            (got_type, got_cat, got_id) == (etype, cat, eid) and channel == CHANNEL[etype] and text_ok,
            "event %d: type %d category %d id %d on %s: %s" % (i + 1, got_type, got_cat, got_id, channel, got_text[:70]),
        )
    hints = sum("is not registered in the Application log" in l for l in lines)
    if hint == "hint":
        check(hints == 1, "the not-registered hint was given once (%d times)" % hints)
    else:
        check(hints == 0, "no not-registered hint once registered (%d)" % hints)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
