"""Serve the Starlette zoo service: `serve --port PORT [--hardened] [--exit-with-stdin] [--access-log FILE] [--mail-to HOST:PORT]`.

uvicorn on 127.0.0.1. The listening socket is bound here first (port 0: the kernel picks a
free one, so no race) and handed to uvicorn. Prints exactly one line to stdout,
`ready http://127.0.0.1:PORT`, once uvicorn has started; everything else goes to stderr, and
only with ZOO_VERBOSE=1. SIGTERM / SIGINT (and EOF on stdin with --exit-with-stdin) stop it.

`--mail-to HOST:PORT` (a loopback address): the password-reset e-mails go there by plain SMTP
(no TLS, no AUTH, 5 s timeout), e.g. to the sink of `authprobe scan --mailbox smtp://HOST:PORT`;
a mail that cannot be sent is dropped (logged to stderr with ZOO_VERBOSE=1). Without it no mail
is sent, and nothing is logged to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import secrets
import socket
import sys
import threading
from pathlib import Path

VERBOSE = os.environ.get("ZOO_VERBOSE") == "1"


def with_access_log(app, path: str):
    """ASGI wrapper: one "METHOD PATH" line per HTTP request (path without query)."""
    log = open(path, "a", encoding="utf-8")

    async def wrapped(scope, receive, send):
        if scope["type"] == "http":
            raw = scope.get("raw_path")
            target = raw.decode("latin-1") if raw else scope["path"]
            log.write("%s %s\n" % (scope["method"], target.split("?", 1)[0]))
            log.flush()
        await app(scope, receive, send)

    return wrapped


def parse_mail_to(value: str) -> str:
    """`HOST:PORT` of a loopback SMTP listener (IPv6 as `[::1]:PORT`), for argparse."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError("expected HOST:PORT, e.g. 127.0.0.1:2525")
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if bare.lower() != "localhost":
        try:
            loopback = ipaddress.ip_address(bare).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise argparse.ArgumentTypeError("the host must be a loopback address (127.0.0.1, localhost, [::1])")
    return "%s:%s" % (bare, port)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="starlette-app/serve")
    parser.add_argument("--port", type=int, required=True, help="port (0 = pick a free one)")
    parser.add_argument("--hardened", action="store_true", help="serve the hardened variant")
    parser.add_argument("--exit-with-stdin", action="store_true", help="exit when stdin reaches EOF")
    parser.add_argument("--access-log", metavar="FILE", help='append one "METHOD PATH" line per request')
    parser.add_argument(
        "--mail-to",
        metavar="HOST:PORT",
        type=parse_mail_to,
        help="send the password-reset e-mails by SMTP (no TLS, no auth) to this loopback address; without it none is sent",
    )
    args = parser.parse_args(argv)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", args.port))
        sock.listen(128)
    except OSError as exc:
        print("starlette-app/serve: cannot listen on 127.0.0.1:%d: %s" % (args.port, exc), file=sys.stderr)
        return 1
    port = sock.getsockname()[1]

    # app.py reads the variant and the session signing key once, at import; the key is
    # fresh on every start (the docs read SECRET_KEY from the environment).
    os.environ["ZOO_HARDENED"] = "1" if args.hardened else "0"
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(32)
    os.environ["ZOO_MAIL_TO"] = args.mail_to or ""
    # The site's configured public address (the hardened variant's reset links are built on it).
    os.environ["ZOO_PUBLIC_URL"] = "http://127.0.0.1:%d" % port
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import uvicorn

    from app import app

    asgi = with_access_log(app, args.access_log) if args.access_log else app
    config = uvicorn.Config(
        asgi,
        # The flawed variant's debug 500s (DJ003) re-raise to uvicorn, which would log every
        # traceback: quiet unless ZOO_VERBOSE=1.
        log_level="info" if VERBOSE else "critical",
        access_log=VERBOSE,
        lifespan="off",
        # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default (forwarded_allow_ips), and
        # every zoo client is 127.0.0.1: with no proxy in front, the socket address is the client.
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    if args.exit_with_stdin:
        threading.Thread(target=watch_stdin, args=(server,), daemon=True).start()

    async def run() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.02)
        if server.started:
            print("ready http://127.0.0.1:%d" % port, flush=True)
        await task

    asyncio.run(run())
    return 0 if server.started else 1


def watch_stdin(server) -> None:
    try:
        while os.read(sys.stdin.fileno(), 65536):
            pass
    except OSError:
        pass
    server.should_exit = True


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
