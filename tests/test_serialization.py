"""ndgrad.save / ndgrad.load: round trips (compared with torch.save/torch.load of the same objects),
atomic writes, and hostile files (truncated, corrupted, foreign, forged), none of which may run code."""
from __future__ import annotations

import collections
import functools
import hashlib
import io
import json
import math
import os
import pickle
import struct

import numpy as np
import pytest

import ndgrad
from ndgrad.serialization import ALIGN, MAGIC, LoadError, load
from ndgrad.serialization import save as _save

save = functools.partial(_save, format="ndgrad")   # this file tests ndgrad's own format (test_torch_format.py the other)

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
          "complex64", "complex128"]


def _rt(obj, **kw):
    buf = io.BytesIO()
    save(obj, buf)
    buf.seek(0)
    return load(buf, **kw)


def _raw(obj) -> bytes:
    buf = io.BytesIO()
    save(obj, buf)
    return buf.getvalue()


def _sample(name, shape):
    rng = np.random.default_rng(len(name) * 100 + len(shape))
    a = np.asarray(rng.standard_normal(shape) * 50)
    if name == "bool":
        return np.asarray(a > 0)
    if name.startswith("complex"):
        return np.asarray(a + 1j * rng.standard_normal(shape)).astype(name)
    return a.astype(name)


def _same_tensor(a, b):
    assert type(a) is type(b)
    assert a.dtype is b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
    x, y = a.detach().numpy(), b.detach().numpy()
    assert x.tobytes() == np.ascontiguousarray(y).tobytes()     # bit-exact, nan payloads and -0.0 included


# -- round trips -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 3), (2, 0, 3), (2, 3, 4, 1)], ids=str)
def test_every_dtype_and_shape(name, shape):
    t = ndgrad.from_numpy(_sample(name, shape))
    out = _rt(t)
    _same_tensor(t, out)
    assert out.is_leaf and out.grad_fn is None
    assert out.numpy().flags.writeable and out.numpy().flags.c_contiguous


def test_special_float_values_bit_exact():
    t = ndgrad.tensor([float("nan"), float("inf"), -float("inf"), -0.0, 5e-324, 1.7976931348623157e308],
                      dtype=ndgrad.float64)
    _same_tensor(t, _rt(t))
    h = ndgrad.tensor([65504.0, -0.0, float("nan"), 6e-8], dtype=ndgrad.float16)
    _same_tensor(h, _rt(h))


@pytest.mark.parametrize("make", [lambda x: x.t(), lambda x: x[:, ::2], lambda x: x.flip(0),
                                  lambda x: x.expand(3, 4, 5)[1], lambda x: x[1, 1:3]])
def test_non_contiguous_tensors(make):
    base = ndgrad.arange(20.0).reshape(4, 5)
    v = make(base)
    out = _rt(v)
    assert out.shape == v.shape
    np.testing.assert_array_equal(out.numpy(), v.numpy())


def test_requires_grad_and_non_leaf_like_torch(torch):
    for lib in (torch, ndgrad):
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        if lib is torch:
            buf = io.BytesIO()
            torch.save([x, y, x.detach()], buf)
            buf.seek(0)
            want = torch.load(buf)
        else:
            got = _rt([x, y, x.detach()])
    assert [(t.requires_grad, t.is_leaf) for t in got] == [(t.requires_grad, t.is_leaf) for t in want]
    assert [t.tolist() for t in got] == [t.tolist() for t in want]


def test_parameter_preserved():
    P = pytest.importorskip("ndgrad.nn.parameter").__dict__.get("Parameter")
    if P is None:
        pytest.skip("ndgrad.nn.Parameter not written yet")
    p = P(ndgrad.ones(2, 3))
    q = P(ndgrad.zeros(2), requires_grad=False)
    a, b, c = _rt([p, q, p.detach()])
    assert type(a) is P and a.requires_grad and a.shape == (2, 3)
    assert type(b) is P and not b.requires_grad
    assert type(c) is not P


