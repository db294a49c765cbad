"""CPU of the load test's own processes and of the machine, sampled from ``/proc``.

Contract: while ``sampling(path, roots, epoch)`` is open, a thread writes ``cpu.csv`` once
a second: for each role (``service``, ``generator``) one row per live process in the tree
under that role's root pid, and one ``machine`` row; columns ``t`` (seconds since
``epoch``), ``role``, ``process`` (``main`` for the root, ``worker <pid>`` for the others),
``cpu_pct``: percent of one core over the last interval (so a single-threaded process tops
out at 100 and the machine at ``cpus x 100``). Linux only; a process that exits between two
samples is simply absent from the later rows.
"""

from __future__ import annotations

import csv
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def stat(pid: int) -> tuple[int, int] | None:
    """``(ppid, user + system ticks)`` of ``pid``, or None when it has gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def processes() -> dict[int, tuple[int, int]]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (got := stat(int(entry))) is not None:
            found[int(entry)] = got
    return found


def tree(root: int, table: dict[int, tuple[int, int]]) -> list[int]:
    """``root`` and its descendants present in ``table``."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _ticks) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: list[int] = []
    queue = [root] if root in table else []
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue += children.get(pid, [])
    return found


def machine_ticks() -> tuple[int, int]:
    """``(busy, total)`` jiffies over all cores since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values[:8]) - idle, sum(values[:8])


class Sampler:
    def __init__(self, path: Path, roots: dict[str, int], epoch: float) -> None:
        self.roots, self.epoch = roots, epoch
        self.out = path.open("w", newline="")
        self.rows = csv.writer(self.out)
        self.rows.writerow(["t", "role", "process", "cpu_pct"])
        self.stop = threading.Event()
        self.last: dict[int, int] = {}
        self.last_machine = machine_ticks()
        self.last_time = time.monotonic()

    def sample(self) -> None:
        table, now = processes(), time.monotonic()
        seconds, t = now - self.last_time, f"{time.time() - self.epoch:.1f}"
        for role, root in self.roots.items():
            for pid in tree(root, table):
                ticks = table[pid][1]
                if pid in self.last:
                    pct = 100 * (ticks - self.last[pid]) / TICKS / seconds
                    name = "main" if pid == root else f"worker {pid}"
                    self.rows.writerow([t, role, name, f"{pct:.1f}"])
                self.last[pid] = ticks
        busy, total = machine_ticks()
        share = (busy - self.last_machine[0]) / max(1, total - self.last_machine[1])
        self.rows.writerow(
            [t, "machine", "all cores", f"{100 * share * (os.cpu_count() or 1):.1f}"]
        )
        self.last_machine, self.last_time = (busy, total), now
        self.out.flush()

    def run(self, interval: float) -> None:
        while not self.stop.wait(interval):
            self.sample()
        self.out.close()


@contextmanager
def sampling(
    path: Path, roots: dict[str, int], epoch: float, interval: float = 1.0
) -> Iterator[None]:
    sampler = Sampler(path, roots, epoch)
    thread = threading.Thread(target=sampler.run, args=(interval,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        sampler.stop.set()
        thread.join(timeout=5)
