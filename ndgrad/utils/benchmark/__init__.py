"""`torch.utils.benchmark`: `Timer` (timeit, blocked_autorange, adaptive_autorange), `Measurement` printed as
torch prints it, and `Compare` tables."""
from __future__ import annotations

import statistics
import timeit as _timeit
from collections import defaultdict
from typing import Any, Callable, Iterable

__all__ = ["Timer", "Measurement", "Compare", "TaskSpec", "select_unit", "trim_sigfig"]


def select_unit(t: float) -> tuple:
    """(unit, scale) so that t / scale is between 1 and 1000 (t in seconds)."""
    for unit, scale in (("ns", 1e-9), ("us", 1e-6), ("ms", 1e-3)):
        if t < scale * 1000:
            return unit, scale
    return "s", 1.0


def trim_sigfig(x: float, n: int) -> float:
    """x rounded to n significant figures."""
    if x == 0:
        return 0.0
    import math
    return round(x, n - 1 - int(math.floor(math.log10(abs(x)))))


def _num(v: float) -> str:
    return f"{v:.2f}"  # (torch prints a measurement's times with two decimals in their unit: "583.32 us")


class TaskSpec:
    def __init__(self, stmt: str, setup: str, global_setup: str = "", label: str | None = None,
                 sub_label: str | None = None, description: str | None = None, env: str | None = None,
                 num_threads: int = 1) -> None:
        self.stmt, self.setup, self.global_setup = stmt, setup, global_setup
        self.label, self.sub_label, self.description = label, sub_label, description
        self.env, self.num_threads = env, num_threads

    @property
    def title(self) -> str:
        if self.label is not None:
            return self.label + (f": {self.sub_label}" if self.sub_label else "")
        if "\n" not in self.stmt:
            return self.stmt + (f": {self.sub_label}" if self.sub_label else "")
        return "stmt:" + (f" ({self.sub_label})" if self.sub_label else "") + "\n" + \
            "\n".join("  " + line for line in self.stmt.splitlines())


class Measurement:
    """Mirrors `torch.utils.benchmark.Measurement`: per-run times of repeated blocks, their median and IQR."""

    def __init__(self, number_per_run: int, raw_times: list, task_spec: TaskSpec, metadata: dict | None = None) -> None:
        self.number_per_run = number_per_run
        self.raw_times = list(raw_times)
        self.task_spec = task_spec
        self.metadata = metadata

    def __getattr__(self, name: str) -> Any:
        if name in ("stmt", "setup", "label", "sub_label", "description", "env", "num_threads", "title"):
            return getattr(self.__dict__["task_spec"], name)
        raise AttributeError(name)

    @property
    def times(self) -> list:
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.times)

    def _quantiles(self) -> tuple:
        ts = sorted(self.times)
        if len(ts) < 2:
            return ts[0], ts[0]
        q = statistics.quantiles(ts, n=4, method="inclusive")
        return q[0], q[2]

    @property
    def iqr(self) -> float:
        lo, hi = self._quantiles()
        return hi - lo

    @property
    def significant_figures(self) -> int:
        return 3

    @property
    def has_warnings(self) -> bool:
        return self.median > 0 and self.iqr / self.median > 0.1

    def __repr__(self) -> str:
        unit, scale = select_unit(self.median)
        lines = [f"<{type(self).__module__}.Measurement object at {hex(id(self))}>", self.task_spec.title]
        if self.task_spec.description:
            lines.append(self.task_spec.description)
        n = len(self.times)
        if n > 1:
            lo, hi = self._quantiles()
            lines.append(f"  Median: {_num(self.median / scale)} {unit}")
            if n >= 4:  # (torch prints the IQR of four measurements or more)
                lines.append(f"  IQR:    {_num((hi - lo) / scale)} {unit} ({_num(lo / scale)} to {_num(hi / scale)})")
            lines.append(f"  {n} measurements, {self.number_per_run} runs per measurement, "
                         f"{self.task_spec.num_threads} thread{'s' if self.task_spec.num_threads > 1 else ''}")
        else:
            lines.append(f"  {_num(self.median / scale)} {unit}")
            lines.append(f"  1 measurement, {self.number_per_run} runs , {self.task_spec.num_threads} "
                         f"thread{'s' if self.task_spec.num_threads > 1 else ''}")
        if self.has_warnings:
            r = self.iqr / self.median
            lines.append(f"  WARNING: Interquartile range is {100 * r:.1f}% of the median measurement.\n           " +
                         ("This suggests significant environmental influence." if r > 0.25 else
                          "This could indicate system fluctuation."))
        return "\n".join(lines)

    __str__ = __repr__


