"""The compiled snapshot on disk (service/snapfile.py): compiled once, named by content,
rebuilt when cut short, old files removed, and what a server process maps."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, date, datetime
from decimal import Decimal as D
from pathlib import Path

from cms_pricing.config import Settings
from cms_pricing.db.repository import create_db_engine, migrate, write_release, write_zip_dataset
from cms_pricing.engine.compiled import Compiled, Writer
from cms_pricing.engine.compiled_tables import NestedMap
from cms_pricing.engine.quote import ScheduleRequest
from cms_pricing.engine.schedules import price_schedule
from cms_pricing.reference.datasets import ReleaseData, ReleaseMeta, ZipData, ZipMeta
from cms_pricing.reference.rows import GpciRow, RvuRow, Zip5Row
from cms_pricing.service import snapfile
from cms_pricing.service.state import ServiceState


def _release(release_id: str, sha: str) -> ReleaseData:
    row = RvuRow(
        "99213", "", "VISIT", "A", "", D("1.30"), D("1.35"), False, D("0.55"), False, D("0.10"),
        D("2.75"), D("1.95"), "0", "XXX", D("0"), D("0"), D("0"), "0", "0", "0", "0", "0", "",
        D("32.3465"), "09", "", "99", D("0"), D("0"), D("0"),
    )  # fmt: skip
    gpci = GpciRow("01112", "CA", "05", "SF", D("1.088"), D("1.419"), D("0.445"))
    meta = ReleaseMeta(release_id, 2025, date(2025, 1, 1), sha, ())
    return ReleaseData(meta, [row], [gpci])


ZIPS = ZipData(
    ZipMeta("ZIP5-20254", "20254", "zsha", ()),
    [Zip5Row("CA", "94110", "01112", "05", "", "", "", False, "", "20254")],
)


class Source:
    """What a database would hand the compiler; counts how often it is read."""

    def __init__(self, *releases: ReleaseData, delay: float = 0.0) -> None:
        self.releases = list(releases)
        self.delay = delay
        self.reads = 0

    def __call__(self, writer: Writer) -> None:
        self.reads += 1
        time.sleep(self.delay)
        for data in self.releases:
            writer.add_release(data)
        writer.add_zips(ZIPS)

    @property
    def metas(self) -> list[ReleaseMeta]:
        return [r.meta for r in self.releases]

    @property
    def listed(self) -> snapfile.Listed:
        return snapfile.Listed(self.metas, ZIPS.meta)


def test_compiled_once_then_mapped(tmp_path: Path) -> None:
    """The first open compiles into a file named by the content; the next maps it unread."""
    source = Source(_release("RVU25A", "a1"))
    first = snapfile.open_current(tmp_path, source.listed, source)
    again = snapfile.open_current(tmp_path, source.listed, source)
    assert source.reads == 1
    name = snapfile.file_name(source.listed)
    assert [p.name for p in tmp_path.glob("*.snap")] == [name]
    assert first.releases == again.releases == tuple(source.metas)


def test_workers_starting_together_compile_once(tmp_path: Path) -> None:
    """Four workers asking at once: one compiles under the lock, the others wait and map."""
    source = Source(_release("RVU25A", "a1"), delay=0.3)
    results = []

    def worker() -> None:
        results.append(snapfile.open_current(tmp_path, source.listed, source))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert source.reads == 1
    assert len(results) == 4 and len({r.records for r in results}) == 1


def test_a_file_cut_short_is_compiled_again(tmp_path: Path) -> None:
    """A current file truncated on disk (a crash, a full disk) is replaced, not served."""
    source = Source(_release("RVU25A", "a1"))
    snapfile.open_current(tmp_path, source.listed, source)
    path = tmp_path / snapfile.file_name(source.listed)
    path.write_bytes(path.read_bytes()[:-5])
    found = snapfile.open_current(tmp_path, source.listed, source)
    assert source.reads == 2
    assert found.records == 2


def test_the_file_is_named_by_what_the_database_held(tmp_path: Path) -> None:
    """A release published between listing and compiling: the file is named by its own
    content (so no name ever lies), and the next load finds it."""
    listed = [_release("RVU25A", "a1").meta]
    source = Source(_release("RVU25A", "a1"), _release("RVU25B", "b1"))
    found = snapfile.open_current(tmp_path, snapfile.Listed(listed, ZIPS.meta), source)
    assert [m.release_id for m in found.releases] == ["RVU25A", "RVU25B"]
    assert (tmp_path / snapfile.file_name(source.listed)).exists()
    assert not (tmp_path / snapfile.file_name(snapfile.Listed(listed, ZIPS.meta))).exists()


def test_old_files_go_once_stale(tmp_path: Path) -> None:
    """A new release's file replaces the old one; the old file stays while it is recent
    (workers still reloading) and is removed once older than KEEP_SECONDS."""
    old = Source(_release("RVU25A", "a1"))
    snapfile.open_current(tmp_path, old.listed, old)
    new = Source(_release("RVU25A", "a2"))
    snapfile.open_current(tmp_path, new.listed, new)
    assert len(list(tmp_path.glob("*.snap"))) == 2
    old_path = tmp_path / snapfile.file_name(old.listed)
    past = time.time() - snapfile.KEEP_SECONDS - 5
    os.utime(old_path, (past, past))
    snapfile.open_current(tmp_path, new.listed, new)
    assert [p.name for p in tmp_path.glob("*.snap")] == [snapfile.file_name(new.listed)]


def test_a_server_process_maps_the_compiled_file(db_url: str, tmp_path: Path) -> None:
    """ServiceState.load compiles what the database publishes into CMS_PRICING_SNAPSHOT_DIR
    and prices from the mapped file; a second state (another worker) compiles nothing."""
    engine = create_db_engine(db_url)
    migrate(engine)
    with engine.begin() as conn:
        write_release(conn, _release("RVU25A", "a1"), datetime.now(UTC))
        write_zip_dataset(conn, ZIPS, datetime.now(UTC))
    folder = tmp_path / "snaps"
    settings = Settings(
        DATABASE_URL=db_url,
        CMS_DATA_DIR=None,
        CMS_PRICING_SNAPSHOT_DIR=folder,
        CMS_PRICING_SNAPSHOT_MODE="compiled",
    )
    state = ServiceState(settings, engine)
    loaded = state.load()
    (path,) = folder.glob("*.snap")
    assert isinstance(loaded.snapshot.compiled, Compiled)
    assert loaded.snapshot.compiled.size == path.stat().st_size
    assert loaded.snapshot.select_release().rvus[("99213", "")].work_rvu == D("1.30")
    mtime = path.stat().st_mtime_ns
    other = ServiceState(settings, engine).load()
    assert other.snapshot.fingerprint == loaded.snapshot.fingerprint
    assert [p.stat().st_mtime_ns for p in folder.glob("*.snap")] == [mtime]


def test_every_schedule_is_served_from_the_file(ingested_url: str, tmp_path: Path) -> None:
    """On the real data, a compiled-mode process reads every schedule's tables from the
    mapped file (no rows in its heap) and answers as an objects-mode process does: same
    fingerprint (so ETags), same dataset list, same prices."""
    base = {"DATABASE_URL": ingested_url, "CMS_DATA_DIR": None}
    objects = ServiceState(Settings(**base, CMS_PRICING_SNAPSHOT_MODE="objects")).load()
    compiled = ServiceState(
        Settings(**base, CMS_PRICING_SNAPSHOT_MODE="compiled", CMS_PRICING_SNAPSHOT_DIR=tmp_path)
    ).load()
    assert compiled.snapshot.fingerprint == objects.snapshot.fingerprint
    assert [d.meta for d in compiled.schedules] == [d.meta for d in objects.schedules]
    assert all(not d.rows for d in compiled.schedules)
    views = compiled.snapshot.schedules.views
    assert set(views) == set(objects.snapshot.schedules.views) >= {"clfs", "dmepos", "opps"}
    assert isinstance(views["dmepos"][-1].table.fees, NestedMap)
    requests = [
        ScheduleRequest("clfs", "80053"),
        ScheduleRequest("dmepos", "E0601", ("RR",), zip="94110"),
        ScheduleRequest("dmepos", "A4253", ("NU", "KL"), state="NY"),
        ScheduleRequest("dmepos", "E0601", ("RR",), zip="35004"),  # a former CBA
        ScheduleRequest("asp", "J1100", units=3),
        ScheduleRequest("opps", "45378", cbsa="10420"),
        ScheduleRequest("asc", "45378", cbsa="10420"),
        ScheduleRequest("anesthesia", "00100", zip="94110", minutes=47),
    ]
    for request in requests:
        assert price_schedule(compiled.snapshot, request) == price_schedule(
            objects.snapshot, request
        )
