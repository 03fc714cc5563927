"""`torch.profiler`: time ndgrad's ops, backward nodes and your own `record_function` ranges.

While a profiler is recording, the op classes' `__call__` and the nodes' `apply_grads` are swapped for timing
wrappers (and put back afterwards), so profiling costs nothing when unused. Each event has a name
(`ndgrad::mm`, `autograd::engine::evaluate_function: MmBackward0`, or your range's), start and end times,
the shapes of its tensor inputs and its parent; `key_averages()` groups them as torch does and `table()`
prints torch's table (self and total CPU time, calls, optionally input shapes); `export_chrome_trace`
writes the Chrome trace-event JSON that Perfetto and chrome://tracing open.
"""
from __future__ import annotations

import enum
import json
import os
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Iterable

__all__ = ["profile", "record_function", "ProfilerActivity", "ProfilerAction", "schedule",
           "tensorboard_trace_handler", "supported_activities", "EventList", "FunctionEventAvg"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    CUDA = 1
    XPU = 2
    MTIA = 3
    PrivateUse1 = 4


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities() -> set:
    return {ProfilerActivity.CPU}


# -- recording -------------------------------------------------------------------------------------------------
class _Event:
    __slots__ = ("name", "start", "end", "shapes", "children", "parent", "tid")

    def __init__(self, name: str, start: int, shapes: list, parent: Any) -> None:
        self.name, self.start, self.end, self.shapes, self.parent = name, start, start, shapes, parent
        self.children: list = []
        self.tid = threading.get_ident()


class _Recorder:
    def __init__(self, record_shapes: bool) -> None:
        self.record_shapes = record_shapes
        self.events: list = []
        self.stack: list = []

    def push(self, name: str, args: tuple = ()) -> _Event:
        shapes = _shapes(args) if self.record_shapes else []
        ev = _Event(name, time.perf_counter_ns(), shapes, self.stack[-1] if self.stack else None)
        if ev.parent is not None:
            ev.parent.children.append(ev)
        self.stack.append(ev)
        self.events.append(ev)
        return ev

    def pop(self, ev: _Event) -> None:
        ev.end = time.perf_counter_ns()
        if self.stack and self.stack[-1] is ev:
            self.stack.pop()


def _shapes(args: Iterable) -> list:
    out = []
    for a in args:
        shape = getattr(a, "shape", None)
        out.append(list(shape) if shape is not None and not isinstance(a, (int, float)) else [])
    return out


_ACTIVE: list = []  # the recorders of running profilers (innermost last)
_saved: dict = {}


def _timed_call(orig: Callable) -> Callable:
    def __call__(self: Any, *args: Any) -> Any:
        if not _ACTIVE:
            return orig(self, *args)
        rec = _ACTIVE[-1]
        ev = rec.push("ndgrad::" + self.name, args)
        try:
            return orig(self, *args)
        finally:
            rec.pop(ev)
    __call__._ndgrad_orig = orig  # type: ignore[attr-defined]
    return __call__


def _timed_apply(orig: Callable) -> Callable:
    def apply_grads(self: Any, grads: list, graph: bool) -> list:
        if not _ACTIVE:
            return orig(self, grads, graph)
        rec = _ACTIVE[-1]
        name = type(self).__name__
        if rec.stack and rec.stack[-1].name == name:  # a subclass calling its base's apply_grads
            return orig(self, grads, graph)
        outer = rec.push("autograd::engine::evaluate_function: " + name, tuple(grads))
        inner = rec.push(name, tuple(grads))
        try:
            return orig(self, grads, graph)
        finally:
            rec.pop(inner)
            rec.pop(outer)
    apply_grads._ndgrad_orig = orig  # type: ignore[attr-defined]
    return apply_grads


def _install() -> None:
    from .._ops._registry import Op
    from ..autograd.forward_ad import _subclasses
    from ..autograd.graph import Node
    for cls in _subclasses(Op):
        if "__call__" in cls.__dict__ and not hasattr(cls.__dict__["__call__"], "_ndgrad_orig"):
            _saved[(cls, "__call__")] = cls.__dict__["__call__"]
            setattr(cls, "__call__", _timed_call(cls.__dict__["__call__"]))
    for cls in _subclasses(Node):
        if "apply_grads" in cls.__dict__ and not hasattr(cls.__dict__["apply_grads"], "_ndgrad_orig"):
            _saved[(cls, "apply_grads")] = cls.__dict__["apply_grads"]
            setattr(cls, "apply_grads", _timed_apply(cls.__dict__["apply_grads"]))


def _uninstall() -> None:
    for (cls, name), orig in _saved.items():
        setattr(cls, name, orig)
    _saved.clear()


class record_function:
    """Mirrors `torch.profiler.record_function`: a named range (context manager or decorator)."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name
        self._ev: Any = None
        self._rec: Any = None

    def __enter__(self) -> "record_function":
        if _ACTIVE:
            self._rec = _ACTIVE[-1]
            self._ev = self._rec.push(self.name)
        return self

    def __exit__(self, *exc: Any) -> bool:
        if self._ev is not None:
            self._rec.pop(self._ev)
            self._ev = None
        return False

    def __call__(self, fn: Callable) -> Callable:
        import functools

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with record_function(self.name):
                return fn(*args, **kwargs)
        return wrapper


# -- results -------------------------------------------------------------------------------------------------------
def _fmt_time(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


class FunctionEventAvg:
    """One row of `key_averages()`: events of the same name (and input shapes, when grouped so)."""

    def __init__(self, key: str, input_shapes: list) -> None:
        self.key = key
        self.input_shapes = input_shapes
        self.count = 0
        self.cpu_time_total = 0.0       # microseconds
        self.self_cpu_time_total = 0.0
        self.device_time_total = self.self_device_time_total = 0.0
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0
        self.is_user_annotation = False
        self.device_type = "CPU"

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count if self.count else 0.0

    cuda_time = property(lambda self: 0.0)
    cpu_time_str = property(lambda self: _fmt_time(self.cpu_time))
    cpu_time_total_str = property(lambda self: _fmt_time(self.cpu_time_total))
    self_cpu_time_total_str = property(lambda self: _fmt_time(self.self_cpu_time_total))

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
                f"cpu_time={self.cpu_time_str} input_shapes={self.input_shapes}>")


class EventList(list):
    """The averaged events, with torch's `table()`."""

    def __init__(self, items: Iterable = (), total_self: float = 0.0, with_shapes: bool = False) -> None:
        super().__init__(items)
        self._total_self = total_self
        self._with_shapes = with_shapes

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False) -> str:
        rows = list(self)
        if sort_by is not None:
            key = sort_by.replace("cuda", "device").replace("self_cpu_time_total", "self_cpu_time_total")
            if key not in ("cpu_time_total", "self_cpu_time_total", "cpu_time", "count", "device_time_total",
                           "self_device_time_total", "cpu_memory_usage", "self_cpu_memory_usage"):
                raise AttributeError(f"'FunctionEventAvg' object has no attribute '{sort_by}'")
            rows.sort(key=lambda r: getattr(r, key), reverse=True)
        if row_limit is not None and row_limit > 0:
            rows = rows[:row_limit]
        name_w = min(max([len(r.key) for r in rows] + [4]) + 4, max_name_column_width)
        cols = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
        shape_w = 0
        if self._with_shapes:
            shape_w = min(max([len(str(r.input_shapes)) for r in rows] + [12]) + 4, max_shapes_column_width)
        widths = [name_w] + [12] * len(cols) + ([shape_w] if shape_w else [])
        sep = "".join("-" * w + "  " for w in widths)
        heads = ["Name"] + cols + (["Input Shapes"] if shape_w else [])
        lines = [sep, "".join(h.rjust(w) + "  " for h, w in zip(heads, widths)), sep]
        tot = self._total_self or 1.0
        for r in rows:
            name = r.key if len(r.key) <= name_w else r.key[: name_w - 3] + "..."
            vals = [name, f"{100 * r.self_cpu_time_total / tot:.2f}%", _fmt_time(r.self_cpu_time_total),
                    f"{100 * r.cpu_time_total / tot:.2f}%", _fmt_time(r.cpu_time_total), _fmt_time(r.cpu_time),
                    str(r.count)]
            if shape_w:
                s = str(r.input_shapes)
                vals.append(s if len(s) <= shape_w else s[: shape_w - 3] + "...")
            lines.append("".join(v.rjust(w) + "  " for v, w in zip(vals, widths)))
        lines.append(sep)
        lines.append(f"Self CPU time total: {_fmt_time(self._total_self)}")
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.table()


