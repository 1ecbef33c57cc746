"""Python's RotatingFileHandler on workload W (see compare_rotating_file.sh).
Usage: rotating_file_peer.py THREADS RECORDS DIR; prints "python THREADS RECORDS SECONDS REC/S"."""
import logging, logging.handlers, os, sys, threading, time

threads, records, folder = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
handler = logging.handlers.RotatingFileHandler(
    os.path.join(folder, "app.log"), maxBytes=10 << 20, backupCount=5)
handler.setFormatter(logging.Formatter(
    "%(asctime)s %(levelname)s: %(message)s [in %(pathname)s:%(lineno)d]"))
log = logging.getLogger("app")
log.addHandler(handler)
log.setLevel(logging.INFO)
log.propagate = False

def work(start, count):
    for n in range(start, start + count):
        # The same record the Rust programs log: file and line given, as Rust's macros give them.
        log.handle(log.makeRecord("app", logging.INFO, "src/app/routes.rs", 42,
            "user %d logged in from 10.0.0.7 (request %d)", (72000 + n % 1000, 1962000 + n), None))

per = records // threads
started = time.perf_counter()
ts = [threading.Thread(target=work, args=(t * per, per)) for t in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
handler.flush()
secs = time.perf_counter() - started
print(f"python {threads} {records} {secs:.3f} {records / secs:.0f}")
