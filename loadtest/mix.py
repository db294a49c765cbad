"""The request mix the Locust users draw from, built from the real CMS files (fixed seed).

Reuses the benchmark mixes (``bench/price_load.py`` for ``GET /codes/price`` paths: codes
payable in every 2025 release with their modifiers, ZIPs or carrier-localities, settings,
places of service, dates; ``bench/bulk_load.py`` for bulk lines and plans) and adds ZIPs,
codes, plan comparisons and large bodies. Written once as JSON for the Locust process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bulk_load import Mix  # noqa: E402 - the benchmark folder is not a package
from price_load import request_mix  # noqa: E402


def compare(mix: Mix) -> dict[str, Any]:
    plan = mix.plan()
    places = [{"label": f"place {n}", "zip": mix.rng.choice(mix.zips)} for n in range(3)]
    return {k: v for k, v in plan.items() if k != "zip"} | {"locations": places}


def build(data: Path, seed: int) -> dict[str, Any]:
    mix = Mix(data, seed)
    big_plan = [mix.plan() for _ in range(20)]
    for plan in big_plan:
        plan["lines"] = (plan["lines"] * 4)[:200]
    return {
        "price": request_mix(data, 5000, seed),
        "zips": mix.rng.sample(mix.zips, 2000),
        "codes": mix.rng.sample(mix.plain, 1000),
        "bulk": [mix.bulk(100) for _ in range(50)],
        "bulk_large": [mix.bulk(1000) for _ in range(10)],
        "plans": [mix.plan() for _ in range(100)],
        "plans_large": big_plan,
        "compare": [compare(mix) for _ in range(50)],
    }


def write(data: Path, seed: int, path: Path) -> Path:
    path.write_text(json.dumps(build(data, seed)))
    return path