def _nested_ndgrad(lib):
    return collections.OrderedDict([
        ("z", lib.tensor([1.5, -2.0])), ("a", lib.tensor(7)), ("m", {"k": [lib.tensor([[1, 2]], dtype=lib.int32)]}),
    ])


def test_containers_and_scalars_like_torch(torch):
    def build(lib):
        return {
            "od": collections.OrderedDict([("z", 1), ("a", 2), ("m", 3)]),
            "d": {3: "three", 1: "one", (1, 2): [None, True, False]},
            "nums": [0, -1, 2 ** 70, -(2 ** 70), 1.5, -0.0, float("inf"), 1e-310, 2 + 3j, complex(0, -0.0)],
            "strs": ("", "é ✓ \x00 \n", "x" * 1000),
            "t": (lib.tensor(1.0), [lib.zeros(2, 3, dtype=lib.float64)], ()),
            "empty": [{}, [], (), collections.OrderedDict()],
            "nested": [[[[[1]]]]],
            "dtype": lib.float16,
            "bytes": b"\x00\x01abc",
        }

    got = _rt(build(ndgrad))
    buf = io.BytesIO()
    torch.save(build(torch), buf)
    buf.seek(0)
    want = torch.load(buf)

    def same(a, b):
        assert type(a).__name__ == type(b).__name__, (a, b)
        if isinstance(a, dict):
            assert list(a) == list(b)
            for k in a:
                same(a[k], b[k])
        elif isinstance(a, (list, tuple)):
            assert len(a) == len(b)
            for x, y in zip(a, b):
                same(x, y)
        elif type(a).__name__ == "Tensor":
            assert str(a.dtype) == str(b.dtype) and list(a.shape) == list(b.shape) and a.tolist() == b.tolist()
        elif type(a).__name__ == "dtype":
            assert str(a) == str(b)
        elif isinstance(a, float):
            assert a.hex() == b.hex()
        else:
            assert a == b
    same(got, want)


def test_state_dict_order_and_type_kept():
    sd = _nested_ndgrad(ndgrad)
    out = _rt(sd)
    assert type(out) is collections.OrderedDict and list(out) == ["z", "a", "m"]
    assert type(out["m"]) is dict and type(out["m"]["k"]) is list
    plain = _rt({"b": 1, "a": 2})
    assert type(plain) is dict and list(plain) == ["b", "a"]
    assert type(_rt((1, [2]))) is tuple and type(_rt([1, (2,)])[1]) is tuple
    s = _rt(ndgrad.zeros(2, 3).shape)
    assert type(s) is ndgrad.Size and s == (2, 3)


def test_optimizer_state_dict_round_trip():
    w = ndgrad.tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = ndgrad.optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True)
    for _ in range(3):
        opt.zero_grad()
        (w ** 2).sum().backward()
        opt.step()
    sd = opt.state_dict()
    out = _rt(sd)
    assert list(out) == list(sd)
    assert out["param_groups"] == sd["param_groups"]
    assert list(out["state"]) == list(sd["state"]) == [0]
    for k, v in sd["state"][0].items():
        if isinstance(v, ndgrad.Tensor):
            _same_tensor(v, out["state"][0][k])
        else:
            assert out["state"][0][k] == v
    # a fresh optimizer loaded from the file continues exactly like the original
    w2 = ndgrad.tensor(w.detach().numpy().copy(), requires_grad=True)
    opt2 = ndgrad.optim.SGD([w2], lr=0.1, momentum=0.9, nesterov=True)
    opt2.load_state_dict(out)
    for o, p in ((opt, w), (opt2, w2)):
        o.zero_grad()
        (p ** 2).sum().backward()
        o.step()
    np.testing.assert_array_equal(w.detach().numpy(), w2.detach().numpy())


