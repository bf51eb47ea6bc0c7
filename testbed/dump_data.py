"""Print the testbed's business data (accounts, profiles, notes, posts) as canonical JSON.

`testbed/.venv/bin/python testbed/dump_data.py DB` reads a database kept with
`serve --db DB`. Tests dump it before and after a scan with write probes: the two must be
equal, apart from what the report's `writes` section lists as left behind. Columns that
every login changes (last_login) are left out; credentials issued by the auth flows
(tokens, sessions, API keys) are not business data and are left out too.
"""

from __future__ import annotations

import json
import sqlite3
import sys

QUERIES = {
    "users": "SELECT id, username, email, password, is_staff, is_superuser, is_active FROM auth_user ORDER BY id",
    "profiles": "SELECT user_id, phone, token_generation FROM api_profile ORDER BY user_id",
    "notes": "SELECT id, public_id, owner_id, title, body, created FROM api_note ORDER BY id",
    "posts": "SELECT id, author_id, title, body, published FROM api_post ORDER BY id",
}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: dump_data.py DB", file=sys.stderr)
        return 2
    connection = sqlite3.connect("file:%s?mode=ro" % argv[0], uri=True)
    try:
        data = {name: [list(row) for row in connection.execute(sql)] for name, sql in QUERIES.items()}
    finally:
        connection.close()
    print(json.dumps(data, sort_keys=True, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