class profile:
    """Mirrors `torch.profiler.profile` (CPU activity; `schedule`, `on_trace_ready`, `step()`)."""

    def __init__(self, *, activities: Iterable | None = None, schedule: Callable | None = None,
                 on_trace_ready: Callable | None = None, record_shapes: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_flops: bool = False, with_modules: bool = False,
                 experimental_config: Any = None, execution_trace_observer: Any = None,
                 acc_events: bool = False, use_cuda: bool | None = None, custom_trace_id_callback: Any = None,
                 enabled: bool = True) -> None:
        self.activities = set(activities) if activities is not None else {ProfilerActivity.CPU}
        self.record_shapes = record_shapes
        self.schedule = schedule
        self.on_trace_ready = on_trace_ready
        self.enabled = enabled
        self.step_num = 0
        self._rec: _Recorder | None = None
        self._last: _Recorder | None = None
        self._recording = False

    # the schedule decides, per step, whether to record
    def _action(self) -> ProfilerAction:
        return ProfilerAction.RECORD if self.schedule is None else self.schedule(self.step_num)

    def _start_recording(self) -> None:
        if self._recording or not self.enabled:
            return
        self._rec = _Recorder(self.record_shapes)
        _ACTIVE.append(self._rec)
        if len(_ACTIVE) == 1:
            _install()
        self._recording = True

    def _stop_recording(self) -> None:
        if not self._recording:
            return
        if self._rec in _ACTIVE:
            _ACTIVE.remove(self._rec)
        if not _ACTIVE:
            _uninstall()
        self._last = self._rec
        self._recording = False

    def start(self) -> None:
        if self._action() in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE):
            self._start_recording()

    def stop(self) -> None:
        was = self._recording
        self._stop_recording()
        if was and self.on_trace_ready is not None and self.schedule is None:
            self.on_trace_ready(self)

    def step(self) -> None:
        before = self._action()
        self.step_num += 1
        after = self._action()
        if before == ProfilerAction.RECORD_AND_SAVE:
            self._stop_recording()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)
        if after in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE):
            self._start_recording()
        elif self._recording:
            self._stop_recording()

    def __enter__(self) -> "profile":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> bool:
        self.stop()
        return False

    def _events(self) -> list:
        rec = self._rec if self._recording else self._last
        return [] if rec is None else [e for e in rec.events if e.end >= e.start]

    def events(self) -> list:
        return self._events()

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        groups: "OrderedDict[tuple, FunctionEventAvg]" = OrderedDict()
        total_self = 0.0
        for e in self._events():
            key = (e.name, str(e.shapes)) if group_by_input_shape else (e.name,)
            g = groups.get(key)
            if g is None:
                g = groups[key] = FunctionEventAvg(e.name, e.shapes)
            dur = (e.end - e.start) / 1e3
            child = sum((c.end - c.start) for c in e.children) / 1e3
            g.count += 1
            g.cpu_time_total += dur
            g.self_cpu_time_total += max(dur - child, 0.0)
            total_self += max(dur - child, 0.0)
        return EventList(groups.values(), total_self, with_shapes=group_by_input_shape)

    def export_chrome_trace(self, path: str) -> None:
        """Write the events as Chrome trace-event JSON ("X" complete events, microseconds)."""
        evs = self._events()
        t0 = min((e.start for e in evs), default=0)
        trace = {"traceEvents": [
            {"ph": "X", "cat": "cpu_op", "name": e.name, "pid": os.getpid(), "tid": e.tid,
             "ts": (e.start - t0) / 1e3, "dur": (e.end - e.start) / 1e3,
             "args": {"Input Dims": e.shapes} if e.shapes else {}} for e in evs],
            "displayTimeUnit": "ms", "deviceProperties": []}
        with open(path, "w") as f:
            json.dump(trace, f)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        with open(path, "w") as f:
            for e in self._events():
                chain, p = [e.name], e.parent
                while p is not None:
                    chain.append(p.name)
                    p = p.parent
                f.write(";".join(reversed(chain)) + f" {int((e.end - e.start) / 1e3)}\n")


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """Mirrors `torch.profiler.schedule`."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError("Invalid profiler schedule arguments")
    cycle = wait + warmup + active

    def fn(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        mod = step % cycle
        if mod < wait:
            return ProfilerAction.NONE
        if mod < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if mod < cycle - 1 else ProfilerAction.RECORD_AND_SAVE
    return fn


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None, use_gzip: bool = False) -> Callable:
    """Mirrors `torch.profiler.tensorboard_trace_handler`: each trace is written as Chrome JSON in dir_name."""
    import socket

    def handler(prof: profile) -> None:
        os.makedirs(dir_name, exist_ok=True)
        name = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        path = os.path.join(dir_name, f"{name}.{time.time_ns() // 1000000}.pt.trace.json")
        prof.export_chrome_trace(path)
        if use_gzip:
            import gzip
            with open(path, "rb") as f, gzip.open(path + ".gz", "wb") as g:
                g.write(f.read())
            os.remove(path)
    return handler
