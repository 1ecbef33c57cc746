#!/usr/bin/env python3
"""Syslog receivers on loopback for scripts/windows-syslog-test.sh, and the checks of what
they received. Independent of the crate: the checks parse RFC 5424 with their own expression.

  syslog_receiver.py serve DIR EXPECTED TIMEOUT [CERT KEY]
      Listens on 127.0.0.1 for UDP, TCP (RFC 6587 octet counting) and, given CERT and KEY,
      TLS; writes "UDP TCP TLS" ports to DIR/ports (TLS 0 without a certificate). Closes each
      TCP and TLS connection after CLOSE_AFTER messages, so the sender has to notice and
      reconnect. Stops once each listener has EXPECTED messages (plus a short grace to catch
      duplicates), or after TIMEOUT seconds; writes DIR/received.json.
  syslog_receiver.py check DIR PID [HOSTNAME]
      Checks DIR/received.json against what examples/syslog_smoke.rs sends (PID is the pid it
      printed; HOSTNAME, if given, the host name expected in the header). Prints PASS/FAIL per
      check; exits 1 if any failed.
"""

import base64
import datetime
import json
import os
import re
import socket
import ssl
import sys
import threading
import time

GRACE = 0.5
CLOSE_AFTER = 5


def serve(directory, expected, timeout, cert=None, key=None):
    got = {"udp": [], "tcp": [], "tls": []}
    connections = {"tcp": 0, "tls": 0}
    errors = []
    lock = threading.Lock()
    deadline = time.monotonic() + timeout
    stop = threading.Event()

    def add(via, raw):
        with lock:
            got[via].append(raw)

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.1)

    def listener():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        s.settimeout(0.1)
        return s

    tcp = listener()
    tls = listener() if cert else None
    context = None
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)

    def udp_loop():
        while not stop.is_set():
            try:
                data = udp.recv(65536)
            except socket.timeout:
                continue
            add("udp", data)

    def read_frames(conn, via):
        conn.settimeout(0.1)
        buf = b""
        count = 0
        while not stop.is_set() and count < CLOSE_AFTER:
            try:
                data = conn.recv(65536)
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            except OSError as e:
                with lock:
                    errors.append(f"{via}: {e}")
                break
            if not data:
                break
            buf += data
            while True:
                m = re.match(rb"(\d+) ", buf)
                if not m:
                    if buf and not buf[:1].isdigit():
                        with lock:
                            errors.append(f"{via}: not octet-counted: {buf[:60]!r}")
                        buf = b""
                    break
                n = int(m.group(1))
                if len(buf) < m.end() + n:
                    break
                add(via, buf[m.end():m.end() + n])
                count += 1
                buf = buf[m.end() + n:]
        conn.close()

    def accept_loop(s, via):
        while not stop.is_set():
            try:
                conn, _ = s.accept()
            except socket.timeout:
                continue
            if via == "tls":
                conn.settimeout(5)
                try:
                    conn = context.wrap_socket(conn, server_side=True)
                except (OSError, ssl.SSLError) as e:
                    with lock:
                        errors.append(f"tls handshake: {e}")
                    continue
            with lock:
                connections[via] += 1
            threading.Thread(target=read_frames, args=(conn, via), daemon=True).start()

    threads = [threading.Thread(target=udp_loop, daemon=True),
               threading.Thread(target=accept_loop, args=(tcp, "tcp"), daemon=True)]
    if tls:
        threads.append(threading.Thread(target=accept_loop, args=(tls, "tls"), daemon=True))
    for t in threads:
        t.start()
    ports = f"{udp.getsockname()[1]} {tcp.getsockname()[1]} {tls.getsockname()[1] if tls else 0}"
    with open(os.path.join(directory, "ports.tmp"), "w") as f:
        f.write(ports + "\n")
    os.replace(os.path.join(directory, "ports.tmp"), os.path.join(directory, "ports"))

    vias = ["udp", "tcp"] + (["tls"] if tls else [])
    while time.monotonic() < deadline:
        with lock:
            done = all(len(got[v]) >= expected for v in vias)
        if done:
            time.sleep(GRACE)
            break
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(1)
    with lock:
        out = {v: [base64.b64encode(m).decode() for m in got[v]] for v in vias}
        out["errors"] = errors
        out["connections"] = connections
    with open(os.path.join(directory, "received.json"), "w") as f:
        json.dump(out, f)


