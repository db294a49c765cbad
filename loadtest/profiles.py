"""Load profiles as plain data: stages of users over time, read by the Locust shape.

A profile is a list of stages; stage ``i`` holds ``users`` users (reached at
``spawn_rate`` per second) until ``until`` seconds after the start, and the run stops after
the last stage. ``stop_on_breach`` makes the shape end the run a few seconds after an SLA
budget is first broken (the stress profile's "ramp until it breaks"). ``think_s`` is each
user's pause between tasks: the standard's 1-3 s for the profiles that model its users,
0-0.2 s for stress and spike, whose job is to push the service past its capacity with few
enough users (connections) that the generator stays cheap. ``processes`` > 0 runs Locust as
a master and that many worker processes (stress, spike: one process of Locust tops out near
500 requests/s on this machine, the service does far more); 0 runs one process. Figures are
for one instance on this 2-core machine with Locust on the same cores; every profile is
bounded. No Locust import here, so tests and the report read the profiles without gevent.
"""

from __future__ import annotations

from dataclasses import dataclass

STANDARD_THINK_S = (1.0, 3.0)
BUSY_THINK_S = (0.0, 0.2)
GENERATOR_PROCESSES = 3


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
    think_s: tuple[float, float] = STANDARD_THINK_S
    processes: int = 0

    @property
    def duration(self) -> float:
        return self.stages[-1].until


def steady(name: str, about: str, users: int, seconds: float, ramp: float) -> Profile:
    return Profile(name, about, (Stage(seconds, users, ramp),))


def stress(step: int = 20, every: float = 10, top: int = 600) -> Profile:
    """+``step`` busy users every ``every`` s up to ``top``; stops soon after the SLA breaks."""
    stages = tuple(Stage(every * (i + 1), step * (i + 1), step) for i in range(top // step))
    about = (
        f"+{step} users (think {BUSY_THINK_S[0]:g}-{BUSY_THINK_S[1]:g} s) every {every:g} s"
        f" up to {top}, until an SLA budget breaks"
    )
    return Profile(
        "stress",
        about,
        stages,
        stop_on_breach=True,
        think_s=BUSY_THINK_S,
        processes=GENERATOR_PROCESSES,
    )


def spike(base: int = 30, factor: int = 10, phase: float = 30) -> Profile:
    stages = (
        Stage(phase, base, base),
        Stage(2 * phase, base * factor, base * factor),
        Stage(3 * phase, base, base * factor),
    )
    about = (
        f"{base} users, then {base * factor} at once (x{factor}), then {base} again"
        f" (think {BUSY_THINK_S[0]:g}-{BUSY_THINK_S[1]:g} s)"
    )
    return Profile("spike", about, stages, think_s=BUSY_THINK_S, processes=GENERATOR_PROCESSES)


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
