"""Engine fixtures: a small synthetic snapshot for unit tests, the real 2025 files for evidence.

The synthetic snapshot holds two 2025 releases (RVU25A from 2025-01-01, RVU25B from
2025-04-01) with hand-made rows whose values are chosen so every rule has a case; the
real one parses the ``.txt`` files of ``2025/rvu25a..d`` and the ZIP5 file once per session.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.reference import years
from cms_pricing.reference.datasets import (
    ReleaseData,
    ReleaseMeta,
    SourceFile,
    ZipData,
    ZipMeta,
)
from cms_pricing.reference.parsers import detect_kind, parse_file
from cms_pricing.reference.rows import (
    AnesCfRow,
    GpciRow,
    LocalityCountyRow,
    OppsCapRow,
    RvuRow,
    Zip5Row,
)

CF_2025 = Decimal("32.3465")
D = Decimal

# (mac, locality) -> (state, name as printed, work, pe, mp GPCI)
GPCIS = {
    ("01112", "05"): ("CA", "SAN FRANCISCO-OAKLAND-BERKELEY", "1.088", "1.419", "0.445"),
    ("02102", "01"): ("AK", "ALASKA*", "1.500", "1.081", "0.592"),
    ("05202", "00"): ("KS", "KANSAS*", "1.000", "0.915", "0.534"),
    ("05302", "02"): ("MO", "METROPOLITAN KANSAS CITY", "1.000", "0.945", "0.918"),
}


def rvu(hcpcs: str, modifier: str = "", **fields: Any) -> RvuRow:
    """A status-A, PC/TC-0 row with small RVUs; ``fields`` override any column."""
    base = RvuRow(
        hcpcs=hcpcs,
        modifier=modifier,
        description="SYNTHETIC",
        status="A",
        not_used_for_medicare="",
        work_rvu=D("1.30"),
        nonfac_pe_rvu=D("1.35"),
        nonfac_na=False,
        fac_pe_rvu=D("0.57"),
        fac_na=False,
        mp_rvu=D("0.10"),
        nonfac_total=D("2.75"),
        fac_total=D("1.97"),
        pctc="0",
        global_days="XXX",
        pre_op=D("0.00"),
        intra_op=D("0.00"),
        post_op=D("0.00"),
        mult_proc="0",
        bilateral="0",
        assistant="0",
        co_surgeon="0",
        team="0",
        endo_base="",
        conversion_factor=CF_2025,
        supervision="09",
        calc_flag="0",
        imaging_family="99",
        opps_nonfac_pe_rvu=D("0.00"),
        opps_fac_pe_rvu=D("0.00"),
        opps_mp_rvu=D("0.00"),
    )
    return replace(base, **fields)


IMAGING = {"pctc": "1", "mult_proc": "4", "imaging_family": "88", "supervision": "01"}


def release_a_rvus() -> list[RvuRow]:
    """RVU25A rows: one or more per rule the engine applies."""
    tc = {**IMAGING, "work_rvu": D("0.00"), "fac_na": True, "fac_pe_rvu": D("3.00")}
    return [
        rvu("99213"),
        rvu("27447", global_days="090", nonfac_na=True, work_rvu=D("19.60"),
            nonfac_pe_rvu=D("10.04"), fac_pe_rvu=D("10.04"), mp_rvu=D("3.93"),
            pre_op=D("0.10"), intra_op=D("0.69"), post_op=D("0.21")),
        rvu("71250", **IMAGING, work_rvu=D("1.16"), nonfac_pe_rvu=D("3.40"),
            fac_pe_rvu=D("3.40"), fac_na=True, mp_rvu=D("0.07"),
            opps_nonfac_pe_rvu=D("1.50"), opps_fac_pe_rvu=D("1.50"), opps_mp_rvu=D("0.02")),
        rvu("71250", "26", **IMAGING, work_rvu=D("1.16"), nonfac_pe_rvu=D("0.40"),
            fac_pe_rvu=D("0.40"), mp_rvu=D("0.05")),
        rvu("71250", "TC", **tc, nonfac_pe_rvu=D("3.00"), mp_rvu=D("0.02"),
            opps_nonfac_pe_rvu=D("1.10"), opps_fac_pe_rvu=D("1.10"), opps_mp_rvu=D("0.01")),
        rvu("45378", mult_proc="3", endo_base="45378"),
        rvu("45378", "53", work_rvu=D("0.98"), endo_base="45378"),
        rvu("86153", "26", pctc="6"),
        rvu("88305", pctc="6"),
        rvu("88305", "26", pctc="6", nonfac_pe_rvu=D("0.30")),
        rvu("93010", pctc="2"),
        rvu("93005", pctc="3"),
        rvu("0633T", "TC", status="C", **{**tc, "work_rvu": D("0.00")},
            nonfac_pe_rvu=D("0.00"), mp_rvu=D("0.00")),
        rvu("0633T", status="C", **IMAGING, work_rvu=D("0.00"), nonfac_pe_rvu=D("0.00"),
            fac_pe_rvu=D("0.00"), mp_rvu=D("0.00")),
        *[rvu(f"ZZ00{s}", status=s) for s in "BCEIJMNPXRTQ"],
    ]  # fmt: skip


def release_b_rvus() -> list[RvuRow]:
    """RVU25B: as RVU25A, but 99213's work RVU is revised and one code is added."""
    rows = [rvu("99213", work_rvu=D("1.40")) if r.hcpcs == "99213" else r for r in release_a_rvus()]
    return [*rows, rvu("99999")]


