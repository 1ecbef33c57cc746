#!/usr/bin/env python3
"""Python's logging.handlers.SMTPHandler against the same server as benches/smtp_latency.rs:
times each logger.error() call on the calling thread. Usage: smtp_python_handler.py PORT COUNT.
Prints one JSON line: {"seconds": [per-call durations]}."""
import json
import logging
import logging.handlers
import sys
import time

port, count = int(sys.argv[1]), int(sys.argv[2])
handler = logging.handlers.SMTPHandler(
    mailhost=("127.0.0.1", port),
    fromaddr="app@example.com",
    toaddrs=["ops@example.com"],
    subject="Microblog Failure",
    timeout=30.0,
)
logger = logging.getLogger("bench")
logger.propagate = False
logger.addHandler(handler)
logger.setLevel(logging.ERROR)
# SMTPHandler imports smtplib on its first emit: do one untimed call first, as a running
# application would have done long ago.
logger.error("warm-up")
seconds = []
for i in range(count):
    t = time.perf_counter()
    logger.error("request %d failed", i)
    seconds.append(time.perf_counter() - t)
print(json.dumps({"seconds": seconds}))
