"""``cms-pricing fetch`` and ``cms-pricing discover`` as commands: settings and arguments in,
lines out, an exit code back (``cli.py`` states the codes)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import Engine

from cms_pricing.config import Settings
from cms_pricing.fetch import FetchError, manifest
from cms_pricing.fetch.discovery import discover_new
from cms_pricing.fetch.runs import FetchReport, Say, downloader, fetch_all, fetch_from

EXIT_FAILED = 1


def fetch(settings: Settings, args: argparse.Namespace) -> int:
    """Download (or take from ``--from``) the datasets asked for into the data folder."""
    datasets = manifest.load().select(args.year, args.schedule)
    if not datasets:
        return _invalid(f"the manifest has no dataset for {args.year} {args.schedule or ''}")
    data_dir = settings.data_folder
    try:
        if args.source:
            _say(f"taking the CMS files from {args.source} into {data_dir}")
            report = fetch_from(settings, Path(args.source), datasets, _say)
        else:
            http = downloader(settings)
            try:
                report = fetch_all(settings, datasets, _say_missing(settings, data_dir), http)
            finally:
                http.close()
    except FetchError as exc:
        return _failed([str(exc)])
    _say(_summary(report, data_dir))
    return _failed(report.failed) if report.failed else 0


def discover(engine: Engine, settings: Settings) -> int:
    """Find, fetch and ingest the releases CMS lists that are not published here, and the
    corrections of those that are (fetch/discovery.py)."""
    http = downloader(settings)
    try:
        report = discover_new(settings, engine, manifest.load(), _say, http)
    except FetchError as exc:
        return _failed([str(exc)])
    finally:
        http.close()
    for line in report.published:
        _say(line)
    if not report.fetched and not report.failed:
        _say("no new release: every release CMS lists is published here, none corrected")
    return _failed(report.failed) if report.failed else 0


def _say_missing(settings: Settings, data_dir: Path) -> Say:
    """Say once where the downloads come from, before the first one."""
    told = False

    def say(line: str) -> None:
        nonlocal told
        if not told and ": downloading " in line:
            _say(f"CMS files missing in {data_dir}: downloading from {settings.fetch_base_url}")
            told = True
        _say(line)

    return say


def _summary(report: FetchReport, data_dir: Path) -> str:
    return (
        f"{len(report.fetched)} datasets fetched, {len(report.present)} already present, "
        f"{len(report.failed)} failed; data folder {data_dir}"
    )


def _failed(lines: list[str]) -> int:
    for line in lines:
        print(f"failed: {line}", file=sys.stderr, flush=True)
    return EXIT_FAILED


def _invalid(message: str) -> int:
    print(f"invalid: {message}", file=sys.stderr, flush=True)
    return 2


def _say(line: str) -> None:
    print(line, flush=True)