def test_same_tensor_object_loads_as_one_object_like_torch_but_views_are_separate():
    x = ndgrad.arange(6.0)
    a, b, c = _rt([x, x, x[2:4]])
    assert a is b
    assert c is not a and c.tolist() == [2.0, 3.0]
    c.add_(100)                         # views are stored as separate tensors: no sharing after load
    assert a.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_paths_files_and_streams(tmp_path):
    import pathlib
    obj = {"w": ndgrad.ones(3)}
    for target in (str(tmp_path / "a.ndg"), tmp_path / "b.ndg"):
        save(obj, target)
        assert load(target)["w"].tolist() == [1.0, 1.0, 1.0]
        assert load(pathlib.Path(target), map_location="cpu", weights_only=False)["w"].tolist() == [1.0] * 3
    with open(tmp_path / "c.ndg", "wb") as fh:
        save(1, fh)
        save([2], fh)                    # two objects in one stream load one after the other
    with open(tmp_path / "c.ndg", "rb") as fh:
        assert load(fh) == 1 and load(fh) == [2]
    assert load(tmp_path / "a.ndg", map_location=ndgrad.device("cpu"))["w"].shape == (3,)


def test_layout_magic_alignment_and_header():
    raw = _raw([ndgrad.ones(3), ndgrad.zeros(2, dtype=ndgrad.int8)])
    assert raw[:8] == MAGIC == b"NDGRAD\x00\x01"
    _, version, flags, hlen, dlen = struct.unpack("<8sIIQQ", raw[:32])
    assert (version, flags) == (1, 0)
    assert len(raw) == 64 + hlen + (-hlen % ALIGN) + dlen
    assert raw[32:64] == hashlib.sha256(raw[:32] + raw[64:]).digest()
    header = json.loads(raw[64:64 + hlen])
    assert [e["offset"] % ALIGN for e in header["tensors"]] == [0, 0]
    assert (64 + hlen + (-hlen % ALIGN)) % ALIGN == 0
    data = raw[64 + hlen + (-hlen % ALIGN):]
    e = header["tensors"][0]
    assert np.frombuffer(data, "<f4", 3, e["offset"]).tolist() == [1.0, 1.0, 1.0]


# -- saving errors, atomic writes ---------------------------------------------------------------------
class Custom:
    pass


@pytest.mark.parametrize("bad", [Custom(), {1, 2}, np.array(["a"]), np.ones(2, dtype=object), lambda: 0,
                                 [1, {"x": object()}], collections.defaultdict(int)])
def test_unsupported_types_raise_typeerror_naming_them(bad):
    with pytest.raises(TypeError, match=type(bad).__name__ if not isinstance(bad, (list, np.ndarray)) else "object|<U1"):
        _raw(bad)


@pytest.mark.parametrize("arr", [np.arange(6).reshape(2, 3)[:, 1], np.float32(2.5), np.ones((2, 0), np.complex64),
                                 np.array([True, False]), np.arange(3, dtype=">i4"), np.uint16(7)])
def test_numpy_arrays_and_scalars(arr):
    out = _rt({"a": arr})["a"]
    assert type(out) is type(arr) and out.dtype == arr.dtype.newbyteorder("=") and out.shape == np.shape(arr)
    np.testing.assert_array_equal(out, arr)


def test_devices_and_sizes():
    out = _rt([ndgrad.device("cpu"), ndgrad.Size([2, 3])])
    assert type(out[0]) is ndgrad.device and str(out[0]) == "cpu" and type(out[1]) is ndgrad.Size


def test_self_referencing_container():
    a = [1]
    a.append(a)
    with pytest.raises(ValueError, match="contains itself"):
        _raw(a)
    shared = [1]
    assert _rt([shared, shared]) == [[1], [1]]       # shared but not cyclic: fine


def test_failed_save_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    p = tmp_path / "model.ndg"
    save({"v": 1}, p)
    before = p.read_bytes()
    with pytest.raises(TypeError):
        save({"v": Custom()}, p)
    assert p.read_bytes() == before

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        save({"v": 2}, p)
    monkeypatch.undo()
    assert p.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.ndg"]       # no temp file left behind
    assert load(p) == {"v": 1}


