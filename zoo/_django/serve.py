"""Serve this zoo service (see ../CONTRACT.md):

    serve --port PORT [--hardened] [--exit-with-stdin] [--access-log FILE]

A threaded stdlib wsgiref server on 127.0.0.1 (the testbed's approach, no gunicorn). Every
start migrates and seeds a fresh SQLite file in a temporary directory, with a new random
SECRET_KEY (and JWT key). Prints exactly `ready http://127.0.0.1:PORT` on stdout once it
accepts connections; anything else goes to stderr, and only with ZOO_VERBOSE=1.
One runner for every Django service of the zoo (`serve.py SERVICE_DIR ...`, passed by each
zoo/<service>/serve); settings read ZOO_* variables.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import socketserver
import sys
import tempfile
import threading
from pathlib import Path
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

# The service folder is the first argument (each zoo/<service>/serve passes its own); the
# three Django services share this runner and differ only in their project and seed.
HERE = Path(sys.argv.pop(1)).resolve()
PROG = "zoo/%s/serve" % HERE.name
VERBOSE = os.environ.get("ZOO_VERBOSE") == "1"
sys.path.insert(0, str(HERE))

ACCESS_LOG = None  # open file with --access-log
ACCESS_LOG_LOCK = threading.Lock()


def log_access(method: str, path: str) -> None:
    if ACCESS_LOG is not None:
        with ACCESS_LOG_LOCK:
            ACCESS_LOG.write("%s %s\n" % (method, path.split("?", 1)[0]))
            ACCESS_LOG.flush()


class QuietServerHandler(ServerHandler):
    os_environ: dict = {}  # do not copy this process's environment into every WSGI environ

    def log_exception(self, exc_info):
        if VERBOSE:
            super().log_exception(exc_info)


class RequestHandler(WSGIRequestHandler):
    timeout = 30

    def handle(self):
        # WSGIRequestHandler.handle with the quiet handler, multithread=True and the access log.
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        log_access(self.command, self.path)
        handler = QuietServerHandler(self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=True)
        handler.request_handler = self
        handler.run(self.server.get_app())

    def log_message(self, format, *args):
        if VERBOSE:
            super().log_message(format, *args)


class ThreadedWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        if VERBOSE:
            super().handle_error(request, client_address)


def without_head_bodies(app):
    """HEAD answers keep their headers but send no body (wsgiref would send it)."""

    def wrapped(environ, start_response):
        result = app(environ, start_response)
        if environ.get("REQUEST_METHOD") != "HEAD":
            return result
        try:
            for _ in result:
                pass
        finally:
            if hasattr(result, "close"):
                result.close()
        return []

    return wrapped


def watch_stdin(stop: threading.Event) -> None:
    try:
        while os.read(sys.stdin.fileno(), 65536):
            pass
    except OSError:
        pass
    stop.set()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=PROG)
    parser.add_argument("--port", type=int, required=True, help="port (0 = pick a free one)")
    parser.add_argument("--hardened", action="store_true", help="serve the hardened variant")
    parser.add_argument("--exit-with-stdin", action="store_true", help="exit when stdin reaches EOF")
    parser.add_argument("--access-log", metavar="FILE", help='append one "METHOD PATH" line per request')
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error("invalid --port %d" % args.port)
    global ACCESS_LOG
    if args.access_log:
        ACCESS_LOG = open(args.access_log, "a", encoding="utf-8")

    workdir = Path(tempfile.mkdtemp(prefix="zoo-%s-" % HERE.name))
    stop = threading.Event()
    server = None
    try:
        os.environ.update(
            DJANGO_SETTINGS_MODULE="project.settings",
            ZOO_HARDENED="1" if args.hardened else "0",
            ZOO_DB=str(workdir / "db.sqlite3"),
            ZOO_SECRET_KEY=secrets.token_urlsafe(50),
            ZOO_JWT_KEY=secrets.token_urlsafe(48),
        )
        import django

        django.setup()
        for name in ("ZOO_SECRET_KEY", "ZOO_JWT_KEY"):  # read by settings; keep them out of the env
            os.environ.pop(name, None)
        from django.core.management import call_command
        from django.core.wsgi import get_wsgi_application
        from django.db import connections
        from django.urls import get_resolver

        call_command("migrate", verbosity=0, interactive=False)
        from project.seed import seed

        seed()
        connections.close_all()
        _ = get_resolver().url_patterns  # import every view before saying ready
        app = without_head_bodies(get_wsgi_application())

        try:
            server = ThreadedWSGIServer(("127.0.0.1", args.port), RequestHandler)
        except OSError as exc:
            print("%s: cannot listen on 127.0.0.1:%d: %s" % (PROG, args.port, exc), file=sys.stderr)
            return 1
        server.set_app(app)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        if args.exit_with_stdin:
            threading.Thread(target=watch_stdin, args=(stop,), daemon=True).start()
        print("ready http://127.0.0.1:%d" % server.server_address[1], flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