RFC5424 = re.compile(
    rb"<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (.*))?\Z",
    re.S,
)
BOM = b"\xef\xbb\xbf"
LOCAL3 = 19
# (severity, structured data, MSG) of each record examples/syslog_smoke.rs logs, in order.
EXPECTED = [
    (3, b"-", b"smoke error: disk full on C:\\data"),
    (4, b'[log4rs@32473 request_id="42"]', b"smoke warn: queue at 91%"),
    (6, b"-", BOM + "smoke info: user café logged in".encode()),
    (7, b"-", b"smoke debug: cache warmed"),
    (6, b"-", b"smoke newline: first line#012second line"),
    # After the receiver closed the TCP / TLS connection (CLOSE_AFTER = 5):
    (6, b"-", b"smoke reconnect: 1"),
    (6, b"-", b"smoke reconnect: 2"),
]


def check(directory, pid, hostname=None):
    with open(os.path.join(directory, "received.json")) as f:
        received = json.load(f)
    failed = 0

    def result(ok, what, detail=""):
        nonlocal failed
        print(f"{'PASS' if ok else 'FAIL'} {what}")
        if not ok:
            failed += 1
            if detail:
                print(f"     {detail}")

    for e in received["errors"]:
        result(False, f"receiver error: {e}")
    now = datetime.datetime.now(datetime.timezone.utc)
    for via in [v for v in ("udp", "tcp", "tls") if v in received]:
        msgs = [base64.b64decode(m) for m in received[via]]
        if via in received.get("connections", {}):
            # Plain TCP has no acknowledgements: after the close the appender reports, as a
            # warning record of its own before the rest, that the last records may be lost.
            notice = msgs[CLOSE_AFTER] if len(msgs) > CLOSE_AFTER else b""
            m = RFC5424.match(notice)
            result(bool(m) and int(m.group(1)) == LOCAL3 * 8 + 4
                   and b"the server closed the connection; up to 5 records" in m.group(8),
                   f"{via}: after the close, a warning says up to {CLOSE_AFTER} records may be "
                   "lost", repr(notice))
            del msgs[CLOSE_AFTER:CLOSE_AFTER + 1]
        result(len(msgs) == len(EXPECTED),
               f"{via}: the {len(EXPECTED)} records arrived, each once (got {len(msgs)})",
               "\n     ".join(repr(m) for m in msgs))
        parsed = [RFC5424.match(m) for m in msgs]
        result(all(parsed) and msgs, f"{via}: every message is RFC 5424",
               "\n     ".join(repr(m) for m, p in zip(msgs, parsed) if not p))
        if not all(parsed) or len(msgs) != len(EXPECTED):
            continue
        pris = [int(p.group(1)) for p in parsed]
        want = [LOCAL3 * 8 + sev for sev, _, _ in EXPECTED]
        result(pris == want, f"{via}: PRI is local3*8+severity (155 156 158 159 158 158 158), in "
               "order", f"got {pris}")
        if via in received.get("connections", {}):
            n = received["connections"][via]
            result(n == 2, f"{via}: the appender saw the receiver close the connection after "
                   f"{CLOSE_AFTER} records and sent the rest on a new one ({n} connections)")
        texts = [(p.group(7), p.group(8)) for p in parsed]
        want_texts = [(sd, msg) for _, sd, msg in EXPECTED]
        result(texts == want_texts,
               f"{via}: SD and MSG as logged (key-value as SD-PARAM, BOM before non-ASCII, "
               "newline escaped as #012)",
               "\n     ".join(f"got {t!r} want {w!r}" for t, w in zip(texts, want_texts) if t != w))
        result(all(p.group(4) == b"syslog-smoke" for p in parsed),
               f"{via}: APP-NAME is syslog-smoke")
        result(all(p.group(5) == pid.encode() for p in parsed),
               f"{via}: PROCID is the Windows process id {pid}",
               f"got {[p.group(5) for p in parsed]}")
        hosts = {p.group(3).decode() for p in parsed}
        if hostname:
            result(hosts == {hostname}, f"{via}: HOSTNAME is {hostname}", f"got {hosts}")
        else:
            result("-" not in hosts, f"{via}: HOSTNAME is set ({hosts})")
        ok_times = True
        detail = ""
        for p in parsed:
            stamp = p.group(2).decode()
            m = re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)", stamp)
            try:
                t = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
                close = abs((now - t).total_seconds()) < 600
            except ValueError:
                close = False
            if not (m and close):
                ok_times = False
                detail = f"bad or far-off timestamp {stamp}"
        result(ok_times, f"{via}: TIMESTAMP is RFC 3339 with microseconds and offset, and now",
               detail)
    print(f"syslog receiver checks: {failed} failed")
    return 1 if failed else 0


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "serve":
        cert, key = (sys.argv[5], sys.argv[6]) if len(sys.argv) >= 7 else (None, None)
        serve(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), cert, key)
        return 0
    if len(sys.argv) >= 4 and sys.argv[1] == "check":
        return check(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
