"""Arrays in and out: DLPack (memory shared with NumPy and torch), the NumPy array protocol, ufuncs
on tensors and matplotlib, each compared with what torch does."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ndgrad
from ndgrad.utils import dlpack


def test_from_dlpack_shares_memory_with_numpy_and_torch(torch):
    for lib in (torch, ndgrad):
        a = np.arange(6.0).reshape(2, 3)
        t = lib.from_dlpack(a)
        t[0, 0] = 50.0
        assert a[0, 0] == 50.0 and t.dtype == lib.float64 and tuple(t.shape) == (2, 3)
        s = lib.from_dlpack(a[:, ::2])                 # strided memory is imported as it is
        assert s.tolist() == a[:, ::2].tolist() and s.stride() == (3, 2)
        x = lib.arange(4.0)
        n = np.from_dlpack(x)
        n[1] = 9.0
        assert x[1].item() == 9.0
    t = torch.arange(3, dtype=torch.int32)
    v = ndgrad.from_dlpack(t)                          # torch -> ndgrad
    v[0] = 7
    assert t[0].item() == 7 and v.dtype is ndgrad.int32
    w = ndgrad.ones(2, dtype=ndgrad.float16)
    tw = torch.from_dlpack(w)                          # ndgrad -> torch
    tw[1] = 3.0
    assert w[1].item() == 3.0 and tw.dtype == torch.float16


@pytest.mark.parametrize("name", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
                                  "float64", "complex64", "complex128"])
def test_every_dtype_through_capsules(torch, name):
    src = ndgrad.from_numpy((np.arange(6) % 2 == 1) if name == "bool" else np.arange(6).astype(name))
    back = dlpack.from_dlpack(dlpack.to_dlpack(src))
    assert back.dtype is src.dtype and back.tolist() == src.tolist()
    via_torch = torch.utils.dlpack.from_dlpack(dlpack.to_dlpack(src))
    assert str(via_torch.dtype) == str(src.dtype) and via_torch.tolist() == src.tolist()
    from_torch = dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(via_torch))
    assert from_torch.dtype is src.dtype and from_torch.tolist() == src.tolist()


def test_dlpack_errors_and_device_like_torch(torch):
    for lib in (torch, ndgrad):
        with pytest.raises(BufferError, match="Can't export tensors that require gradient, use tensor.detach()"):
            np.from_dlpack(lib.ones(2, requires_grad=True))
        assert tuple(int(v) for v in lib.ones(1).__dlpack_device__()) == (1, 0)
    with pytest.raises(TypeError, match="__dlpack__"):
        ndgrad.from_dlpack([1, 2])
    x = ndgrad.ones(2)
    assert ndgrad.from_dlpack(x) is x


def test_numpy_protocol_like_torch(torch):
    for lib in (torch, ndgrad):
        t = lib.tensor([1.0, 2.0])
        a = np.asarray(t)
        a[0] = 5.0                                   # asarray shares memory
        assert t[0].item() == 5.0
        b = np.array(t)
        b[1] = 7.0                                   # np.array copies
        assert t[1].item() == 2.0
        assert np.asarray(t, dtype=np.float64).dtype == np.float64
        with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires grad"):
            np.asarray(lib.ones(2, requires_grad=True))
    assert ndgrad.Tensor.__array_priority__ == torch.Tensor.__array_priority__


@pytest.mark.parametrize("f", [lambda t, lib: np.sin(t), lambda t, lib: np.add(t, 1),
                               lambda t, lib: np.greater(t, 0), lambda t, lib: np.exp(t.double()),
                               lambda t, lib: np.add(t, np.ones(2)), lambda t, lib: np.sin(t[0]),
                               lambda t, lib: np.sqrt(lib.tensor([1.0], requires_grad=True))])
def test_ufuncs_on_tensors_like_torch(torch, f):
    def run(lib):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                r = f(lib.tensor([1.0, 2.0]), lib)
        except Exception as e:  # noqa: BLE001
            return type(e).__name__, str(e)
        return type(r).__name__, repr(r)
    assert run(ndgrad) == run(torch)


def test_matplotlib_plots_tensors_like_torch(torch):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    try:
        got = ax.plot(ndgrad.linspace(0, 1, 5), ndgrad.arange(5.0) ** 2)[0].get_xydata()
        want = ax.plot(torch.linspace(0, 1, 5), torch.arange(5.0) ** 2)[0].get_xydata()
        np.testing.assert_array_equal(got, want)
        ax.imshow(ndgrad.ones(3, 3))
        for lib in (torch, ndgrad):
            with pytest.raises(RuntimeError, match="requires grad"):
                ax.plot(lib.ones(3, requires_grad=True))
    finally:
        plt.close(fig)
