"""ndgrad.utils.safetensors: the same bytes as the safetensors package, round trips both ways, and
malformed files refused before anything is built."""
from __future__ import annotations

import json
import struct

import numpy as np
import pytest

import ndgrad
from ndgrad.utils import safetensors as ns
from ndgrad.utils.safetensors import SafetensorError

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "complex64"]


def _sample(name, shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape) * 50
    if name.startswith("complex"):
        a = a + 1j * np.random.default_rng(seed + 1).standard_normal(shape)
    return np.asarray(a > 0) if name == "bool" else np.asarray(a).astype(name)


def _both(torch):
    arrays = {f"{n}/{i}": _sample(n, s, i) for i, n in enumerate(DTYPES) for s in [(2, 3)]}
    arrays["empty"] = np.zeros((0, 4), np.float32)
    arrays["scalar"] = np.array(3.5, np.float64)
    return ({k: ndgrad.from_numpy(v.copy()) for k, v in arrays.items()},
            {k: torch.from_numpy(v.copy()) for k, v in arrays.items()})


def _same(a, b):
    assert str(a.dtype) == str(b.dtype) and tuple(a.shape) == tuple(b.shape)
    assert a.numpy().tobytes() == b.numpy().tobytes()


def test_same_bytes_as_the_package_and_both_ways(torch, tmp_path):
    st = pytest.importorskip("safetensors.torch")
    nd, tt = _both(torch)
    meta = {"format": "pt"}      # (one key: the package orders several keys as its hash map happens to)
    assert ns.save(nd, metadata=meta) == st.save(tt, metadata=meta)     # bit for bit
    assert ns.save(nd) == st.save(tt)
    back = st.load(ns.save(nd))
    for k in nd:
        _same(nd[k], back[k])
    got = ns.load(st.save(tt))
    for k in tt:
        _same(got[k], tt[k])
    ns.save_file(nd, tmp_path / "a.safetensors", metadata=meta)
    st.save_file(tt, tmp_path / "b.safetensors", metadata=meta)
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes()
    loaded = ns.load_file(tmp_path / "b.safetensors")
    assert list(loaded) == list(st.load_file(tmp_path / "b.safetensors")) or set(loaded) == set(tt)
    for k in tt:
        _same(loaded[k], tt[k])
    from safetensors import safe_open as their_open
    with ns.safe_open(tmp_path / "b.safetensors", framework="pt") as f, their_open(tmp_path / "b.safetensors", "pt") as g:
        assert f.metadata() == g.metadata() and set(f.keys()) == set(g.keys())
        _same(f.get_tensor("float32/7"), g.get_tensor("float32/7"))
    with ns.safe_open(tmp_path / "b.safetensors", framework="numpy") as f:
        assert isinstance(f.get_tensor("int64/5"), np.ndarray)


def test_model_state_dict_both_ways(torch, tmp_path):
    st = pytest.importorskip("safetensors.torch")
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    st.save_file(tm.state_dict(), tmp_path / "m.safetensors")
    nm = ndgrad.nn.Sequential(ndgrad.nn.Linear(3, 4), ndgrad.nn.ReLU(), ndgrad.nn.Linear(4, 2))
    nm.load_state_dict(ns.load_file(tmp_path / "m.safetensors"))
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    with torch.no_grad(), ndgrad.no_grad():
        np.testing.assert_allclose(nm(ndgrad.from_numpy(x)).numpy(), tm(torch.from_numpy(x)).numpy(), rtol=1e-6)
    ns.save_file({k: v.detach() for k, v in nm.state_dict().items()}, tmp_path / "n.safetensors")
    tm2 = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    tm2.load_state_dict(st.load_file(tmp_path / "n.safetensors"))
    with torch.no_grad():
        assert torch.equal(tm2(torch.from_numpy(x)), tm(torch.from_numpy(x)))


def test_round_trip_without_the_package(tmp_path):
    t = {"w": ndgrad.arange(6.0).reshape(2, 3), "i": ndgrad.tensor([1, 2], dtype=ndgrad.int16),
         "b": ndgrad.tensor([True, False])}
    out = ns.load(ns.save(t))
    for k in t:
        assert out[k].dtype is t[k].dtype and out[k].tolist() == t[k].tolist()
    out["w"].add_(1)                      # loaded tensors are writable and independent of the input
    assert t["w"][0, 0].item() == 0.0


def test_errors_when_saving_like_the_package(torch):
    st = pytest.importorskip("safetensors.torch")
    for lib, save in ((torch, st.save), (ndgrad, ns.save)):
        x = lib.ones(4)
        with pytest.raises(ValueError, match="non contiguous tensor: `x`"):
            save({"x": lib.ones(3, 2).t()})
        with pytest.raises(RuntimeError, match="share memory"):
            save({"x": x, "y": x[:2]})
    with pytest.raises(ValueError, match="metadata"):
        ns.save({"x": ndgrad.ones(1)}, metadata={"a": 1})
    with pytest.raises(ValueError, match="cannot store dtype torch.complex128"):   # nor can the package
        ns.save({"x": ndgrad.ones(1, dtype=ndgrad.complex128)})


def _file(header: dict, data: bytes = b"", n=None) -> bytes:
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h) if n is None else n) + h + data


@pytest.mark.parametrize("raw, match", [
    (b"\x01\x00", "HeaderTooSmall"),
    (struct.pack("<Q", 2 ** 60) + b"{}", "HeaderTooLarge"),
    (struct.pack("<Q", 100) + b"{}", "InvalidHeaderLength"),
    (struct.pack("<Q", 4) + b"{{{{", "InvalidHeaderDeserialization"),
    (_file({"x": {"dtype": "F99", "shape": [1], "data_offsets": [0, 4]}}, bytes(4)), "unknown dtype"),
    (_file({"x": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, bytes(4)), "bad shape"),
    (_file({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, bytes(4)), "TensorInvalidInfo"),
    (_file({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, bytes(2)), "MetadataIncompleteBuffer|InvalidHeaderLength"),
    (_file({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
            "y": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}, bytes(8)), "InvalidOffset"),
    (_file({"x": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, bytes(8)), "InvalidOffset"),
    (_file({"x": {"dtype": "F32", "shape": [2 ** 40, 2 ** 40], "data_offsets": [0, 4]}}, bytes(4)), "TensorInvalidInfo"),
    (_file({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "evil": 1}}, bytes(4)), "malformed entry"),
    (_file({"__metadata__": {"a": 1}}), "__metadata__"),
    (_file({"x": {"dtype": "BOOL", "shape": [1], "data_offsets": [0, 1]}}, b"\x07"), "0 and 1"),
])
def test_malformed_files_are_refused(raw, match, tmp_path):
    with pytest.raises(SafetensorError, match=match):
        ns.load(raw)
    p = tmp_path / "bad.safetensors"
    p.write_bytes(raw)
    with pytest.raises(SafetensorError, match=match):
        ns.load_file(p)


def test_the_package_refuses_what_ndgrad_refuses():
    sp = pytest.importorskip("safetensors.numpy")
    raw = _file({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, bytes(4))
    with pytest.raises(Exception):
        sp.load(raw)
    with pytest.raises(SafetensorError):
        ns.load(raw)


def test_lazily_imported():
    import subprocess
    import sys
    code = "import ndgrad, sys; print('ndgrad.utils.safetensors' in sys.modules, 'json' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "False"
