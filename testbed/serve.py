"""Run the authprobe testbed: `testbed/serve --port PORT --flaws LIST [--tls] [--apps dj-rest-auth,knox] [--mail-to HOST:PORT] [--exit-with-stdin]`.

One process, a threaded WSGI server (stdlib wsgiref) per listener, bound to 127.0.0.1:

* plain:  HTTP on PORT
* --tls:  HTTPS on PORT (throwaway self-signed certificate for 127.0.0.1 / localhost) and
          plain HTTP on PORT+1 (hardened: every request is redirected to HTTPS)

Every start gets a fresh SQLite database in a temporary directory, copied from a template
that is migrated and seeded once and cached in testbed/.cache (keyed by a hash of the code).
When the listeners accept connections, exactly one line is printed to stdout:
`ready http://127.0.0.1:PORT` (or `ready https://...`). Everything else goes to stderr,
and only with TESTBED_VERBOSE=1. SIGTERM / SIGINT (and, with --exit-with-stdin, EOF on
stdin) stop the server and remove the temporary directory.

Mail (the password-reset e-mail of POST /api/password/reset/): with `--mail-to HOST:PORT`
(a loopback address: 127.x.x.x, localhost or [::1]) Django sends it with its SMTP backend to
that address (plain SMTP: no TLS, no AUTH; From "testbed <noreply@testbed.invalid>"), e.g. to
the SMTP sink of a scan run with `--mailbox smtp://127.0.0.1:2525`. Without it, mail stays in
memory (Django's locmem backend), or is printed to stderr with TESTBED_VERBOSE=1; never to
stdout. A mail that cannot be delivered is logged (TESTBED_VERBOSE=1) and dropped.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import ipaddress
import os
import secrets
import shutil
import signal
import socket
import socketserver
import ssl
import sys
import tempfile
import threading
from pathlib import Path
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
VERBOSE = os.environ.get("TESTBED_VERBOSE") == "1"
PROG = "testbed/serve"

sys.path.insert(0, str(HERE))


def log(message: str) -> None:
    if VERBOSE:
        print("%s: %s" % (PROG, message), file=sys.stderr, flush=True)


def fail(message: str, code: int = 2) -> int:
    print("%s: %s" % (PROG, message), file=sys.stderr, flush=True)
    return code


# --- Sockets -----------------------------------------------------------------------------


def listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def bind_listeners(port: int, tls: bool) -> list[socket.socket]:
    """One listener (PORT), or two (PORT, PORT+1) with --tls; port 0 picks free ones."""
    if not tls:
        return [listen(port)]
    if port:
        first = listen(port)
        try:
            return [first, listen(port + 1)]
        except OSError:
            first.close()
            raise
    for _ in range(100):
        first = listen(0)
        chosen = first.getsockname()[1]
        if chosen < 65535:
            try:
                return [first, listen(chosen + 1)]
            except OSError:
                pass
        first.close()
    raise OSError("no free pair of adjacent ports found")


# --- TLS ---------------------------------------------------------------------------------


def make_tls_context(directory: Path) -> ssl.SSLContext:
    """Self-signed certificate for 127.0.0.1 and localhost, valid for a week."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "authprobe testbed")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


# --- WSGI server -------------------------------------------------------------------------


class QuietServerHandler(ServerHandler):
    # Do not copy this process's environment (secrets!) into every WSGI environ.
    os_environ: dict = {}

    def log_exception(self, exc_info):
        if VERBOSE:
            super().log_exception(exc_info)


# `--access-log FILE`: one "METHOD PATH" line per request, so tests can count what a scan
# really sent (request budget, method policy) at the target itself.
ACCESS_LOG = None  # an open text file when --access-log is given
ACCESS_LOG_LOCK = threading.Lock()


def log_access(method: str, path: str) -> None:
    if ACCESS_LOG is None:
        return
    with ACCESS_LOG_LOCK:
        ACCESS_LOG.write("%s %s\n" % (method, path))
        ACCESS_LOG.flush()


