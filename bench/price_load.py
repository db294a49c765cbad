"""Benchmark: GET /codes/price under wrk, against the raw-ASGI ceiling measured in the same run.

Contract (docs/performance.md quotes its output):
1. ingest the real CMS files into the benchmark database (a no-op when already there);
2. build a varied request mix from the real files: codes payable in every 2025 release
   (with 26/TC on PC/TC-1 codes), ZIPs drawn from the whole ZIP file or carrier-localities
   given directly, office/facility/place of service, dates across 2025, ``year`` or none;
3. serve ``bench/raw_asgi.py`` with the same server and workers, load it with wrk, stop it;
4. serve the service (``cms-pricing serve``), load it with the mix (response cache on, then
   off so every request is computed), stop it;
5. with ``--schedules``, also load it with a mix across every schedule (MPFS 60%, CLFS,
   DMEPOS, ASP and anesthesia 10% each, every request distinct in its parameters), cache on
   and off;
6. print requests/s, p50/p95/p99 and the share of the ceiling; write JSON to bench/results/.

Every request goes to 127.0.0.1 only; each wrk run is bounded by ``--duration``.
Run: ``make bench`` or ``.venv/bin/python bench/price_load.py --help``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from cms_pricing.reference.parsers import parse_file
from cms_pricing.reference.rows import RvuRow, Zip5Row

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FACILITY_POS = ["21", "22", "23", "24", "31"]
OFFICE_POS = ["11", "12", "20", "49"]

# The end of every wrk script here (a %-template, like the scripts): the summary as one line.
# wrk's own report stops at p99; its latency histogram answers any percentile (p99.9 here).
DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\\"requests\\":%%d,\\"duration_us\\":%%d,\\"non2xx\\":%%d,\\"socket_errors\\":%%d," ..
    "\\"p50_us\\":%%d,\\"p95_us\\":%%d,\\"p99_us\\":%%d,\\"p999_us\\":%%d,\\"max_us\\":%%d}\\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
"""
LUA = (
    """
local paths = {%(paths)s}
local i = 0
setup = function(thread) end
init = function(args) i = math.random(#paths) end
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""
    + DONE
)


def txt_file(folder: Path, prefix: str) -> Path:
    return next(
        p
        for p in sorted(folder.iterdir())
        if p.name.upper().startswith(prefix) and p.suffix == ".txt"
    )


def read_rvus(folder: Path) -> list[RvuRow]:
    path = txt_file(folder, "PPRRVU")
    return parse_file("pprrvu", path.name, path.read_bytes())


def read_zips(folder: Path) -> list[Zip5Row]:
    path = txt_file(folder, "ZIP5_")
    return parse_file("zip5", path.name, path.read_bytes())


def request_mix(data: Path, size: int, seed: int) -> list[str]:
    """``size`` request paths drawn at random (fixed seed) from the real files."""
    rng = random.Random(seed)
    payable = payable_codes(data)
    zip_folder = data / "2025" / "zip-locality-2025q4"
    zips = read_zips(zip_folder)
    return [one_request(rng, payable, zips) for _ in range(size)]


def payable_codes(data: Path) -> list[tuple[str, str]]:
    """(code, modifier) rows payable (status A, R or T) in every 2025 release."""
    releases = sorted((data / "2025").glob("rvu25?"))
    per_release = [{(r.hcpcs, r.modifier): r for r in read_rvus(f)} for f in releases]
    return [
        key
        for key, row in per_release[-1].items()
        if row.status in "ART"
        and all(key in rel and rel[key].status in "ART" for rel in per_release)
    ]


def one_request(rng: random.Random, payable: list[tuple[str, str]], zips: list[Zip5Row]) -> str:
    code, modifier = rng.choice(payable)
    place = rng.choice(zips)
    parts = [f"code={code}"]
    if rng.random() < 0.15:
        parts.append(f"locality={place.carrier}{place.locality}")
    else:
        parts.append(f"zip={place.zip5}")
    if modifier:
        parts.append(f"modifier={modifier}")
    roll = rng.random()
    if roll < 0.4:
        parts.append(f"setting={rng.choice(['office', 'facility'])}")
    elif roll < 0.7:
        parts.append(f"pos={rng.choice(FACILITY_POS + OFFICE_POS)}")
    roll = rng.random()
    if roll < 0.5:
        parts.append(f"date={date(2025, 1, 1) + timedelta(days=rng.randrange(365))}")
    elif roll < 0.8:
        parts.append("year=2025")
    return "/codes/price?" + "&".join(parts)


def schedule_mix(data: Path, size: int, seed: int) -> list[str]:
    """``size`` paths across the schedules: 60% MPFS (``request_mix``), and about 5.7% each
    of CLFS, DMEPOS (state or ZIP, rural or not), ASP (1-20 units), anesthesia (ZIP, 15-300
    minutes, a payment modifier), OPPS and ASC (national, a CBSA or a wage index) and
    ``/codes/{code}/sites`` (ZIP and CBSA), drawn from the real files with a fixed seed."""
    rng = random.Random(seed)
    mpfs = request_mix(data, size, seed)
    root = data / "2025"
    clfs = _rows(root / "clfs-2025q1", "CLFS 2025 Q1V1.txt", "clfs")
    dme = _rows(root / "dmepos-2025q1", "DMEPOS_JAN.csv", "dmepos")
    drugs = _rows(root / "asp-2025q1", next((root / "asp-2025q1").glob("*.csv")).name, "asp")
    folder = data / "2022" / "anes-base-units-cy2022"
    anes = _rows(folder, next(folder.glob("*.txt")).name, "anes_base_units")
    zips = [z.zip5 for z in read_zips(root / "zip-locality-2025q4")]
    dme_keys = sorted({(r.hcpcs, r.modifier, r.modifier2, r.state) for r in dme if r.non_rural})
    opps_folder = root / "opps-cy2025-final-rule"
    opps_name = next(opps_folder.glob("*Addendum B.*")).name
    opps = [r.hcpcs for r in _rows(opps_folder, opps_name, "opps_rates") if r.payment_rate]
    asc_folder = root / "asc-2025q1"
    asc = [r.hcpcs for r in _rows(asc_folder, next(asc_folder.glob("*-AA.csv")).name, "asc_aa")]
    wage_folder = root / "opps-wage-index-2025"
    wage_rows = _rows(wage_folder, "cbsa-wage-index-2025.csv", "wage_index")
    cbsas = [r.cbsa for r in wage_rows]
    # An ASC at a state rural area without a pre-floor index (DC, NJ, RI) is a 422: left out.
    asc_cbsas = [r.cbsa for r in wage_rows if r.geographic > 0]

    def facility(schedule: str, codes: list[str]) -> str:
        roll = rng.random()
        places = asc_cbsas if schedule == "asc" else cbsas
        where = "" if roll < 0.2 else f"&cbsa={rng.choice(places)}"
        where = f"&wage_index={rng.randint(5000, 15000) / 10000}" if roll > 0.9 else where
        return f"/codes/price?schedule={schedule}&code={rng.choice(codes)}{where}"

    def by_site() -> str:
        roll = rng.random()
        if roll < 1 / 3:
            return facility("opps", opps)
        if roll < 2 / 3:
            return facility("asc", asc)
        return f"/codes/{rng.choice(asc)}/sites?zip={rng.choice(zips)}&cbsa={rng.choice(cbsas)}"

    def other() -> str:
        if rng.random() < 3 / 7:
            return by_site()
        roll = rng.random()
        if roll < 0.25:
            row = rng.choice(clfs)
            mod = f"&modifier={row.modifier}" if row.modifier else ""
            return f"/codes/price?schedule=clfs&code={row.hcpcs}{mod}"
        if roll < 0.5:
            code, mod, mod2, state = rng.choice(dme_keys)
            mods = (f"&modifier={mod}" if mod else "") + (f"&modifier2={mod2}" if mod2 else "")
            where = f"state={state}&rural={rng.choice(['true', 'false'])}"
            return f"/codes/price?schedule=dmepos&code={code}{mods}&{where}"
        if roll < 0.75:
            units = rng.randint(1, 20)
            return f"/codes/price?schedule=asp&code={rng.choice(drugs).hcpcs}&units={units}"
        row = rng.choice(anes)
        modifier = rng.choice(["AA", "QK", "QX", "QY", "QZ"])
        return (
            f"/codes/price?schedule=anesthesia&code={row.code}&zip={rng.choice(zips)}"
            f"&minutes={rng.randint(15, 300)}&modifier={modifier}"
        )

    return [path if rng.random() < 0.6 else other() for path in mpfs]


def _rows(folder: Path, name: str, kind: str) -> list[Any]:
    return parse_file(kind, name, (folder / name).read_bytes())


_GIVEN: set[int] = set()


def free_port() -> int:
    """A free port on 127.0.0.1: any, or one of ``BENCH_PORTS`` (``18100-18199``) when set,
    for a machine where each user of the loopback keeps to a range."""
    low, _, high = os.environ.get("BENCH_PORTS", "0-0").partition("-")
    for port in range(int(low), int(high) + 1):
        if port in _GIVEN:  # handed out already, its server may not have bound it yet
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            if port:
                _GIVEN.add(port)
            return int(sock.getsockname()[1])
    raise RuntimeError(f"no free port in BENCH_PORTS={os.environ['BENCH_PORTS']}")


def wait_for(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer 200 within {timeout}s")


# What each server worker logs once its expensive-work children hold their data
# (service/offload.py); /ready answers before that.
WARM_LINE = "expensive-work children ready"


def wait_warm(base: str, log: Path, workers: int, timeout: float) -> None:
    """After ``/ready``: wait until every worker's expensive-work children are loaded (their
    lines in the server's ``log``), unless ``/ready`` says there are none to wait for."""
    with urllib.request.urlopen(base + "/ready", timeout=5) as response:
        if json.loads(response.read())["expensive"] not in ("warming", "ready"):
            return
    deadline = time.monotonic() + timeout
    while log.read_text().count(WARM_LINE) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the expensive-work children were not ready within {timeout}s")
        time.sleep(0.1)


def wrk(
    url: str,
    script: Path,
    args: argparse.Namespace,
    duration: int,
    *,
    script_args: Sequence[str] = (),
) -> dict[str, float]:
    """One wrk run; ``script_args`` go to the script's ``init(args)``."""
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{duration}s",
        "-s",
        str(script),
        url,
        *(["--", *script_args] if script_args else []),
    ]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    raw = json.loads(line.removeprefix("WRKJSON "))
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "requests_per_s": round(raw["requests"] / seconds),
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "p999_ms": raw["p999_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "non2xx": raw["non2xx"],
        "socket_errors": raw["socket_errors"],
    }


