"""What each ``cms-pricing`` command does (``cli.py`` parses the command line and says the
contract): ``ingest``, ``releases``, ``cache invalidate``, ``keys`` and ``serve``, each calling
the same services the API does. ``run`` connects to ``DATABASE_URL`` and migrates the schema
first. Input a service refuses (a ``PricingError``) is one ``invalid: ...`` line on stderr and
exit code 2.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from cms_pricing.cache import events
from cms_pricing.cache.invalidation import invalidate
from cms_pricing.config import Settings, get_settings
from cms_pricing.db import keys
from cms_pricing.db.repository import (
    content_version,
    create_db_engine,
    is_empty,
    list_releases,
    list_zip_datasets,
    migrate,
)
from cms_pricing.db.runs import reap_stale
from cms_pricing.errors import BadRequest, FileRejected, PricingError
from cms_pricing.fetch import commands as fetching
from cms_pricing.reference.publish import IngestReport, ingest_path

EXIT_REJECTED = 1
EXIT_USAGE = 2


def run(args: argparse.Namespace) -> int:
    """Run the parsed command; returns the process exit code."""
    settings = get_settings()
    if args.command == "fetch":
        return fetching.fetch(settings, args)
    engine = create_db_engine(settings.database_url)
    try:
        migrate(engine)
        return _COMMANDS[args.command](engine, settings, args)
    finally:
        engine.dispose()


def _publishing(code: int, engine: Engine, settings: Settings) -> int:
    """A command that may have published data: announce it, pass its exit code on."""
    _announce(engine, settings)
    return code


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
        return _invalid(exc)
    deleted = (
        "no redis" if done.redis_keys_deleted is None else f"{done.redis_keys_deleted} redis keys"
    )
    _say(f"invalidation {done.id} ({scope} {target}): {deleted} deleted")
    return 0


def _invalid(exc: PricingError) -> int:
    print(f"invalid: {exc.message}", file=sys.stderr, flush=True)
    return EXIT_USAGE


def _say(line: str) -> None:
    print(line, flush=True)


# --- keys create | list | rotate | revoke ---------------------------------------------------


def _keys(engine: Engine, args: argparse.Namespace) -> int:
    try:
        KEY_ACTIONS[args.action](engine, args)
    except PricingError as exc:
        return _invalid(exc)
    return 0


def _create_key(engine: Engine, args: argparse.Namespace) -> None:
    expires, quota = _expiry(args.expires), _quota(args.quota)
    key, secret = keys.create_key(engine, args.name, args.scope, expires_at=expires, quota=quota)
    _say(f"key {key.id} created for {key.name!r}: scopes {_scopes(key)}, quota "
         f"{_quota_text(key)}, expires {_when_utc(key.expires_at, 'never')}")  # fmt: skip
    _say("shown this once (only its hash is kept); send it as X-API-Key or Bearer token:")
    _say(secret)


def _list_keys(engine: Engine, _args: argparse.Namespace) -> None:
    found, now = keys.list_keys(engine), datetime.now(UTC)
    _say(_key_line("id", "name", "scopes", "quota", "created (UTC)", "expires (UTC)", "state"))
    for key in found:
        created, expires = _when(key.created_at), _when(key.expires_at)
        quota, state = _quota_text(key), key.state(now)
        _say(_key_line(key.id, key.name, _scopes(key), quota, created, expires, state))
    if not found:
        _say("no API key yet: run `cms-pricing keys create NAME --scope read`")


def _rotate_key(engine: Engine, args: argparse.Namespace) -> None:
    grace, now = _grace(args.grace), datetime.now(UTC)
    key, secret = keys.rotate_key(engine, args.id, grace_minutes=grace, now=now)
    if grace:
        until = now + timedelta(minutes=grace)
        _say(f"key {key.id} rotated: the old key works until {_when_utc(until, '')}")
    else:
        _say(f"key {key.id} rotated: the old key no longer works")
    _say(secret)


def _revoke_key(engine: Engine, args: argparse.Namespace) -> None:
    now = datetime.now(UTC)
    key = keys.revoke_key(engine, args.id, now=now)
    already = "" if key.revoked_at == now else "already "
    _say(f"key {key.id} ({key.name!r}) {already}revoked at {_when_utc(key.revoked_at, '')}")


KEY_ACTIONS: dict[str, Callable[[Engine, argparse.Namespace], None]] = {
    "create": _create_key,
    "list": _list_keys,
    "rotate": _rotate_key,
    "revoke": _revoke_key,
}


def _expiry(text: str | None) -> datetime | None:
    """``--expires``: a date is 00:00 UTC that day; a datetime without a zone is UTC."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(
            f"--expires {text!r} is not a date (YYYY-MM-DD) or an ISO datetime", field="expires_at"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _quota(items: list[str]) -> dict[str, str]:
    """``--quota CLASS=RATE`` (repeatable): each class once."""
    quota: dict[str, str] = {}
    for item in items:
        kind, sep, rate = item.partition("=")
        if not sep:
            raise BadRequest(f"--quota {item!r} is not CLASS=RATE (e.g. read=600/min)",
                             field="quota")  # fmt: skip
        if kind in quota:
            raise BadRequest(f"--quota gives class {kind!r} twice", field="quota")
        quota[kind] = rate
    return quota


def _grace(text: str) -> int:
    """``--grace MINUTES``: a whole number (its range is the service's to check)."""
    try:
        return int(text)
    except ValueError:
        raise BadRequest(
            f"--grace {text!r} is not a whole number of minutes", field="grace_minutes"
        ) from None


def _scopes(key: keys.ApiKey) -> str:
    return " ".join(sorted(key.scopes))


def _quota_text(key: keys.ApiKey) -> str:
    return " ".join(f"{kind}={rate}" for kind, rate in sorted(key.quota.items())) or "default"


def _key_line(*cells: str) -> str:
    ident, name, scopes, quota, created, expires, state = cells
    return (f"{ident:<12}  {name:<24}  {scopes:<27}  {quota:<24}  {created:<19}  "
            f"{expires:<19}  {state}")  # fmt: skip


def _when_utc(moment: datetime | None, otherwise: str) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else otherwise


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
        data_dir = settings.data_folder
        if settings.cms_data_dir is None and not data_dir.is_dir():
            print(
                f"the database is empty and CMS_DATA_DIR is not set (nor is there {data_dir}): "
                "run `cms-pricing fetch` to download the CMS files, or `make run`",
                file=sys.stderr,
            )
            return EXIT_USAGE
        _say(f"empty database: ingesting {data_dir}")
        gc.enable()  # off for the start-up (cli.py): an ingest makes garbage in volume
        code = _ingest(engine, data_dir)
        if code:
            return code
    engine.dispose()  # the server opens its own connections (and may fork workers)
    # Imported here: the web stack is heavy and only `serve` needs it. The end-to-end test
    # of this path is tests/api/test_server.py (a real server process).
    from cms_pricing.api import server  # noqa: PLC0415

    server.run(settings)
    return 0


_COMMANDS: dict[str, Callable[[Engine, Settings, argparse.Namespace], int]] = {
    "ingest": lambda e, s, a: _publishing(_ingest(e, Path(a.path)), e, s),
    "discover": lambda e, s, _a: _publishing(fetching.discover(e, s), e, s),
    "releases": lambda e, _s, _a: _releases(e),
    "cache": _invalidate,
    "keys": lambda e, _s, a: _keys(e, a),
    "serve": lambda e, s, _a: _serve(e, s),
}
