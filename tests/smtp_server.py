#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd) for tests/smtp.rs and benches/smtp_latency.rs.

Prints `PORT <n>` once it listens on 127.0.0.1, then one JSON line per accepted mail
({"from", "to", "data" (raw message), "auth" (user or null), and from Python's own mail
parser "subject" (decoded), "headers" (names), "body" (decoded)}), and exits when
its stdin closes (so it never outlives the test that started it).

Options:
  --mode plain|starttls|tls   tls = implicit TLS (SMTPS) on the whole connection
  --cert PEM --key PEM        server certificate (needed for starttls and tls)
  --auth USER:PASSWORD        offer AUTH PLAIN/LOGIN and require it before MAIL
  --delay SECONDS             sleep before answering DATA (a slow server)
  --port N                    listen on N instead of a free port (restart on the same port)
  --refuse ADDR               answer 550 to RCPT TO:<ADDR> (repeatable)
  --defer-once ADDR           answer 451 to the first RCPT TO:<ADDR>, accept it later (repeatable)
  --stall-at MAIL|RCPT        never answer that command (a server that hangs mid-dialogue)

Besides mails it prints one line per login attempt: {"event": "auth", "user", "ok"}.
"""

import argparse
import asyncio
import email
import email.policy
import json
import logging
import ssl
import sys
import threading
import warnings

from aiosmtpd.smtp import SMTP, AuthResult


def event(**fields):
    sys.stdout.write(json.dumps(dict(event=fields.pop("kind"), **fields)) + "\n")
    sys.stdout.flush()


class Handler:
    def __init__(self, delay, refuse=(), defer_once=(), stall_at=None):
        self.delay = delay
        self.refuse = set(refuse)
        self.defer_once = set(defer_once)
        self.stall_at = stall_at

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.stall_at == "MAIL":
            await asyncio.sleep(3600)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.stall_at == "RCPT":
            await asyncio.sleep(3600)
        if address in self.refuse:
            return "550 5.1.1 no such user"
        if address in self.defer_once:
            self.defer_once.discard(address)
            return "451 4.2.0 try again later"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        data = envelope.original_content or envelope.content
        if isinstance(data, bytes):
            data = data.decode("utf-8", "replace")
        auth = session.auth_data.login.decode() if session.auth_data is not None else None
        # Python's own mail parser, independent of the client: decoded subject, header names.
        parsed = email.message_from_string(data, policy=email.policy.default)
        line = json.dumps(
            {
                "from": envelope.mail_from,
                "to": envelope.rcpt_tos,
                "data": data,
                "auth": auth,
                "subject": str(parsed["subject"]),
                "headers": list(parsed.keys()),
                "body": parsed.get_content() if not parsed.is_multipart() else "",
            }
        )
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        return "250 OK"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", default="plain", choices=["plain", "starttls", "tls"])
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth")
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--refuse", action="append", default=[])
    p.add_argument("--defer-once", action="append", default=[])
    p.add_argument("--stall-at", choices=["MAIL", "RCPT"])
    args = p.parse_args()
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)

    ctx = None
    if args.mode != "plain":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)

    authenticator = None
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login.decode() == user and auth_data.password.decode() == password
            event(kind="auth", user=auth_data.login.decode(), ok=ok)
            if ok:
                return AuthResult(success=True, auth_data=auth_data)
            # handled=False: aiosmtpd answers 535 itself.
            return AuthResult(success=False, handled=False)

    handler = Handler(args.delay, args.refuse, args.defer_once, args.stall_at)

    def factory():
        return SMTP(
            handler,
            hostname="test.local",
            tls_context=ctx if args.mode == "starttls" else None,
            require_starttls=args.mode == "starttls",
            authenticator=authenticator,
            auth_required=authenticator is not None,
            auth_require_tls=False,
            decode_data=False,
        )

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(
            factory,
            host="127.0.0.1",
            port=args.port,
            ssl=ctx if args.mode == "tls" else None,
            reuse_address=True,
        )
    )
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"PORT {port}\n")
    sys.stdout.flush()

    def wait_for_stdin_close():
        sys.stdin.read()
        loop.call_soon_threadsafe(loop.stop)

    threading.Thread(target=wait_for_stdin_close, daemon=True).start()
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()