def measure(
    server: list[str], env: dict[str, str], port: int, script: Path, args: argparse.Namespace
) -> dict[str, float]:
    proc = subprocess.Popen(server, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/health", timeout=60)
        wrk(f"http://127.0.0.1:{port}", script, args, duration=args.warmup)
        return wrk(f"http://127.0.0.1:{port}", script, args, duration=args.duration)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def write_script(folder: Path, name: str, paths: list[str]) -> Path:
    script = folder / name
    script.write_text(LUA % {"paths": ",".join(json.dumps(p) for p in paths)})
    return script


def add_data_arguments(parser: argparse.ArgumentParser, *, out: bool = True) -> None:
    """``--data``, ``--database-url`` (and ``--out``): the options every benchmark shares."""
    default_data = Path(os.environ.get("CMS_DATA_DIR", ROOT.parent / "shared" / "cms-data"))
    parser.add_argument("--data", type=Path, default=default_data, help="the CMS data tree")
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'var' / 'bench.db'}")
    if out:
        parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")


def ingested_env(args: argparse.Namespace) -> dict[str, str]:
    """The environment for the CLI and servers, after ingesting the real files into the
    benchmark database (a no-op when they are already there)."""
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "CMS_DATA_DIR": str(args.data),
        # The benchmarks measure the service, not the rate limiter (docs/auth.md): off unless
        # a benchmark measures the limiter itself (bench/distinct_mix.py --limits).
        "CMS_PRICING_RATE_LIMITS": "false",
    }
    ingest = [str(BIN / "cms-pricing"), "ingest", str(args.data)]
    subprocess.run(ingest, env=env, check=True, stdout=subprocess.DEVNULL)
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load before each")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mix", type=int, default=20_000, help="distinct requests in the mix")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument(
        "--schedules", action="store_true", help="also run a mix across every fee schedule"
    )
    add_data_arguments(parser)
    args = parser.parse_args(argv)

    env = ingested_env(args)
    paths = request_mix(args.data, args.mix, args.seed)
    results: dict[str, object] = {
        "date": date.today().isoformat(),
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ceiling_port, app_port = free_port(), free_port()
        raw = [
            str(BIN / "granian"),
            "--interface",
            "asgi",
            "--workers",
            str(args.workers),
            "--port",
            str(ceiling_port),
            "--loop",
            "uvloop",
            "--no-access-log",
            "--log-level",
            "warning",
            "--working-dir",
            str(ROOT / "bench"),
            "raw_asgi:app",
        ]
        results["raw_asgi"] = measure(
            raw, env, ceiling_port, write_script(folder, "raw.lua", ["/"]), args
        )
        serve = [str(BIN / "cms-pricing"), "serve"]
        script = write_script(folder, "mix.lua", paths)
        runs = [("price_cached", "50000", script), ("price_uncached", "0", script)]
        if args.schedules:
            mixed = write_script(folder, "schedules.lua", schedule_mix(args.data, args.mix,
                                                                       args.seed))  # fmt: skip
            runs += [("schedules_cached", "50000", mixed), ("schedules_uncached", "0", mixed)]
        for label, cache, lua in runs:
            run_env = {
                **env,
                "CMS_PRICING_PORT": str(app_port),
                "CMS_PRICING_WORKERS": str(args.workers),
                "CMS_PRICING_RESPONSE_CACHE_SIZE": cache,
            }
            results[label] = measure(serve, run_env, app_port, lua, args)
    report(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"price-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps(results, indent=2)
    )
    return 0


def report(results: dict[str, object]) -> None:
    ceiling = results["raw_asgi"]
    assert isinstance(ceiling, dict)
    print(
        f"{'run':<16}{'req/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'non2xx':>8}{'share':>8}"
    )
    for label in ("raw_asgi", "price_cached", "price_uncached", "schedules_cached",
                  "schedules_uncached"):  # fmt: skip
        r = results.get(label)
        if r is None:
            continue
        assert isinstance(r, dict)
        share = r["requests_per_s"] / ceiling["requests_per_s"]
        print(
            f"{label:<16}{r['requests_per_s']:>10,}{r['p50_ms']:>9.2f}{r['p95_ms']:>9.2f}"
            f"{r['p99_ms']:>9.2f}{r['non2xx']:>8}{share:>8.0%}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
