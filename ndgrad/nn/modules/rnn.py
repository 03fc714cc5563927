"""Mirrors `torch.nn`: RNN, LSTM, GRU and their cells, composed from ndgrad ops (padded or packed input).

Padded input runs each layer and direction as one fused scan node where that is exact (`_rnn_fused.py`)."""
from __future__ import annotations

import math
from typing import Any

from ... import _ops as O
from ..._creation import empty, zeros
from ..._tensor import Tensor
from .. import functional as F
from ..parameter import Parameter
from .linear import _uniform_
from ._rnn_fused import can_fuse, fused_scan
from .module import Module
from ..._warn import warn as _warn

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
USE_FUSED = True  # padded input: each layer and direction as one fused scan where exact (_rnn_fused.can_fuse)


# -- one time step of each cell; `xw` is the input projection x W_ihᵀ + b_ih, computed for all steps at once --
def _rnn_step(xw: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, act: Any) -> Tensor:
    return act(xw + F.linear(h, w_hh, b_hh))


def _lstm_step(xw: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor | None,
               w_hr: Tensor | None) -> tuple:
    gates = xw + F.linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, -1)  # torch's gate order
    c = O.sigmoid(f) * c + O.sigmoid(i) * O.tanh(g)
    h = O.sigmoid(o) * O.tanh(c)
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return h, c


