"""Flaw switches of the testbed.

The set of known flaw names is the set of ``[flaws.*]`` tables in ``testbed/flaws.toml``;
the set that is switched on comes from the ``TESTBED_FLAWS`` environment variable (a comma
separated list, written by ``serve.py``). Code asks ``flaw_on("name")`` at the place where a
careful team would write the safe variant.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

FLAWS_TOML = Path(__file__).resolve().parent.parent / "flaws.toml"


@lru_cache(maxsize=1)
def _tables() -> dict:
    with FLAWS_TOML.open("rb") as fh:
        return tomllib.load(fh)["flaws"]


@lru_cache(maxsize=1)
def known_flaws() -> frozenset[str]:
    """Every flaw name declared in flaws.toml."""
    return frozenset(_tables())


@lru_cache(maxsize=1)
def all_flaws() -> frozenset[str]:
    """What ``all`` switches on: every flaw but those marked ``in_all = false`` (switches
    such as ``throttled_login`` that would hide other flaws from a scan)."""
    return frozenset(name for name, table in _tables().items() if table.get("in_all", True))


def parse_flaws(spec: str) -> frozenset[str]:
    """Parse ``all | none | name,name``; raise ValueError on unknown names."""
    spec = (spec or "").strip()
    if spec in ("", "none"):
        return frozenset()
    if spec == "all":
        return all_flaws()
    names = {part.strip() for part in spec.split(",") if part.strip()}
    unknown = sorted(names - known_flaws())
    if unknown:
        raise ValueError("unknown flaw(s): %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(known_flaws()))))
    return frozenset(names)


@lru_cache(maxsize=1)
def enabled_flaws() -> frozenset[str]:
    """The flaws switched on for this process (read once)."""
    return parse_flaws(os.environ.get("TESTBED_FLAWS", "none"))


def flaw_on(name: str) -> bool:
    """True when the named flaw is switched on. Unknown names are a programming error."""
    if name not in known_flaws():
        raise KeyError("flaw %r is not declared in flaws.toml" % name)
    return name in enabled_flaws()
