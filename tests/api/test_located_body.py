"""``wire.located_body`` (the computed path of ``GET /codes/price``) writes, byte for byte, what
the ``Quote`` path writes (``quote_json``, which bulk and plans use), over the real data.

Every row of the latest release (every status, PC/TC indicator and modifier) at a ZIP drawn
for it, both settings and places of service with their own rules (telehealth 02 and 10,
hospital 19, 21, 22); every row with an OPPS imaging cap at its capped localities; and every
locality of the ZIP file with an ambiguous-ZIP note.
"""

from __future__ import annotations

import random

import pytest

from cms_pricing.api import wire
from cms_pricing.config import Settings
from cms_pricing.engine.mpfs import decide, locate, quote
from cms_pricing.engine.quote import PriceQuery
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.errors import PricingError
from cms_pricing.service.state import ServiceState

PLACES = [(None, None), ("facility", None), (None, "02"), (None, "10"), (None, "19"),
          (None, "21"), (None, "22")]  # fmt: skip


@pytest.fixture(scope="module")
def snapshot(settings: Settings) -> Snapshot:
    state = ServiceState(settings)
    state.load()
    return state.loaded.snapshot


def _compare(snapshot: Snapshot, queries: list[PriceQuery]) -> int:
    compared = 0
    for query in queries:
        try:
            found = locate(snapshot, query)
        except PricingError:
            continue
        assert wire.located_body(found, decide(found)) == wire.dumps(
            wire.quote_json(quote(found))
        ), query
        compared += 1
    return compared


def test_every_row_in_every_setting(snapshot: Snapshot) -> None:
    release = snapshot.select_release()
    zips = sorted(snapshot.zips)
    rng = random.Random(14)
    queries = [
        PriceQuery(code, zip=rng.choice(zips), setting=setting, pos=pos, modifier=modifier)
        for (code, modifier) in sorted(release.rvus)
        for setting, pos in rng.sample(PLACES, 2)
    ]
    assert _compare(snapshot, queries) > 30_000


def test_capped_rows_and_ambiguous_zips(snapshot: Snapshot) -> None:
    release = snapshot.select_release()
    capped = [
        PriceQuery(code, locality=mac + locality, setting=setting, modifier=modifier)
        for (code, modifier, mac, locality) in sorted(release.oppscap)[:4000]
        for setting in ("office", "facility")
    ]
    ambiguous = [
        PriceQuery("99213", zip=zip5 + plus4, setting="office")
        for zip5, row in sorted(snapshot.zips.items())
        if row.plus_four
        for plus4 in ("", "-1234")
    ]
    assert ambiguous and _compare(snapshot, capped) > 5_000
    assert _compare(snapshot, ambiguous) == len(ambiguous)
