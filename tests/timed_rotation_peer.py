"""CPython's TimedRotatingFileHandler, driven by the steps file that tests/rotating_file_timed_vs_cpython.rs
also gives our appender. Runs under libfaketime: `clock T` writes `T` (Unix seconds, FAKETIME_FMT=%s) to
$FAKETIME_TIMESTAMP_FILE, which libfaketime re-reads at every clock reading (FAKETIME_NO_CACHE=1):
the clock stands still at T until the next `clock` step, so a slow machine cannot move a record
across a boundary.

    python3 timed_rotation_peer.py STEPS DIR

Steps, one per line:
    open when=H interval=1 utc=0 at_time=- backup_count=3
    clock 1796083200
    log some message
"""

import datetime
import logging
import logging.handlers
import os
import sys
import time


def set_clock(stamp_file, t):
    with open(stamp_file, "w") as f:
        f.write("%d\n" % t)
    now = int(time.time())
    if now != t:
        sys.exit("the faked clock reads %d, not %d: is libfaketime loaded?" % (now, t))


def open_handler(directory, arg):
    kw = dict(kv.split("=", 1) for kv in arg.split())
    at_time = None
    if kw["at_time"] != "-":
        h, m, s = (int(x) for x in kw["at_time"].split(":"))
        at_time = datetime.time(h, m, s)
    handler = logging.handlers.TimedRotatingFileHandler(
        os.path.join(directory, "app.log"),
        when=kw["when"],
        interval=int(kw["interval"]),
        backupCount=int(kw["backup_count"]),
        utc=kw["utc"] == "1",
        atTime=at_time,
        encoding="utf-8",
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler


def main():
    steps, directory = sys.argv[1], sys.argv[2]
    stamp_file = os.environ["FAKETIME_TIMESTAMP_FILE"]
    handler = None
    with open(steps, encoding="utf-8") as f:
        for line in f:
            op, _, arg = line.rstrip("\n").partition(" ")
            if op == "clock":
                set_clock(stamp_file, int(arg))
            elif op == "open":
                handler = open_handler(directory, arg)
            elif op == "log":
                record = logging.LogRecord("app", logging.INFO, __file__, 1, arg, None, None)
                handler.handle(record)
            else:
                sys.exit("unknown step %r" % line)
    if handler is not None:
        handler.close()


main()
