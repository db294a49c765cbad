"""Load profiles as plain data: stages of users over time, read by the Locust shape.

A profile is a list of stages; stage ``i`` holds ``users`` users (reached at
``spawn_rate`` per second) until ``until`` seconds after the start, and the run stops after
the last stage. ``stop_on_breach`` makes the shape end the run a few seconds after an SLA
budget is first broken (the stress profile's "ramp until it breaks"). Figures are for one
instance on this 2-core machine with Locust on the same cores; every profile is bounded.
No Locust import here, so tests and the report read the profiles without gevent.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    until: float
    users: int
    spawn_rate: float


@dataclass(frozen=True)
class Profile:
    """A named load shape and the user classes it runs."""

    name: str
    about: str
    stages: tuple[Stage, ...]
    users: tuple[str, ...] = ("StandardUser", "MixUser")
    stop_on_breach: bool = False

    @property
    def duration(self) -> float:
        return self.stages[-1].until


def steady(name: str, about: str, users: int, seconds: float, ramp: float) -> Profile:
    return Profile(name, about, (Stage(seconds, users, ramp),))


def stress(step: int = 100, every: float = 10, top: int = 3000) -> Profile:
    """+``step`` users every ``every`` s up to ``top``; stops soon after the SLA breaks."""
    stages = tuple(Stage(every * (i + 1), step * (i + 1), step / 2) for i in range(top // step))
    about = f"+{step} users every {every:g} s up to {top}, until an SLA budget breaks"
    return Profile("stress", about, stages, ("StandardUser",), stop_on_breach=True)


def spike(base: int = 30, factor: int = 10, phase: float = 30) -> Profile:
    stages = (
        Stage(phase, base, base),
        Stage(2 * phase, base * factor, base * factor),
        Stage(3 * phase, base, base * factor),
    )
    about = f"{base} users, then {base * factor} at once (x{factor}), then {base} again"
    return Profile("spike", about, stages)


def soak(seconds: float) -> Profile:
    return steady("soak", f"200 users steady for {seconds:g} s", 200, seconds, 20)


def volume() -> Profile:
    about = "8 users sending 1,000-line bulk requests and 200-line plans"
    return Profile("volume", about, (Stage(60, 8, 8),), ("VolumeUser",))


def profile(name: str, duration: float | None = None) -> Profile:
    """The named profile; ``duration`` (seconds) sets soak's length and caps steady ones."""
    fixed = {
        "smoke": steady("smoke", "5 users for 20 s", 5, duration or 20, 5),
        "load": steady(
            "load", "100 users (the first growth stage) for 120 s", 100, duration or 120, 10
        ),
        "stress": stress(),
        "spike": spike(),
        "soak": soak(duration or 600),
        "volume": volume(),
    }
    if name not in fixed:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(fixed)}")
    return fixed[name]


NAMES = ("smoke", "load", "stress", "spike", "soak", "volume")
