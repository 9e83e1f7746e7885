"""One progress display per report run: a bar on a terminal, plain lines in a log.

The total number of steps is fixed when the display is made (it never grows), no time estimate
is shown (steps differ too much in cost for one to mean anything), and when the stream is not a
terminal every step is one plain line with no escape codes or carriage returns.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

_BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}]{postfix}"


def duration(seconds: float) -> str:
    """A duration for people: ``"4.2 s"``, ``"3 min 20 s"``, ``"1 h 05 min"``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def size(n_bytes: int) -> str:
    """A file size for people: ``"820 kB"``, ``"4.1 MB"``, ``"49 MB"`` (powers of 1000)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            value = n_bytes / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{n_bytes} B"


def folder_size(folder: Path) -> int:
    """Bytes of all files under ``folder``."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


class Progress:
    """Steps of a run with a total known from the start, and the seconds each kind took.

    Args:
        total: the number of steps the run will take.
        enabled: show anything at all.
        desc: the name shown before the bar or on every line.
        stream: where to write (default: standard error).
    """

    def __init__(
        self,
        total: int,
        *,
        enabled: bool = True,
        desc: str = "report",
        stream: IO[str] | None = None,
    ):
        self.total = total
        self.done = 0
        self.enabled = enabled
        self.desc = desc
        self.stream = stream if stream is not None else sys.stderr
        self.timings: dict[str, float] = {}
        self.started = time.perf_counter()
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self.bar: Any = None
        if enabled and self.tty:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="step", file=self.stream,
                            bar_format=_BAR_FORMAT, dynamic_ncols=True)  # fmt: skip
        self._units = 0  # units of the current step
        self._open = 0  # of which not yet counted

    def _line(self, text: str) -> None:
        if self.enabled:
            self.stream.write(text + "\n")
            self.stream.flush()

    def elapsed(self) -> float:
        """Seconds since the display was made."""
        return time.perf_counter() - self.started

    def advance(self, count: int = 1) -> None:
        """Count ``count`` more steps done (never past the total)."""
        count = max(0, min(count, self.total - self.done))
        self.done += count
        if self.bar is not None and count:
            self.bar.update(count)

    @contextmanager
    def step(self, name: str, group: str | None = None, count: int = 1) -> Iterator[Progress]:
        """A step of ``count`` units named ``name``; its time adds to ``timings[group or name]``.

        Inside, :meth:`part` may count some of the units early; the rest are counted at the end.
        """
        if self.bar is not None:
            self.bar.set_postfix_str(name, refresh=True)
        else:
            width = len(str(self.total))
            clock = time.strftime("%M:%S", time.gmtime(self.elapsed()))
            self._line(f"{self.desc} [{self.done + 1:>{width}}/{self.total} {clock}] {name}")
        start = time.perf_counter()
        self._units = self._open = count
        try:
            yield self
        finally:
            key = group or name
            self.timings[key] = self.timings.get(key, 0.0) + time.perf_counter() - start
            self.advance(self._open)
            self._units = self._open = 0

    def part(self, done: int, total: int) -> None:
        """Within a step, ``done`` of ``total`` pieces are finished: count that share of it."""
        if total <= 0:
            return
        due = self._units * min(done, total) // total - (self._units - self._open)
        if due > 0:
            self.advance(due)
            self._open -= due

    def finish(self, message: str | None = None) -> None:
        """Close the bar and write ``message`` (if any) as a last plain line."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if message:
            self._line(message)