def caps() -> list[OppsCapRow]:
    """OPPSCAP rows: 71250/71250-TC in SF (cap binds) and Alaska (cap above MPFS)."""
    rows = []
    for mod in ("", "TC"):
        rows.append(OppsCapRow("71250", mod, "A", "01112", "05", D("60.00"), D("61.00")))
        rows.append(OppsCapRow("71250", mod, "A", "02102", "01", D("999.00"), D("999.00")))
        rows.append(OppsCapRow("0633T", mod, "C", "01112", "05", D("150.69"), D("150.69")))
    return rows


def gpci_rows() -> list[GpciRow]:
    return [
        GpciRow(mac, st, loc, name, D(w), D(pe), D(mp))
        for (mac, loc), (st, name, w, pe, mp) in reversed(GPCIS.items())
    ]


def county_rows() -> list[LocalityCountyRow]:
    return [
        LocalityCountyRow("01112", "05", "CALIFORNIA", "SAN FRANCISCO-OAKLAND", "SAN FRANCISCO"),
        LocalityCountyRow("01112", "05", "CALIFORNIA", "SAN FRANCISCO-OAKLAND", "ALAMEDA"),
        LocalityCountyRow("02102", "01", "ALASKA", "STATEWIDE", "ALL COUNTIES"),
    ]


def anes_rows() -> list[AnesCfRow]:
    return [
        AnesCfRow("01112", "05", "SAN FRANCISCO", D("22.65")),
        AnesCfRow("02102", "01", "ALASKA", D("27.86")),
    ]


def gpci_row(mac: str, locality: str, values: tuple[str, str, str]) -> GpciRow:
    return GpciRow(mac, "CA", locality, "TEST", D(values[0]), D(values[1]), D(values[2]))


def release(
    release_id: str, effective: date, rvus: list[RvuRow], gpcis: list[GpciRow] | None = None
) -> ReleaseData:
    """A ReleaseData whose sha256 is derived from its id (stable across runs)."""
    sha = hashlib.sha256(release_id.encode()).hexdigest()
    meta = ReleaseMeta(release_id, effective.year, effective, sha, files=())
    gpci = gpci_rows() if gpcis is None else gpcis
    return ReleaseData(meta, rvus, gpci, county_rows(), anes_rows(), caps())


def zip_row(state: str, zip5: str, carrier: str, locality: str, **fields: Any) -> Zip5Row:
    row = Zip5Row(state, zip5, carrier, locality, "", "Z9", "", False, "", "20254")
    return replace(row, **fields)


