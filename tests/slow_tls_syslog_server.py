"""A TLS syslog receiver that reads slowly, for tests/syslog_shutdown.rs.

Usage: slow_tls_syslog_server.py CERT KEY DELAY_SECONDS

Listens on 127.0.0.1 (a free port, printed as the first line), and for each connection: completes
the handshake (TLS 1.3 sends session tickets the client must read), waits DELAY_SECONDS before
reading anything (a busy receiver), then reads octet-counted records (RFC 5425) until the
connection ends, and prints one JSON line: {"records": N, "end": "close_notify" | "eof" |
"reset" | "error: ..."}. "close_notify" means the client closed the TLS session properly (RFC
5425 section 4.4); the server then answers with its own close_notify. Exits when stdin closes.
"""

import json
import socket
import ssl
import sys
import threading
import time


def count_records(buf):
    """Octet-counting frames complete in buf: (count, rest)."""
    n = 0
    while True:
        space = buf.find(b" ")
        if space <= 0:
            return n, buf
        length = int(buf[:space])
        if len(buf) < space + 1 + length:
            return n, buf
        buf = buf[space + 1 + length:]
        n += 1


def serve(conn, ctx, delay):
    records = 0
    end = "eof"
    tls = None
    try:
        tls = ctx.wrap_socket(conn, server_side=True, suppress_ragged_eofs=False)
        time.sleep(delay)
        buf = b""
        while True:
            data = tls.recv(65536)
            if not data:
                end = "close_notify"
                break
            buf += data
            n, buf = count_records(buf)
            records += n
        try:
            tls.unwrap()
        except (OSError, ssl.SSLError):
            pass
    except ssl.SSLEOFError:
        end = "eof"
    except ConnectionResetError:
        end = "reset"
    except (OSError, ssl.SSLError) as e:
        end = "error: %s" % e
    finally:
        (tls or conn).close()
    print(json.dumps({"records": records, "end": end}), flush=True)


def main():
    cert, key, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    print(listener.getsockname()[1], flush=True)

    def accept_loop():
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve, args=(conn, ctx, delay), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    sys.stdin.read()


if __name__ == "__main__":
    main()
