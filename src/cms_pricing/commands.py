"""What each ``cms-pricing`` command does (``cli.py`` parses the command line and says the
contract): ``ingest``, ``releases``, ``cache invalidate`` and ``serve``, each calling the same
services the API does. ``run`` connects to ``DATABASE_URL`` and migrates the schema first.
"""

from __future__ import annotations

import argparse
import gc
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from cms_pricing.cache import events
from cms_pricing.cache.invalidation import invalidate
from cms_pricing.config import Settings, get_settings
from cms_pricing.db.repository import (
    content_version,
    create_db_engine,
    is_empty,
    list_releases,
    list_zip_datasets,
    migrate,
)
from cms_pricing.db.runs import reap_stale
from cms_pricing.errors import FileRejected, PricingError
from cms_pricing.reference.publish import IngestReport, ingest_path

EXIT_REJECTED = 1
EXIT_USAGE = 2


def run(args: argparse.Namespace) -> int:
    """Run the parsed command; returns the process exit code."""
    settings = get_settings()
    engine = create_db_engine(settings.database_url)
    try:
        migrate(engine)
        if args.command == "ingest":
            code = _ingest(engine, Path(args.path))
            _announce(engine, settings)
            return code
        if args.command == "releases":
            return _releases(engine)
        if args.command == "cache":
            return _invalidate(engine, settings, args)
        return _serve(engine, settings)
    finally:
        engine.dispose()


def _announce(engine: Engine, settings: Settings) -> None:
    """Tell running instances (Redis pub/sub) to compare their data with the database."""
    if events.announce(
        settings.redis_url, {"type": "published", "version": content_version(engine)}
    ):
        _say("announced on redis: running instances reload within seconds")


def _invalidate(engine: Engine, settings: Settings, args: argparse.Namespace) -> int:
    scope, target = "all", ""
    if args.release:
        scope, target = "release", args.release
    elif args.pattern:
        scope, target = "pattern", args.pattern
    try:
        done = invalidate(engine, settings.redis_url, scope, target)
    except PricingError as exc:
        print(f"invalid: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    deleted = (
        "no redis" if done.redis_keys_deleted is None else f"{done.redis_keys_deleted} redis keys"
    )
    _say(f"invalidation {done.id} ({scope} {target}): {deleted} deleted")
    return 0


def _say(line: str) -> None:
    print(line, flush=True)


def _ingest(engine: Engine, path: Path) -> int:
    try:
        report = ingest_path(engine, path, _say)
    except FileRejected as exc:
        print(f"rejected: {exc}", file=sys.stderr, flush=True)
        return EXIT_REJECTED
    _say(_summary(report))
    return 0


def _summary(report: IngestReport) -> str:
    counts = ", ".join(
        f"{report.count(outcome)} {outcome}" for outcome in ("published", "replaced", "unchanged")
    )
    return f"{len(report.outcomes)} datasets: {counts} in {report.seconds:.1f} s"


def _releases(engine: Engine) -> int:
    releases = list_releases(engine)
    _say(_table_line("release", "effective", "sha256", "published at (UTC)", "rows"))
    for meta in releases:
        rows = " ".join(f"{f.kind}={f.rows:,}" for f in meta.files)
        effective = meta.effective_from.isoformat()
        _say(_table_line(meta.release_id, effective, meta.sha256, _when(meta.published_at), rows))
    for zmeta in list_zip_datasets(engine):
        rows = " ".join(f"{f.name}={f.rows:,}" for f in zmeta.files)
        when = _when(zmeta.published_at)
        _say(_table_line(zmeta.dataset_id, zmeta.year_quarter, zmeta.sha256, when, rows))
    if not releases:
        _say("no release published yet: run `cms-pricing ingest PATH`")
    return 0


def _table_line(ident: str, effective: str, sha256: str, published: str, rows: str) -> str:
    return f"{ident:<10}  {effective:<10}  {sha256[:12]:<12}  {published:<19}  {rows}"


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else "-"


def _serve(engine: Engine, settings: Settings) -> int:
    for dead in reap_stale(engine):
        _say(f"ingestion run {dead.run_id} marked failed: {dead.reason}")
    if is_empty(engine):
        if settings.cms_data_dir is None:
            print("the database is empty and CMS_DATA_DIR is not set", file=sys.stderr)
            return EXIT_USAGE
        _say(f"empty database: ingesting {settings.cms_data_dir}")
        gc.enable()  # off for the start-up (cli.py): an ingest makes garbage in volume
        code = _ingest(engine, settings.cms_data_dir)
        if code:
            return code
    engine.dispose()  # the server opens its own connections (and may fork workers)
    # Imported here: the web stack is heavy and only `serve` needs it. The end-to-end test
    # of this path is tests/api/test_server.py (a real server process).
    from cms_pricing.api import server  # noqa: PLC0415

    server.run(settings)
    return 0
