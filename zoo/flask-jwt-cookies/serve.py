"""Serve the Flask zoo service: `serve --port PORT [--hardened] [--exit-with-stdin] [--access-log FILE]`.

Werkzeug's threaded WSGI server on 127.0.0.1. Prints exactly one line to stdout,
`ready http://127.0.0.1:PORT`, once the socket accepts connections; everything else goes to
stderr, and only with ZOO_VERBOSE=1. SIGTERM / SIGINT (and EOF on stdin with --exit-with-stdin)
stop it.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import warnings

from werkzeug.serving import WSGIRequestHandler, make_server

from app import create_app

VERBOSE = os.environ.get("ZOO_VERBOSE") == "1"


class QuietHandler(WSGIRequestHandler):
    def log(self, type, message, *args):  # noqa: A002 (werkzeug's signature)
        if VERBOSE:
            super().log(type, message, *args)


def with_access_log(app, path: str):
    """One "METHOD PATH" line per request (path without query), so tests can count requests."""
    log = open(path, "a", encoding="utf-8")
    lock = threading.Lock()

    def wrapped(environ, start_response):
        target = environ.get("RAW_URI") or environ.get("PATH_INFO", "/")
        with lock:
            log.write("%s %s\n" % (environ["REQUEST_METHOD"], target.split("?", 1)[0]))
            log.flush()
        return app(environ, start_response)

    return wrapped


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="flask-jwt-cookies/serve")
    parser.add_argument("--port", type=int, required=True, help="port (0 = pick a free one)")
    parser.add_argument("--hardened", action="store_true", help="serve the hardened variant")
    parser.add_argument("--exit-with-stdin", action="store_true", help="exit when stdin reaches EOF")
    parser.add_argument("--access-log", metavar="FILE", help='append one "METHOD PATH" line per request')
    args = parser.parse_args(argv)
    if not VERBOSE:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # PyJWT warns on every use of the flawed variant's 12-byte key (InsecureKeyLengthWarning).
        warnings.simplefilter("ignore")

    app = create_app(hardened=args.hardened)
    wsgi = with_access_log(app.wsgi_app, args.access_log) if args.access_log else app.wsgi_app
    app.wsgi_app = wsgi
    try:
        server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=QuietHandler)
    except OSError as exc:
        print("flask-jwt-cookies/serve: cannot listen on 127.0.0.1:%d: %s" % (args.port, exc), file=sys.stderr)
        return 1
    server.daemon_threads = True

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if args.exit_with_stdin:
        threading.Thread(target=watch_stdin, args=(stop,), daemon=True).start()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    # make_server has bound and listened: connections are accepted from here on.
    print("ready http://127.0.0.1:%d" % server.server_port, flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    return 0


def watch_stdin(stop: threading.Event) -> None:
    try:
        while os.read(sys.stdin.fileno(), 65536):
            pass
    except OSError:
        pass
    stop.set()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
