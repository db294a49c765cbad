"""Load-test and gate tests: the benchmark folder on the import path, the runner's command.

``bench/`` is a folder of scripts, not a package; its pure parts (the gate's comparison,
the capacity model) are imported directly. Locust itself only ever runs in a subprocess
(``python -m loadtest``), so gevent's monkey-patching never reaches this process.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))  # the loadtest package (its pure modules: report, profiles)
