"""Layouts and memory formats (ndgrad/_layouts.py): torch.strided, torch.channels_last..., and the strides a
tensor has in each format, as torch reports them."""
from __future__ import annotations

import pickle

import pytest

import ndgrad

CASES = {
    "contiguous(channels_last)": lambda t: t.arange(24.).reshape(1, 2, 3, 4).contiguous(memory_format=t.channels_last),
    "to(channels_last)": lambda t: t.arange(48.).reshape(2, 2, 3, 4).to(memory_format=t.channels_last),
    "clone(channels_last)": lambda t: t.arange(24.).reshape(1, 2, 3, 4).clone(memory_format=t.channels_last),
    "channels_last_3d": lambda t: t.ones(1, 2, 3, 4, 5).contiguous(memory_format=t.channels_last_3d),
    "size-1 dims": lambda t: t.ones(1, 1, 2, 2).contiguous(memory_format=t.channels_last),
    "clone keeps it": lambda t: t.ones(2, 3, 4, 5).contiguous(memory_format=t.channels_last).clone(),
    "clone(contiguous_format)": lambda t: t.ones(2, 3, 4, 5).contiguous(memory_format=t.channels_last).clone(
        memory_format=t.contiguous_format),
    "contiguous() undoes it": lambda t: t.ones(2, 3, 4, 5).contiguous(memory_format=t.channels_last).contiguous(),
    "add keeps it": lambda t: t.ones(2, 3, 4, 5).contiguous(memory_format=t.channels_last) + 1,
    "empty_like keeps it": lambda t: t.empty_like(t.ones(2, 3, 4, 5).contiguous(memory_format=t.channels_last)).zero_(),
    "zeros_like(contiguous_format)": lambda t: t.zeros_like(t.ones(2, 3, 4, 5).contiguous(
        memory_format=t.channels_last), memory_format=t.contiguous_format),
    "ones_like(channels_last)": lambda t: t.ones_like(t.ones(2, 3, 4, 5), memory_format=t.channels_last),
    "clone of a transpose": lambda t: t.ones(2, 3).t().clone(),
    "to(dtype, channels_last)": lambda t: t.ones(2, 3, 4, 5).to(t.float64, memory_format=t.channels_last),
    "preserve on a contiguous tensor": lambda t: t.ones(2, 3).contiguous(memory_format=t.preserve_format),
}


@pytest.mark.parametrize("name", CASES)
def test_strides_as_torchs(torch, name):
    got = []
    for lib in (ndgrad, torch):
        r = CASES[name](lib)
        got.append((r.stride(), r.is_contiguous(), r.is_contiguous(memory_format=lib.channels_last)
                    if r.ndim == 4 else None, r.tolist(), str(r.dtype)))
    assert got[0] == got[1]


ERRORS = [
    lambda t: t.ones(2, 3).contiguous(memory_format=t.channels_last),
    lambda t: t.ones(2, 3, 4, 5).contiguous(memory_format=t.channels_last_3d),
    lambda t: t.ones(2, 3).t().contiguous(memory_format=t.preserve_format),
    lambda t: t.nn.Sequential(t.nn.Conv2d(2, 3, 3), t.nn.Conv3d(2, 3, 3)).to(memory_format=t.channels_last),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors_as_torchs(torch, k):
    got = []
    for lib in (ndgrad, torch):
        with pytest.raises(Exception) as e:
            ERRORS[k](lib)
        got.append((e.type.__name__, str(e.value)))
    assert got[0] == got[1]


def test_objects_names_and_pickling(torch):
    for name in ("strided", "sparse_coo", "contiguous_format", "channels_last", "channels_last_3d", "preserve_format",
                 "legacy_contiguous_format"):
        a, b = getattr(ndgrad, name), getattr(torch, name)
        assert repr(a) == repr(b) and str(a) == str(b)
        assert pickle.loads(pickle.dumps(a)) is a
        assert isinstance(a, ndgrad.layout if name.startswith(("strided", "sparse")) else ndgrad.memory_format)
    x = ndgrad.ones(2)
    assert x.layout is ndgrad.strided and x.layout == ndgrad.strided and repr(x.layout) == repr(torch.ones(2).layout)
    assert not x.is_contiguous(memory_format=ndgrad.channels_last)  # (another rank: False, as torch)


def test_module_to_channels_last_keeps_parameters_and_gradients(torch):
    out = []
    for lib in (ndgrad, torch):
        lib.manual_seed(0)
        m = lib.nn.Conv2d(2, 3, 3)
        w = m.weight
        m.to(memory_format=lib.channels_last)
        x = lib.arange(50.).reshape(1, 2, 5, 5).to(memory_format=lib.channels_last)
        y = m(x)
        y.sum().backward()
        out.append((m.weight is w, m.weight.stride(), m.bias.stride(), y.detach().numpy().round(4).tolist(),
                    m.weight.grad.numpy().round(4).tolist(), m.weight.grad_fn, w.is_leaf))
    assert out[0] == out[1]
