"""The ``cms-pricing`` command line: ``ingest PATH``, ``releases``, ``serve``, ``cache invalidate``,
``keys create|list|rotate|revoke``, ``fetch [--year Y] [--schedule S ...] [--from PATH]`` and
``discover``.

Every command reads the settings once (:func:`cms_pricing.config.get_settings`), connects to
``DATABASE_URL`` and migrates the schema to the newest revision first (``commands.py`` does
each; ``fetch`` needs no database). Exit codes: 0 done, 1 a CMS file was refused (the
``file, line N: reason`` message is on stderr, nothing of that dataset was published) or a
download, archive or checksum failed (``failed: DATASET: reason`` lines on stderr; the data
folder keeps what it had for that dataset), 2 a usage or configuration error (one
``invalid: ...`` line on stderr naming the problem).

``keys create`` and ``keys rotate`` print the new key string as their last line, and only
then: the database keeps its hash alone.

This module imports nothing heavy, so that ``serve`` can turn the garbage collector off
before the service's modules are imported: a collection while they import cost about 15%
of the import time (docs/performance.md, "Start-up"), and what they create lives as long as
the process. ``api/server.py`` freezes those objects and turns the collector back on
before Granian forks the workers.
"""

from __future__ import annotations

import argparse
import gc
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.command == "serve":
        gc.disable()
    try:
        # Imported here, after the collector is off (the module docstring).
        from cms_pricing import commands  # noqa: PLC0415

        return commands.run(args)
    finally:
        gc.enable()  # when ``serve`` ends before the server turned it back on


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cms-pricing", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    ingest = commands.add_parser("ingest", help="ingest CMS release / ZIP folders under PATH")
    ingest.add_argument("path", metavar="PATH", help="a release folder or a tree of them")
    commands.add_parser("releases", help="list the published releases and ZIP datasets")
    commands.add_parser("serve", help="serve the API (ingests CMS_DATA_DIR if the db is empty)")
    cache = commands.add_parser("cache", help="manage cached answers")
    actions = cache.add_subparsers(dest="action", required=True)
    invalidate = actions.add_parser("invalidate", help="drop cached answers everywhere")
    which = invalidate.add_mutually_exclusive_group()
    which.add_argument("--release", metavar="ID", help="only answers from this release")
    which.add_argument("--pattern", metavar="PREFIX", help="shared keys with this prefix")
    _keys_parser(commands)
    _fetch_parser(commands)
    return parser


def _fetch_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from cms_pricing.fetch.manifest import SCHEDULES  # noqa: PLC0415  (light: no I/O)

    fetch = commands.add_parser(
        "fetch", help="download, verify and unpack the CMS release files into CMS_DATA_DIR"
    )
    fetch.add_argument("--year", type=int, help="the data year (default: the newest CMS has)")
    fetch.add_argument(
        "--schedule",
        action="append",
        choices=SCHEDULES,
        metavar="SCHEDULE",
        help=f"one of {', '.join(SCHEDULES)}; repeat for more (default: all)",
    )
    fetch.add_argument(
        "--from",
        dest="source",
        metavar="ARCHIVE_OR_FOLDER",
        help="use archives (or unpacked files) carried in by hand instead of downloading",
    )
    commands.add_parser(
        "discover", help="find CMS releases not published here, fetch and ingest them"
    )


def _keys_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser("keys", help="manage API keys (docs/auth.md)")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a key; prints it once, as the last line")
    create.add_argument("name", metavar="NAME", help="who or what the key is for")
    create.add_argument(
        "--scope",
        action="append",
        default=[],
        metavar="SCOPE",
        help="read, bulk, plans:write or admin; repeat for more",
    )
    create.add_argument(
        "--expires",
        metavar="WHEN",
        help="YYYY-MM-DD (00:00 UTC) or an ISO datetime (UTC if no zone)",
    )
    create.add_argument(
        "--quota",
        action="append",
        default=[],
        metavar="CLASS=RATE",
        help="this key's own rate for read, bulk or plans:write, e.g. "
        "read=600/min; repeat for more",
    )
    actions.add_parser("list", help="every key: id, name, scopes, quota, dates, state")
    rotate = actions.add_parser("rotate", help="a new secret for a key (same id and owner)")
    rotate.add_argument("id", metavar="ID")
    rotate.add_argument(
        "--grace",
        metavar="MINUTES",
        default="0",
        help="minutes the old key keeps working (0 to 10080; default 0)",
    )
    revoke = actions.add_parser("revoke", help="stop a key for good")
    revoke.add_argument("id", metavar="ID")