class RequestHandler(WSGIRequestHandler):
    timeout = 30  # seconds of client silence before the connection is dropped

    def get_environ(self):
        environ = super().get_environ()
        if self.server.tls:
            environ["HTTPS"] = "on"  # wsgiref derives wsgi.url_scheme = "https" from it
        return environ

    def handle(self):
        # WSGIRequestHandler.handle, with QuietServerHandler and multithread=True.
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = ""
            self.request_version = ""
            self.command = ""
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

    def __init__(self, sock: socket.socket, app, tls_context: ssl.SSLContext | None = None):
        address = sock.getsockname()
        socketserver.BaseServer.__init__(self, address, RequestHandler)
        self.tls = tls_context is not None
        # The TLS handshake happens lazily in the request thread, never in accept().
        self.socket = (
            tls_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False) if tls_context else sock
        )
        self.server_name = "127.0.0.1"
        self.server_port = address[1]
        self.setup_environ()
        self.set_app(app)

    def handle_error(self, request, client_address):
        if VERBOSE:
            super().handle_error(request, client_address)


def without_head_bodies(app):
    """HEAD responses keep their headers (Content-Length included) but send no body."""

    def wrapped(environ, start_response):
        result = app(environ, start_response)
        if environ.get("REQUEST_METHOD") != "HEAD":
            return result
        try:
            for _ in result:
                pass
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return []

    return wrapped


# --- Database ----------------------------------------------------------------------------


