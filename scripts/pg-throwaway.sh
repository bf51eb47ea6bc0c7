#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on loopback for the store and worker tests, and
# print its URL: `scripts/pg-throwaway.sh DIR [PORT]` → `postgres://authprobe@127.0.0.1:PORT/authprobe`
# (a free port is chosen when none is given).
# The cluster takes TLS (with `openssl` at hand): its certificate, for `localhost` only, is
# signed by a throwaway CA whose certificate is DIR/ca.crt (the store's TLS tests read it).
# Stop it with `scripts/pg-throwaway.sh --stop DIR`. Needs Debian's postgresql package
# (initdb and pg_ctl under /usr/lib/postgresql/VERSION/bin). As root, the cluster runs as
# the `postgres` system user, because PostgreSQL refuses to run as root.
set -euo pipefail

bin=""
for dir in /usr/lib/postgresql/*/bin; do
    [[ -x "$dir/initdb" ]] && bin="$dir"
done
if [[ -z "$bin" ]]; then
    echo "pg-throwaway: no PostgreSQL server found (apt-get install postgresql)" >&2
    exit 2
fi

as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

if [[ "${1:-}" == "--stop" ]]; then
    as_owner "$bin/pg_ctl" -D "$2/data" -m immediate stop >/dev/null 2>&1 || true
    exit 0
fi

dir="${1:?usage: pg-throwaway.sh DIR [PORT]}"
port="${2:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
mkdir -p "$dir"
[[ "$(id -u)" == 0 ]] && chown postgres: "$dir"
if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    as_owner "$bin/initdb" -D "$dir/data" -U authprobe -A trust --no-sync >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
fi
tls=""
if command -v openssl >/dev/null 2>&1; then
    if [[ ! -f "$dir/server.crt" ]]; then
        ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
        openssl req -x509 "${ec[@]}" -days 7 -subj "/CN=authprobe throwaway CA" \
            -keyout "$dir/ca.key" -out "$dir/ca.crt" >/dev/null 2>&1
        openssl req "${ec[@]}" -subj "/CN=localhost" -keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1
        printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$dir/server.ext"
        openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
            -days 7 -extfile "$dir/server.ext" -out "$dir/server.crt" >/dev/null 2>&1
        chmod 600 "$dir/server.key"
        [[ "$(id -u)" == 0 ]] && chown postgres: "$dir/server.key" "$dir/server.crt"
    fi
    tls="-c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key"
fi
# Loopback only, socket in the cluster's own directory, fsync off: a test cluster.
as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=300 $tls" start >/dev/null || {
    cat "$dir/server.log" >&2
    exit 1
}
as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U authprobe -d postgres -qAt \
    -c "SELECT 1 FROM pg_database WHERE datname = 'authprobe'" | grep -q 1 ||
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U authprobe authprobe
echo "postgres://authprobe@127.0.0.1:$port/authprobe"