def zip_data(rows: Sequence[Zip5Row] | None = None, sha: str = "zip-sha") -> ZipData:
    """The synthetic ZIP5 file; EK/WK/EM/WM codes as the real file writes them."""
    default = [
        zip_row("CA", "94110", "01112", "05"),
        zip_row("CA", "94111", "01112", "05", plus_four=True),
        zip_row("AK", "99501", "02102", "01", rural="R"),
        zip_row("EK", "66002", "05202", "00", rural="B"),
        zip_row("WK", "67901", "05202", "00"),
        zip_row("EM", "63101", "05302", "02"),
        zip_row("WM", "64101", "05302", "02"),
        zip_row("GU", "96910", "01212", "00"),  # carrier-locality absent from GPCI
    ]
    meta = ZipMeta("ZIP5-20254", "20254", sha, files=())
    return ZipData(meta, list(rows if rows is not None else default))


def synthetic_releases() -> list[ReleaseData]:
    return [
        release("RVU25B", date(2025, 4, 1), release_b_rvus()),
        release("RVU25A", date(2025, 1, 1), release_a_rvus()),
    ]


@pytest.fixture(scope="session")
def snapshot() -> Snapshot:
    """The synthetic two-release snapshot (built once: Snapshot is immutable)."""
    return Snapshot.build(synthetic_releases(), zip_data(), constants=years.load())


# -- the real files ---------------------------------------------------------------------------

REAL_RELEASES = (
    ("RVU25A", "rvu25a", date(2025, 1, 1)),
    ("RVU25B", "rvu25b", date(2025, 4, 1)),
    ("RVU25C", "rvu25c", date(2025, 7, 1)),
    ("RVU25D", "rvu25d", date(2025, 10, 1)),
)


def _parse_folder(folder: Path) -> dict[str, tuple[list[Any], SourceFile]]:
    parsed: dict[str, tuple[list[Any], SourceFile]] = {}
    for path in sorted(folder.glob("*.txt")):
        kind = detect_kind(path.name)
        if kind is None:
            continue
        data = path.read_bytes()
        rows = list(parse_file(kind, path.name, data))
        sha = hashlib.sha256(data).hexdigest()
        parsed[kind] = (rows, SourceFile(kind, path.name, sha, len(rows)))
    return parsed


def _real_release(root: Path, release_id: str, folder: str, effective: date) -> ReleaseData:
    parsed = _parse_folder(root / "2025" / folder)
    files = tuple(sorted((f for _, f in parsed.values()), key=lambda f: f.kind))
    sha = hashlib.sha256("".join(f"{f.kind}{f.sha256}" for f in files).encode()).hexdigest()
    meta = ReleaseMeta(release_id, 2025, effective, sha, files)
    return ReleaseData(meta, parsed["pprrvu"][0], parsed["gpci"][0], parsed["locco"][0],
                       parsed["anes"][0], parsed["oppscap"][0])  # fmt: skip


def _real_zips(root: Path) -> ZipData:
    parsed = _parse_folder(root / "2025" / "zip-locality-2025q4")
    rows, source = parsed["zip5"]
    return ZipData(ZipMeta("ZIP5-20254", "20254", source.sha256, (source,)), rows)


@pytest.fixture(scope="session")
def real_releases(cms_data: Path) -> list[ReleaseData]:
    """RVU25A..D parsed from their ``.txt`` files."""
    return [_real_release(cms_data, *spec) for spec in REAL_RELEASES]


@pytest.fixture(scope="session")
def real_snapshot(cms_data: Path, real_releases: list[ReleaseData]) -> Snapshot:
    """The snapshot of the four real 2025 releases and the October 2025 ZIP5 file."""
    return Snapshot.build(real_releases, _real_zips(cms_data), constants=years.load())


class Kit:
    """The builders above, handed to tests as a fixture (conftest modules are not imported)."""

    rvu = staticmethod(rvu)
    release = staticmethod(release)
    gpci_row = staticmethod(gpci_row)
    release_a_rvus = staticmethod(release_a_rvus)
    zip_row = staticmethod(zip_row)
    zip_data = staticmethod(zip_data)
    synthetic_releases = staticmethod(synthetic_releases)
    gpcis = GPCIS
    cf = CF_2025


@pytest.fixture(scope="session")
def kit() -> Kit:
    """Row and dataset builders for synthetic data."""
    return Kit()