def code_fingerprint() -> str:
    digest = hashlib.sha256()
    files = sorted(HERE.glob("project/**/*.py")) + sorted(HERE.glob("api/**/*.py"))
    files += [HERE / "requirements.txt", HERE / "flaws.toml"]
    for path in files:
        digest.update(str(path.relative_to(HERE)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def prepare_database(db_path: Path) -> None:
    """Copy the cached template into db_path, building the template first if needed.

    Must run after django.setup() only when the template is missing; the copy itself
    happens before any connection to db_path is opened.
    """
    template = CACHE / ("template-%s.sqlite3" % code_fingerprint())
    if template.exists():
        shutil.copyfile(template, db_path)
        return
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    log("building template database %s" % template.name)
    call_command("migrate", verbosity=0, interactive=False)
    from api.seed import seed

    seed()
    connections.close_all()
    try:
        CACHE.mkdir(exist_ok=True)
        partial = CACHE / (".%s.%d.tmp" % (template.name, os.getpid()))
        shutil.copyfile(db_path, partial)
        os.replace(partial, template)
        for stale in CACHE.glob("template-*.sqlite3"):
            if stale != template:
                stale.unlink(missing_ok=True)
    except OSError as exc:  # read-only checkout: fine, just slower next time
        log("could not cache the template database: %s" % exc)


# --- Main --------------------------------------------------------------------------------


def parse_mail_to(value: str) -> tuple[str, int]:
    """`HOST:PORT` (IPv6 as `[::1]:PORT`) of a loopback SMTP listener -> (host, port)."""
    host, sep, port_text = value.strip().rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValueError("expected HOST:PORT")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError("port must be 1-65535")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host.lower() != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError("the host must be a loopback address (127.0.0.1, localhost, [::1])")
    return host, port


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description="Serve the authprobe Django testbed.")
    parser.add_argument("--port", type=int, required=True, help="port (0 = pick a free one)")
    parser.add_argument("--flaws", default="none", help="all | none | name,name (see flaws.toml)")
    parser.add_argument("--tls", action="store_true", help="HTTPS on PORT, plain HTTP on PORT+1")
    parser.add_argument("--exit-with-stdin", action="store_true", help="exit when stdin reaches EOF")
    parser.add_argument("--access-log", metavar="FILE", help='append one "METHOD PATH" line per request to FILE')
    parser.add_argument(
        "--db",
        metavar="FILE",
        help="keep this run's SQLite database at FILE (replaced at start, kept at exit) so tests can compare its data",
    )
    parser.add_argument(
        "--apps",
        default="",
        help="extra third-party auth stacks to mount: dj-rest-auth (/dj-rest-auth/, JWT mode), knox (/api/auth/)",
    )
    parser.add_argument(
        "--mail-to",
        metavar="HOST:PORT",
        help="send the testbed's e-mail by SMTP (no TLS, no auth) to this loopback address, e.g. 127.0.0.1:2525",
    )
    args = parser.parse_args(argv)
    if args.mail_to is not None:
        try:
            args.mail_to = parse_mail_to(args.mail_to)
        except ValueError as exc:
            parser.error("invalid --mail-to %r: %s" % (args.mail_to, exc))
    if args.access_log:
        global ACCESS_LOG
        ACCESS_LOG = open(args.access_log, "a", encoding="utf-8")
    if not 0 <= args.port <= 65535 or (args.tls and args.port == 65535):
        parser.error("invalid --port %d" % args.port)
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings"

    from project.flaws import parse_flaws

    try:
        flaws = parse_flaws(args.flaws)
    except ValueError as exc:
        return fail(str(exc))

    apps = {a.strip() for a in args.apps.split(",") if a.strip()}
    unknown_apps = sorted(apps - {"dj-rest-auth", "knox"})
    if unknown_apps:
        return fail("unknown app(s): %s (known: dj-rest-auth, knox)" % ", ".join(unknown_apps))

    try:
        listeners = bind_listeners(args.port, args.tls)
    except OSError as exc:
        return fail("cannot listen on 127.0.0.1:%d: %s" % (args.port, exc), 1)
    port = listeners[0].getsockname()[1]

    workdir = Path(tempfile.mkdtemp(prefix="authprobe-testbed-"))
    stop = threading.Event()
    servers: list[ThreadedWSGIServer] = []
    try:
        db_path = Path(args.db).resolve() if args.db else workdir / "db.sqlite3"
        if args.db:
            db_path.unlink(missing_ok=True)
        os.environ.update(
            TESTBED_FLAWS=",".join(sorted(flaws)),
            TESTBED_APPS=",".join(sorted(apps)),
            TESTBED_DB=str(db_path),
            TESTBED_TLS="1" if args.tls else "0",
            TESTBED_PORT=str(port),
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            JWT_SIGNING_KEY=secrets.token_urlsafe(48),
            ADMIN_URL="staff-console-%s/" % secrets.token_hex(12),
            TESTBED_KEYS_DIR=str(workdir / "jwt-keys"),
            TESTBED_MAIL_TO="%s:%d" % args.mail_to if args.mail_to else "",
        )
        prepare_database(db_path)

        import django

        django.setup()
        # Settings have been read: keep the secrets out of the process environment.
        for name in ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "ADMIN_URL"):
            os.environ.pop(name, None)

        from django.contrib.auth import get_user_model
        from django.contrib.auth.hashers import make_password
        from django.core.wsgi import get_wsgi_application
        from django.db import connections
        from django.urls import get_resolver

        # The staff user gets a fresh random password at every start.
        get_user_model().objects.filter(username="admin").update(password=make_password(secrets.token_urlsafe(24)))
        from api.es256 import es_keys
        from api.kid import kid_keys
        from api.rs256 import rs_keys

        # Generate the per-start keys now, not on the first request.
        rs_keys()  # partner API (RSA)
        es_keys()  # ES256 family (P-256)
        kid_keys()  # key-rotation family: key file in TESTBED_KEYS_DIR + jwt_keys row
        connections.close_all()
        _ = get_resolver().url_patterns  # import every view before we say ready
        app = without_head_bodies(get_wsgi_application())

        tls_context = make_tls_context(workdir) if args.tls else None
        servers.append(ThreadedWSGIServer(listeners[0], app, tls_context))
        if args.tls:
            servers.append(ThreadedWSGIServer(listeners[1], app, None))
        for server in servers:
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        if args.exit_with_stdin:
            threading.Thread(target=watch_stdin, args=(stop,), daemon=True).start()

        scheme = "https" if args.tls else "http"
        print("ready %s://127.0.0.1:%d" % (scheme, port), flush=True)
        log("flaws: %s" % (", ".join(sorted(flaws)) or "none"))
        if apps:
            log("apps: %s" % ", ".join(sorted(apps)))
        if args.mail_to:
            log("mail to: smtp://%s:%d" % args.mail_to)
        while not stop.wait(0.5):
            pass
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
        for sock in listeners:
            sock.close()
        shutil.rmtree(workdir, ignore_errors=True)
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