class Timer:
    """Mirrors `torch.utils.benchmark.Timer` (statement strings or a callable)."""

    def __init__(self, stmt: str | Callable = "pass", setup: str = "pass", global_setup: str = "",
                 timer: Callable = _timeit.default_timer, globals: dict | None = None, label: str | None = None,
                 sub_label: str | None = None, description: str | None = None, env: str | None = None,
                 num_threads: int = 1, language: str = "python") -> None:
        if language not in ("python", "py"):
            raise NotImplementedError("torch.utils.benchmark.Timer(language='c++') is not available in ndgrad "
                                      "(C++ timing needs a compiler)")
        self._stmt_src = stmt if isinstance(stmt, str) else getattr(stmt, "__name__", "stmt")
        self._task_spec = TaskSpec(self._stmt_src, setup, global_setup, label, sub_label, description, env,
                                   num_threads)
        g = dict(globals or {})
        self._timer = _timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=g)
        self._num_threads = num_threads

    def _run(self, number: int) -> float:
        from ... import _env
        prev = _env.get_num_threads()
        _env.set_num_threads(self._num_threads)
        try:
            return self._timer.timeit(number)
        finally:
            _env.set_num_threads(prev)

    def timeit(self, number: int = 1000000) -> Measurement:
        self._run(max(number // 100, 2))  # warm up
        return Measurement(number, [self._run(number)], self._task_spec)

    def repeat(self, repeat: int = -1, number: int = -1) -> None:
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback: Callable | None = None) -> None:
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _estimate_block_size(self, min_run_time: float) -> int:
        number = 1
        while True:
            t = self._run(number)
            if t >= min_run_time / 1000 or number >= 1e8:
                break
            number *= 10
        return number

    def blocked_autorange(self, callback: Callable | None = None, min_run_time: float = 0.2) -> Measurement:
        number = self._estimate_block_size(min_run_time)
        times, total = [], 0.0
        while total < min_run_time or len(times) < 1:
            t = self._run(number)
            if callback is not None:
                callback(number, t)
            times.append(t)
            total += t
        return Measurement(number, times, self._task_spec)

    def adaptive_autorange(self, threshold: float = 0.1, *, min_run_time: float = 0.01, max_run_time: float = 10.0,
                           callback: Callable | None = None) -> Measurement:
        number = self._estimate_block_size(min_run_time=0.05)
        times, total = [], 0.0
        while total < max_run_time:
            t = self._run(number)
            if callback is not None:
                callback(number, t)
            times.append(t)
            total += t
            if total >= min_run_time and len(times) > 3:
                m = Measurement(number, times, self._task_spec)
                if m.iqr / m.median < threshold:
                    break
        return Measurement(number, times, self._task_spec)


class Compare:
    """Mirrors `torch.utils.benchmark.Compare`: measurements as tables, one per label, rows by sub_label,
    columns by description, grouped by thread count."""

    def __init__(self, results: Iterable[Measurement]) -> None:
        self._results = list(results)
        self._trim = False
        self._colorize = False

    def trim_significant_figures(self) -> None:
        self._trim = True

    def colorize(self, rowwise: bool = False) -> None:
        self._colorize = True

    def extend_results(self, results: Iterable[Measurement]) -> None:
        self._results.extend(results)

    def __str__(self) -> str:
        by_label: dict = defaultdict(list)
        for r in self._results:
            by_label[r.task_spec.label].append(r)
        out = []
        for label, rs in by_label.items():
            cols = list(dict.fromkeys(r.task_spec.description or "" for r in rs))
            threads = sorted({r.task_spec.num_threads for r in rs})
            unit, scale = select_unit(min(r.median for r in rs))
            cells = {(r.task_spec.num_threads, r.task_spec.sub_label or r.task_spec.stmt,
                      r.task_spec.description or ""): r.median / scale for r in rs}
            rows = list(dict.fromkeys(r.task_spec.sub_label or r.task_spec.stmt for r in rs))
            row_w = max(len(x) for x in rows) + 6
            fmt = lambda v: f"{trim_sigfig(v, 2):g}" if v < 100 else f"{v:.0f}"  # noqa: E731
            col_w = [max(len(c), *(len(fmt(v)) for k, v in cells.items() if k[2] == c)) + 2 for c in cols]
            header = " " * row_w + "  |" + "|".join(c.center(w + 2) for c, w in zip(cols, col_w))
            width = len(header)
            title = f" {label} " if label else ""
            out.append(("[" + title.center(width - 2, "-") + "]"))
            out.append(header)
            for th in threads:
                out.append(f"{th} threads: ".ljust(width, "-") if True else "")
                for row in rows:
                    vals = [fmt(cells[(th, row, c)]) if (th, row, c) in cells else "" for c in cols]
                    out.append(row.rjust(row_w) + "  |" + "|".join(v.center(w + 2) for v, w in zip(vals, col_w)))
                out.append("")
            out.append(f"Times are in {dict(ns='nanoseconds', us='microseconds', ms='milliseconds', s='seconds')[unit]} ({unit}).")
            out.append("")
        return "\n".join(out)

    def print(self) -> None:
        print(str(self))