def _gru_step(xw: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    gh = F.linear(h, w_hh, b_hh)
    xr, xz, xn = xw.chunk(3, -1)  # torch's gate order r, z, n
    hr, hz, hn = gh.chunk(3, -1)
    r = O.sigmoid(xr + hr)
    z = O.sigmoid(xz + hz)
    n = O.tanh(xn + r * hn)
    return (1 - z) * n + z * h


def _reset_uniform(module: Module) -> None:
    """Every parameter U(-1/√hidden_size, 1/√hidden_size), torch's init of recurrent layers and cells."""
    stdv = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0.0
    for w in module.parameters():
        _uniform_(w, stdv)


def _check_hx_dims(hx: Any, lstm: bool, ndim: int) -> tuple:
    """The states of `hx` ((h, c) for LSTM), each required to have `ndim` dims as torch's message says."""
    hs = hx if lstm else (hx,)
    if any(h.ndim != ndim for h in hs):
        kind = "batched 3-D" if ndim == 3 else "unbatched 2-D"
        if lstm:
            dims = ", ".join(f"{h.ndim}-D" for h in hs)
            raise RuntimeError(f"For {kind} input, hx and cx should also be {ndim}-D but got ({dims}) tensors")
        raise RuntimeError(f"For {kind} input, hx should also be {ndim}-D but got {hs[0].ndim}-D tensor")
    return hs


class RNNBase(Module):
    """Mirrors `torch.nn.RNNBase`: parameters named weight_ih_l{k}[_reverse] etc., init U(±1/√hidden)."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if dropout > 0 and num_layers == 1:
            _warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                  f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                  UserWarning, stacklevel=2)  # (torch's: the subclass's super().__init__ line, so shown once)
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                sfx = "_reverse" if direction == 1 else ""
                params = [(f"weight_ih_l{layer}{sfx}", (gate_size, layer_input)),
                          (f"weight_hh_l{layer}{sfx}", (gate_size, real_hidden))]
                if bias:
                    params += [(f"bias_ih_l{layer}{sfx}", (gate_size,)), (f"bias_hh_l{layer}{sfx}", (gate_size,))]
                if proj_size > 0:
                    params.append((f"weight_hr_l{layer}{sfx}", (proj_size, hidden_size)))
                for name, shape in params:
                    setattr(self, name, Parameter(empty(shape, dtype=dtype)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter U(-1/√hidden_size, 1/√hidden_size), as torch."""
        _reset_uniform(self)

    def flatten_parameters(self) -> None:
        """No-op (torch compacts cuDNN weights here)."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n) for n in self._flat_weights_names]

    def __getstate__(self) -> dict:
        """The pickled state also carries torch's `_all_weights` (the weights' names per layer and direction) and
        `_flat_weights`, which torch's `__setstate__` reads: torch can then load a whole model holding this layer.
        (Here `_flat_weights` is a property, so the copy in a loaded instance's __dict__ is never read.)"""
        state = dict(self.__dict__)
        n = len(self._flat_weights_names) // (self.num_layers * (2 if self.bidirectional else 1))
        names = self._flat_weights_names
        state["_all_weights"] = [names[i:i + n] for i in range(0, len(names), n)]
        state["_flat_weights"] = self._flat_weights   # (the same Parameters: pickled once)
        return state

    @property
    def all_weights(self) -> list:
        """The parameters grouped per layer and direction."""
        n = len(self._flat_weights_names) // (self.num_layers * (2 if self.bidirectional else 1))
        w = self._flat_weights
        return [w[i:i + n] for i in range(0, len(w), n)]

    def extra_repr(self) -> str:
        """Mirrors torch's repr fields."""
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -- forward ------------------------------------------------------------------------------------------------
    def _layer_params(self, layer: int, direction: int) -> tuple:
        sfx = "_reverse" if direction == 1 else ""
        g = lambda n: getattr(self, f"{n}_l{layer}{sfx}") if hasattr(self, f"{n}_l{layer}{sfx}") else None  # noqa
        return g("weight_ih"), g("weight_hh"), g("bias_ih"), g("bias_hh"), g("weight_hr")

    def _check_input(self, input: Tensor) -> bool:
        name = type(self).__name__ if self.mode not in ("RNN_TANH", "RNN_RELU") else "RNN"
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.shape[-1]}")
        return input.ndim == 3

    def _expected_hidden(self, batch: int, cell: bool = False) -> tuple:
        d = 2 if self.bidirectional else 1
        size = self.hidden_size if cell or self.proj_size == 0 else self.proj_size
        return (self.num_layers * d, batch, size)

    @staticmethod
    def _check_hidden(hx: Tensor, expected: tuple, msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(hx.shape) != expected:
            raise RuntimeError(msg.format(expected, list(hx.shape)))

    def _run(self, x: Tensor, hs: list, cs: list | None) -> tuple:
        """x: (L, N, in); hs/cs: per (layer, direction) initial states (N, H). Returns output and final states."""
        d = 2 if self.bidirectional else 1
        steps = x.shape[0]
        fused = USE_FUSED and can_fuse(x, self.proj_size, hs + (cs or []) + self._flat_weights)
        h_out, c_out = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(d):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_params(layer, direction)
                k = layer * d + direction
                h = hs[k]
                c = cs[k] if cs is not None else None
                if fused:  # the whole scan as one node (_rnn_fused.py)
                    if b_ih is not None and self.mode != "GRU":  # both biases simply add: one pass fewer
                        b_ih, b_hh = b_ih + b_hh, None
                    y, h, c = fused_scan(self.mode, direction == 1, F.linear(x, w_ih, b_ih), h, c, w_hh, b_hh)
                    outs.append(y)
                    h_out.append(h)
                    c_out.append(c)
                    continue
                xw = F.linear(x, w_ih, b_ih).unbind(0) if steps else ()  # all time steps at once
                ys: list = [None] * steps
                order = range(steps - 1, -1, -1) if direction == 1 else range(steps)
                for t in order:
                    if self.mode == "LSTM":
                        h, c = _lstm_step(xw[t], h, c, w_hh, b_hh, w_hr)
                    elif self.mode == "GRU":
                        h = _gru_step(xw[t], h, w_hh, b_hh)
                    else:
                        h = _rnn_step(xw[t], h, w_hh, b_hh, O.tanh if self.mode == "RNN_TANH" else O.relu)
                    ys[t] = h
                outs.append(O.stack(ys) if steps else zeros(0, x.shape[1], h.shape[-1], dtype=x.dtype))
                h_out.append(h)
                c_out.append(c)
            x = outs[0] if d == 1 else O.cat(outs, -1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, O.stack(h_out), (O.stack(c_out) if cs is not None else None)

    def _step(self, xw: Tensor, h: Tensor, c: Tensor | None, params: tuple) -> tuple:
        """One recurrent step of this layer's cell; returns (h', c') (c' is None except for LSTM)."""
        _, w_hh, _, b_hh, w_hr = params
        if self.mode == "LSTM":
            return _lstm_step(xw, h, c, w_hh, b_hh, w_hr)
        if self.mode == "GRU":
            return _gru_step(xw, h, w_hh, b_hh), None
        return _rnn_step(xw, h, w_hh, b_hh, O.tanh if self.mode == "RNN_TANH" else O.relu), None

    def _run_packed(self, data: Tensor, sizes: list, hs: list, cs: list | None) -> tuple:
        """data: packed (sum(sizes), in), time-major with the active sequences a prefix at each step; hs/cs: per
        (layer, direction) initial states (sizes[0], H). Returns packed output and the final states, each
        sequence's taken at its own last valid step (reverse direction: each starts at its last valid step)."""
        d = 2 if self.bidirectional else 1
        steps = len(sizes)
        offsets = [0]
        for n in sizes:
            offsets.append(offsets[-1] + n)
        h_out, c_out = [], []
        x = data
        for layer in range(self.num_layers):
            outs = []
            for direction in range(d):
                params = self._layer_params(layer, direction)
                k = layer * d + direction
                xw = F.linear(x, params[0], params[2])  # every packed step at once
                h0 = hs[k]
                c0 = cs[k] if cs is not None else None
                ys: list = [None] * steps
                if direction == 0:
                    h, c = h0, c0
                    done_h: list = []  # states of sequences that finished, latest (lowest rows) last
                    done_c: list = []
                    for t in range(steps):
                        n = sizes[t]
                        if n < h.shape[0]:
                            done_h.append(h[n:])
                            h = h[:n]
                            if c is not None:
                                done_c.append(c[n:])
                                c = c[:n]
                        h, c = self._step(xw[offsets[t]:offsets[t + 1]], h, c, params)
                        ys[t] = h
                    h = O.cat([h] + done_h[::-1], 0) if done_h else h
                    if c is not None and done_c:
                        c = O.cat([c] + done_c[::-1], 0)
                else:
                    n = sizes[-1]
                    h = h0[:n] if n < h0.shape[0] else h0
                    c = (c0[:n] if n < c0.shape[0] else c0) if c0 is not None else None
                    for t in range(steps - 1, -1, -1):
                        n, cur = sizes[t], h.shape[0]
                        if n > cur:  # sequences whose last valid step is t start their reverse pass here
                            h = O.cat([h, h0[cur:n]], 0)
                            if c is not None:
                                c = O.cat([c, c0[cur:n]], 0)
                        h, c = self._step(xw[offsets[t]:offsets[t + 1]], h, c, params)
                        ys[t] = h
                outs.append(O.cat(ys, 0))
                h_out.append(h)
                c_out.append(c)
            x = outs[0] if d == 1 else O.cat(outs, -1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, O.stack(h_out), (O.stack(c_out) if cs is not None else None)

    def _forward_packed(self, packed: Any, hx: Any) -> tuple:
        """Packed input: states are permuted by `sorted_indices` in and `unsorted_indices` out, as torch."""
        from ..utils.rnn import PackedSequence
        data, batch_sizes, sorted_indices, unsorted_indices = packed
        lstm = self.mode == "LSTM"
        sizes = [int(n) for n in batch_sizes.numpy().reshape(-1)]
        n = sizes[0]
        if data.ndim != 2:
            raise RuntimeError(f"input must have 2 dimensions, got {data.ndim}")
        if data.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {data.shape[-1]}")
        if hx is None:
            h0 = zeros(*self._expected_hidden(n), dtype=data.dtype)
            c0 = zeros(*self._expected_hidden(n, cell=True), dtype=data.dtype) if lstm else None
        elif lstm:
            h0, c0 = hx
            self._check_hidden(h0, self._expected_hidden(n), "Expected hidden[0] size {}, got {}")
            self._check_hidden(c0, self._expected_hidden(n, cell=True), "Expected hidden[1] size {}, got {}")
            if sorted_indices is not None:
                h0, c0 = h0.index_select(1, sorted_indices), c0.index_select(1, sorted_indices)
        else:
            h0, c0 = hx, None
            if sorted_indices is not None:  # torch permutes before checking the size
                h0 = h0.index_select(1, sorted_indices)
            self._check_hidden(h0, self._expected_hidden(n))
        out, hn, cn = self._run_packed(data, sizes, list(h0.unbind(0)),
                                       list(c0.unbind(0)) if c0 is not None else None)
        if unsorted_indices is not None:
            hn = hn.index_select(1, unsorted_indices)
            cn = cn.index_select(1, unsorted_indices) if cn is not None else None
        out = PackedSequence(out, batch_sizes, sorted_indices, unsorted_indices)
        return out, ((hn, cn) if lstm else hn)

    def _forward_impl(self, input: Tensor, hx: Any) -> tuple:
        from ..utils.rnn import PackedSequence
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        batched = self._check_input(input)
        lstm = self.mode == "LSTM"
        if not batched:
            input = input.unsqueeze(1)
            if hx is not None:
                hs = _check_hx_dims(hx, lstm, 2)
                hx = tuple(h.unsqueeze(1) for h in hs) if lstm else hx.unsqueeze(1)
        else:
            if self.batch_first:
                input = input.transpose(0, 1)
            if hx is not None:
                _check_hx_dims(hx, lstm, 3)
        n = input.shape[1]
        if lstm:
            if hx is None:
                h0 = zeros(*self._expected_hidden(n), dtype=input.dtype)
                c0 = zeros(*self._expected_hidden(n, cell=True), dtype=input.dtype)
            else:
                h0, c0 = hx
                self._check_hidden(h0, self._expected_hidden(n), "Expected hidden[0] size {}, got {}")
                self._check_hidden(c0, self._expected_hidden(n, cell=True), "Expected hidden[1] size {}, got {}")
            out, hn, cn = self._run(input, list(h0.unbind(0)), list(c0.unbind(0)))
        else:
            if hx is None:
                h0 = zeros(*self._expected_hidden(n), dtype=input.dtype)
            else:
                h0 = hx
                self._check_hidden(h0, self._expected_hidden(n))
            out, hn, cn = self._run(input, list(h0.unbind(0)), None)
        if not batched:
            out, hn = out.squeeze(1), hn.squeeze(1)
            cn = cn.squeeze(1) if cn is not None else None
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, ((hn, cn) if lstm else hn)


class RNN(RNNBase):
    """Mirrors `torch.nn.RNN` (Elman, tanh or relu)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple:
        """Returns (output, h_n)."""
        return self._forward_impl(input, hx)


class LSTM(RNNBase):
    """Mirrors `torch.nn.LSTM` (gates i, f, g, o; optional projection `proj_size`)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple:
        """Returns (output, (h_n, c_n))."""
        return self._forward_impl(input, hx)


class GRU(RNNBase):
    """Mirrors `torch.nn.GRU` (gates r, z, n)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple:
        """Returns (output, h_n)."""
        return self._forward_impl(input, hx)


# -- cells ----------------------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """Mirrors `torch.nn.RNNCellBase`: weight_ih, weight_hh, bias_ih, bias_hh, init U(±1/√hidden)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), dtype=dtype))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter U(-1/√hidden_size, 1/√hidden_size)."""
        _reset_uniform(self)

    def extra_repr(self) -> str:
        """Mirrors torch's repr fields."""
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nl = getattr(self, "nonlinearity", "tanh")
        if nl != "tanh":
            s += f", nonlinearity={nl}"
        return s

    def _prep(self, input: Tensor, hx: Any, name: str) -> tuple:
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} expected "
                               f"{self.input_size}")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        return input, batched

    def _state(self, x: Tensor, h: Tensor | None, batched: bool) -> Tensor:
        """A state for the (batched) input `x`: zeros when none is given."""
        if h is None:
            return zeros(x.shape[0], self.hidden_size, dtype=x.dtype)
        return h if batched else h.unsqueeze(0)


class RNNCell(RNNCellBase):
    """Mirrors `torch.nn.RNNCell`."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """One step: tanh/relu(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)."""
        x, batched = self._prep(input, hx, "RNNCell")
        h = self._state(x, hx, batched)
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        act = O.tanh if self.nonlinearity == "tanh" else O.relu
        out = _rnn_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh, act)
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """Mirrors `torch.nn.LSTMCell`."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple:
        """One step; returns (h', c')."""
        x, batched = self._prep(input, hx, "LSTMCell")
        if hx is None:
            h = c = self._state(x, None, batched)
        else:
            h, c = (self._state(x, s, batched) for s in hx)
        h, c = _lstm_step(F.linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh, None)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """Mirrors `torch.nn.GRUCell`."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """One step."""
        x, batched = self._prep(input, hx, "GRUCell")
        h = self._state(x, hx, batched)
        out = _gru_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return out if batched else out.squeeze(0)