def test_saved_file_mode_follows_umask(tmp_path):
    old = os.umask(0o022)
    try:
        save(1, tmp_path / "m.ndg")
    finally:
        os.umask(old)
    assert (os.stat(tmp_path / "m.ndg").st_mode & 0o777) == 0o644


def test_save_to_directory(tmp_path):
    with pytest.raises(IsADirectoryError):
        save(1, tmp_path)
    with pytest.raises(IsADirectoryError):
        load(tmp_path)


# -- hostile files ------------------------------------------------------------------------------------
GOOD = _raw(collections.OrderedDict(w=ndgrad.arange(10.0), b=[1, "two", 3.0, ndgrad.tensor(True)]))


def _load_bytes(raw):
    return load(io.BytesIO(raw))


def test_truncated_at_every_offset(tmp_path):
    for n in range(len(GOOD)):
        with pytest.raises(LoadError, match="truncated|empty"):
            _load_bytes(GOOD[:n])
    p = tmp_path / "t.ndg"
    for n in (0, 7, 8, 63, 64, 65, len(GOOD) // 2, len(GOOD) - 1):
        p.write_bytes(GOOD[:n])
        with pytest.raises(LoadError):
            load(p)


def test_every_single_bit_flip_is_detected():
    for i in range(len(GOOD)):
        for bit in (0, 7) if i % 4 else range(8):
            bad = bytearray(GOOD)
            bad[i] ^= 1 << bit
            with pytest.raises(LoadError):
                _load_bytes(bytes(bad))


def test_extra_bytes_after_the_end_of_a_file(tmp_path):
    p = tmp_path / "x.ndg"
    p.write_bytes(GOOD + b"\x00")
    with pytest.raises(LoadError, match="extra bytes"):
        load(p)


@pytest.mark.parametrize("raw, msg", [(b"", "empty"), (b"NDGRAD", "truncated"),
                                      (b"NDGRAE\x00\x01" + bytes(100), "magic"),
                                      (b"PK\x03\x04" + bytes(60), "zip"), (b"\x93NUMPY" + bytes(60), "NumPy"),
                                      (b"hello world, this is not a model file at all" * 3, "magic")])
def test_wrong_magic_and_foreign_files(raw, msg):
    with pytest.raises(LoadError, match=msg):
        _load_bytes(raw)


def test_a_malicious_pickle_never_runs(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))
    p = tmp_path / "evil.pt"
    p.write_bytes(pickle.dumps(Evil(), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global: GLOBAL io.open"):
        load(p)
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global: GLOBAL io.open"):
        load(str(p), weights_only=False)
    assert not marker.exists()
    # the payload is live: unpickling it would create the marker
    pickle.loads(p.read_bytes()).close()
    assert marker.exists()


def test_load_error_is_a_runtime_error():
    assert not issubclass(LoadError, pickle.UnpicklingError) and issubclass(LoadError, RuntimeError)


def test_text_mode_file_is_refused(tmp_path):
    p = tmp_path / "m.ndg"
    save(1, p)
    with open(p, encoding="latin-1") as fh, pytest.raises(LoadError, match="binary"):
        load(fh)


def _forge(header, data=b"", version=1, flags=0, hraw=None):
    """A file with a valid checksum around a hand-written (hostile) header."""
    h = hraw if hraw is not None else json.dumps(header).encode()
    prefix = struct.pack("<8sIIQQ", MAGIC, version, flags, len(h), len(data))
    body = h + b"\x00" * (-len(h) % ALIGN) + data
    return prefix + hashlib.sha256(prefix + body).digest() + body


def _hdr(root, tensors=()):
    return {"format": "ndgrad", "byteorder": "little", "tensors": list(tensors), "root": root}


T_OK = {"dtype": "float32", "shape": [2], "offset": 0, "nbytes": 8, "requires_grad": False, "parameter": False}


def test_forged_valid_file_loads():
    assert _load_bytes(_forge(_hdr({"t": "tensor", "i": 0}, [T_OK]), bytes(64))).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("kw", [
    dict(version=2), dict(flags=1), dict(hraw=b"{not json"), dict(hraw=b"\xff\xfe"), dict(hraw=b"[1]"),
    dict(hraw=b"[" * 100000 + b"]" * 100000),
    dict(header={"format": "pickle", "byteorder": "little", "tensors": [], "root": {"t": "none"}}),
    dict(header=_hdr({"t": "eval", "v": "__import__('os').system('x')"})),
    dict(header=_hdr({"t": "int", "v": 5})), dict(header=_hdr({"t": "int", "v": "zz"})),
    dict(header=_hdr({"t": "float", "v": "nan?"})), dict(header=_hdr({"t": "bool", "v": 1})),
    dict(header=_hdr({"t": "list", "items": {}})), dict(header=_hdr({"t": "dict", "items": [[1]]})),
    dict(header=_hdr({"t": "dict", "items": [[{"t": "list", "items": []}, {"t": "none"}]]})),
    dict(header=_hdr({"t": "tensor", "i": 1}, [T_OK])), dict(header=_hdr({"t": "tensor", "i": "0"}, [T_OK])),
    dict(header=_hdr({"t": "tensor", "i": 0}, [dict(T_OK, dtype="object")])),
    dict(header=_hdr({"t": "tensor", "i": 0}, [dict(T_OK, shape=[10 ** 12], nbytes=4 * 10 ** 12)])),
    dict(header=_hdr({"t": "tensor", "i": 0}, [dict(T_OK, shape=[-2])])),
    dict(header=_hdr({"t": "tensor", "i": 0}, [dict(T_OK, nbytes=12)])),
    dict(header=_hdr({"t": "tensor", "i": 0}, [dict(T_OK, offset=64)])),
    dict(header=_hdr({"t": "tensor", "i": 0}, [dict(T_OK, offset=4)])),
    dict(header=_hdr({"t": "tensor", "i": 0}, [dict(T_OK, dtype="int32", requires_grad=True)])),
    dict(header=_hdr({"t": "bytes", "offset": 0, "nbytes": 1000})),
    dict(header=_hdr({"t": "size", "items": [{"t": "str", "v": "a"}]})),
])
def test_forged_headers_are_validated(kw):
    kw = dict(kw)
    header = kw.pop("header", _hdr({"t": "none"}))
    with pytest.raises(LoadError):
        _load_bytes(_forge(header, bytes(64), **kw))


def test_deep_nesting_is_refused_not_a_crash():
    for depth in (600, 5000):
        hraw = ('{"format":"ndgrad","byteorder":"little","tensors":[],"root":' + '{"t":"list","items":[' * depth
                + '{"t":"none"}' + ']}' * depth + '}').encode()
        with pytest.raises(LoadError, match="nested|JSON"):
            _load_bytes(_forge(None, hraw=hraw))
    deep = []
    for _ in range(1000):
        deep = [deep]
    with pytest.raises(ValueError, match="nested"):
        _raw(deep)


def test_map_location_and_pickle_module():
    assert _rt(3, map_location="cpu") == 3
    assert _rt(3, map_location=lambda s, loc: s) == 3
    with pytest.raises(RuntimeError, match="cuda"):
        _rt(3, map_location="cuda")
    with pytest.raises(RuntimeError, match="pickle_module"):
        load(io.BytesIO(_raw(1)), pickle_module=pickle)


def test_loaded_tensors_are_fresh_and_independent():
    t = ndgrad.arange(4.0)
    raw = _raw(t)
    a, b = _load_bytes(raw), _load_bytes(raw)
    a.add_(1)
    assert b.tolist() == [0.0, 1.0, 2.0, 3.0] and t.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert math.isclose((a * 2).sum().item(), 20.0)


def test_lying_lengths_cost_no_memory():
    prefix = struct.pack("<8sIIQQ", MAGIC, 1, 0, 2 ** 60, 2 ** 62)
    with pytest.raises(LoadError, match="truncated"):
        _load_bytes(prefix + bytes(32) + b"{}")
