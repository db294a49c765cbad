"""schemathesis against a real `cms-pricing serve`: every check, stateful phase on, fixed seed.

    .venv/bin/python tests/fuzz/run.py [--examples N] [--seed S] [--report-dir DIR]
                                       [--every-failure]

starts `cms-pricing serve` (two workers, loopback, a free port) on a private database and
runs ``schemathesis run <base>/openapi.json --checks all`` with every phase (examples,
coverage, fuzzing, stateful), a fixed seed, at most ``--examples`` cases per operation, the
an API key with every scope (made with ``cms-pricing keys create`` before the server starts)
in an ``Authorization`` header, and a JUnit report in ``--report-dir``. The
database is a fresh SQLite file that the server fills from the real CMS files on start
(``CMS_DATA_DIR``, else ``../shared/cms-data``), or the copy ``fuzz(database_url=...)`` is
given (tests/fuzz/test_schemathesis.py passes a copy of the session's ingested database).

Exit status: schemathesis's, so 0 only when no check failed on any operation.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/, for servers.py

from servers import cli, cms_data_root, serve

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"  # why each setting: its comments
SEED = 20261201
# Cases per operation. 200 found 21 distinct failures on e1f61b1 in 48 s, 100 found the
# same 21 in 21 s, 50 found 20 (--every-failure, 2 cores): CI runs 100.
EXAMPLES = 100
PHASES = "examples,coverage,fuzzing,stateful"
SCOPES = ("read", "bulk", "plans:write", "admin")


def command(
    base: str, token: str, report_dir: Path, examples: int, seed: int, *, every_failure: bool
) -> list[str]:
    """The schemathesis command line for the server at ``base``."""
    # An operation's first failure ends its scenario unless ``every_failure``.
    more = ["--continue-on-failure"] if every_failure else []
    return [
        str(SCHEMATHESIS),
        f"--config-file={CONFIG}",
        "run",
        f"{base}/openapi.json",
        "--checks=all",
        f"--phases={PHASES}",
        f"--max-examples={examples}",
        f"--seed={seed}",
        "--generation-database=none",  # the same seed gives the same cases on every machine
        "--workers=1",  # CPython 3.11 ast is not thread-safe under hypothesis: SystemError
        "--request-timeout=30",
        f"--header=Authorization: Bearer {token}",
        "--report=junit,ndjson",
        f"--report-dir={report_dir}",
        "--no-color",
        *more,
    ]


def server_env(folder: Path, database_url: str | None, token: str) -> dict[str, str]:
    # Keys required, as in production: the OpenAPI document then declares every operation
    # but the open ones as needing a key, and schemathesis's ignored_auth check sends each
    # without one (it must be refused).
    common = {"CMS_PRICING_ADMIN_TOKEN": token, "CMS_PRICING_REQUIRE_KEYS": "true"}
    if database_url is None:  # an empty database: `serve` ingests the real files first
        return {
            "DATABASE_URL": f"sqlite:///{folder / 'fuzz.db'}",
            "CMS_DATA_DIR": str(cms_data_root()),
            **common,
        }
    return {"DATABASE_URL": database_url, "CMS_DATA_DIR": "", **common}


def every_scope_key(env: dict[str, str]) -> str:
    """A new key with every scope in the server's database (the last line ``keys create``
    prints); the keys the stateful phase makes through ``POST /admin/keys`` come on top."""
    scopes = [arg for scope in SCOPES for arg in ("--scope", scope)]
    made = cli({**os.environ, **env}, "keys", "create", "fuzz", *scopes)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


def fuzz(
    folder: Path,
    database_url: str | None = None,
    examples: int = EXAMPLES,
    seed: int = SEED,
    every_failure: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Serve, run schemathesis against it, stop; its output is in the result and in
    ``folder/schemathesis.log``, its reports in ``folder/report``."""
    env = server_env(folder, database_url, secrets.token_urlsafe(24))
    token = every_scope_key(env)
    with serve(env, folder / "serve.log", workers=2, ready_within=180) as server:
        report = folder / "report"
        args = command(server.base, token, report, examples, seed, every_failure=every_failure)
        done = subprocess.run(args, capture_output=True, text=True, check=False, cwd=folder)
    (folder / "schemathesis.log").write_text(done.stdout + done.stderr)
    return done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=EXAMPLES, help="cases per operation")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--report-dir", type=Path, help="default: a new temporary folder")
    parser.add_argument(
        "--every-failure", action="store_true", help="go on after an operation's first failure"
    )
    options = parser.parse_args()
    folder = options.report_dir or Path(tempfile.mkdtemp(prefix="cms-pricing-fuzz-"))
    folder.mkdir(parents=True, exist_ok=True)
    done = fuzz(folder.resolve(), None, options.examples, options.seed, options.every_failure)
    print(done.stdout + done.stderr)
    print(f"server log, schemathesis log and reports: {folder}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
