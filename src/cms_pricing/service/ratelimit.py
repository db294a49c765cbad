"""Rate limits and quotas per caller and endpoint class (issue 15; docs/auth.md).

``Rate`` is an allowance of ``count`` units per ``seconds`` (a unit is a request, or a bulk
line): written ``600/min``, ``20/s``, ``5000/h`` or ``100000/day`` in settings, on the command
line (``cms-pricing keys create --quota read=600/min``) and in stored quotas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNITS = {"s": 1, "min": 60, "h": 3600, "day": 86400}
_RATE = re.compile(r"^([1-9][0-9]{0,9})/(s|min|h|day)$")


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"600/min"`` -> ``Rate(600, 60)``; ``ValueError`` naming the accepted forms."""
        match = _RATE.match(text.strip())
        if match is None:
            raise ValueError(
                f"{text!r} is not a rate: write COUNT/UNIT with UNIT one of s, min, h, day "
                "(e.g. 600/min)"
            )
        return cls(int(match[1]), UNITS[match[2]])

    def __str__(self) -> str:
        unit = next(name for name, seconds in UNITS.items() if seconds == self.seconds)
        return f"{self.count}/{unit}"
