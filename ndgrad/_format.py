"""Mirrors torch's tensor printing: `repr(tensor)` / `str(tensor)` text and `torch.set_printoptions`.

Everything works on plain NumPy arrays; the caller supplies the dtype name, whether torch would show
it, and trailing items such as ``requires_grad=True`` or ``grad_fn=<AddBackward0>``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["format_tensor", "set_printoptions", "get_printoptions"]

_PROFILES: dict[str, dict[str, Any]] = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}

_OPTS: dict[str, Any] = dict(_PROFILES["default"], sci_mode=None)


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set printing options. Mirrors `torch.set_printoptions`.

    A profile ('default', 'short', 'full') is applied first and explicit arguments override it.
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"Unknown profile {profile!r}; expected one of {sorted(_PROFILES)}")
        _OPTS.update(_PROFILES[profile])
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            _OPTS[key] = value
    # torch assigns sci_mode unconditionally, so any call without it goes back to automatic.
    _OPTS["sci_mode"] = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Current options: precision, threshold, edgeitems, linewidth, sci_mode."""
    return dict(_OPTS)


class _Formatter:
    """Chooses one number style and one column width for every element of a (summarised) tensor."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind in "fV"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        precision = _OPTS["precision"]
        flat = values.reshape(-1)

        if not self.floating:
            if flat.size:
                if flat.dtype == np.bool_:
                    self.width = 5 if not flat.all() else 4
                else:
                    self.width = max(len(str(flat.min().item())), len(str(flat.max().item())), 1)
        else:
            # torch picks style and width from nonzero finite values only; nan/inf/0 just get padded.
            vals = flat.astype(np.float64)[np.isfinite(flat) & (flat != 0)]
            if vals.size:
                absv = np.abs(vals)
                lo, hi = float(absv.min()), float(absv.max())
                self.int_mode = bool(np.all(vals == np.ceil(vals)))
                wide_range = hi / lo > 1000.0 or hi > 1.0e8
                self.sci_mode = wide_range if self.int_mode else (wide_range or lo < 1.0e-4)
                if _OPTS["sci_mode"] is not None:
                    # The override decides the style before widths are measured; with no nonzero
                    # finite value there is nothing to restyle and torch ignores it.
                    self.sci_mode = _OPTS["sci_mode"]
                if self.sci_mode:
                    spec, extra = f".{precision}e", 0
                elif self.int_mode:
                    spec, extra = ".0f", 1  # room for the trailing "." that marks a float
                else:
                    spec, extra = f".{precision}f", 0
                # Rounded text length grows monotonically with |x| on each side of zero, so the
                # extremes of each sign are the only candidates for the widest string.
                cands = []
                for part in (vals[vals > 0], vals[vals < 0]):
                    if part.size:
                        cands += [part.min(), part.max()]
                self.width = max(len(format(float(c), spec)) + extra for c in cands)

    def format(self, value: Any) -> str:
        if self.floating:
            precision = _OPTS["precision"]
            value = float(value)
            if self.sci_mode:
                text = f"{value:{self.width}.{precision}e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if math.isfinite(value):
                    text += "."
            else:
                text = f"{value:.{precision}f}"
        else:
            text = str(value)
        return text.rjust(self.width)


def _format_value(value: Any, real_fmt: _Formatter, imag_fmt: _Formatter | None) -> str:
    if imag_fmt is None:
        return real_fmt.format(value)
    value = complex(value)
    real = real_fmt.format(value.real)
    imag = (imag_fmt.format(value.imag) + "j").lstrip()
    # A sign already present (including "-0." and "-nan") replaces the explicit "+".
    return real + imag if imag[0] in "+-" else real + "+" + imag


def _summarized(arr: np.ndarray, edge: int) -> np.ndarray:
    # Only the elements that will be shown feed the formatter, so hidden outliers don't widen columns.
    for axis, size in enumerate(arr.shape):
        if size > 2 * edge:
            keep = np.r_[0:edge, size - edge:size]
            arr = np.take(arr, keep, axis=axis)
    return arr


def _vector(arr: np.ndarray, indent: int, summarize: bool,
            real_fmt: _Formatter, imag_fmt: _Formatter | None) -> str:
    edge, linewidth = _OPTS["edgeitems"], _OPTS["linewidth"]
    elem_len = real_fmt.width + 2  # ", " separator
    if imag_fmt is not None:
        elem_len += imag_fmt.width + 1  # the trailing "j"
    per_line = max(1, int(math.floor((linewidth - indent) / elem_len)))

    if summarize and arr.shape[0] > 2 * edge:
        items = ([_format_value(v, real_fmt, imag_fmt) for v in arr[:edge].tolist()] + [" ..."]
                 + [_format_value(v, real_fmt, imag_fmt) for v in arr[-edge:].tolist()])
    else:
        items = [_format_value(v, real_fmt, imag_fmt) for v in arr.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(arr: np.ndarray, indent: int, summarize: bool,
            real_fmt: _Formatter, imag_fmt: _Formatter | None) -> str:
    if arr.ndim == 0:
        return _format_value(arr.item(), real_fmt, imag_fmt)
    if arr.ndim == 1:
        return _vector(arr, indent, summarize, real_fmt, imag_fmt)
    edge, n = _OPTS["edgeitems"], arr.shape[0]
    if summarize and n > 2 * edge:
        rows = ([_nested(arr[i], indent + 1, summarize, real_fmt, imag_fmt) for i in range(edge)]
                + ["..."]
                + [_nested(arr[i], indent + 1, summarize, real_fmt, imag_fmt) for i in range(n - edge, n)])
    else:
        rows = [_nested(arr[i], indent + 1, summarize, real_fmt, imag_fmt) for i in range(n)]
    # Blocks of rank k are separated by k-1 newlines, giving blank lines between 2-D slices of 3-D+.
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _body(arr: np.ndarray, indent: int) -> str:
    summarize = arr.size > _OPTS["threshold"]
    edge = _OPTS["edgeitems"]
    if summarize and not edge:
        # Nothing from either end is shown; torch collapses every dimension into one ellipsis.
        return "[...]" if arr.ndim else _nested(arr, indent, False, *_formatters(arr))
    shown = _summarized(arr, edge) if summarize else arr
    return _nested(arr, indent, summarize, *_formatters(shown))


def _formatters(arr: np.ndarray) -> tuple[_Formatter, _Formatter | None]:
    if arr.dtype.kind == "c":
        # Real and imaginary parts get independent styles and widths, as in torch.
        return _Formatter(arr.real), _Formatter(arr.imag)
    return _Formatter(arr), None


def format_tensor(
    arr: np.ndarray,
    *,
    dtype_name: str,
    show_dtype: bool,
    extras: Sequence[str] = (),
    prefix: str = "tensor(",
) -> str:
    """Render `arr` exactly like torch's `repr(tensor)`.

    `show_dtype` is the caller's decision for non-empty tensors (torch hides the default float dtype,
    its complex counterpart, int64 and bool). Empty tensors follow torch's stricter rule: only the
    default float dtype is hidden, which is the case exactly when a float dtype arrives with
    `show_dtype=False`. `extras` are appended verbatim after the dtype; continuation lines are
    indented by the length of the last line of `prefix`.
    """
    arr = np.asarray(arr)
    indent = len(prefix.rsplit("\n", 1)[-1])
    suffixes: list[str] = []
    if arr.size == 0:
        # Like NumPy, the shape is spelled out whenever it isn't the plain (0,).
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(arr.shape)}")
        show_dtype = show_dtype or not dtype_name.startswith("float")
        body = "[]"
    else:
        if not _OPTS["edgeitems"]:
            suffixes.append(f"size={tuple(arr.shape)}")
        body = _body(arr, indent)
    if show_dtype:
        suffixes.append(f"dtype=torch.{dtype_name}")
    suffixes.extend(extras)
    return _with_suffixes(prefix + body, suffixes, indent)


def _with_suffixes(text: str, suffixes: Sequence[str], indent: int) -> str:
    parts = [text]
    # Same arithmetic as torch (it overcounts by two), so the wrap points agree.
    last_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_len + len(suffix) + 2 > _OPTS["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            last_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)
