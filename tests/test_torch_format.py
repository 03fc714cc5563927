"""PyTorch's checkpoint format: files written by torch.save load in ndgrad, files written by ndgrad.save
load in torch.load (weights_only=True), model state round trips both ways, and hostile files are refused
before anything is built or executed."""
from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest

import ndgrad
from ndgrad.serialization import LoadError

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
          "complex64", "complex128"]


def _torch_bytes(torch, obj, **kw):
    buf = io.BytesIO()
    torch.save(obj, buf, **kw)
    return buf.getvalue()


def _nd_bytes(obj, **kw):
    buf = io.BytesIO()
    ndgrad.save(obj, buf, **kw)
    return buf.getvalue()


def _load(lib, raw, **kw):
    return lib.load(io.BytesIO(raw), **kw)


def _sample(name, shape, seed=0):
    rng = np.random.default_rng(seed + len(shape))
    a = rng.standard_normal(shape) * 50
    if name == "bool":
        return np.asarray(a > 0)
    if name.startswith("complex"):
        return np.asarray(a + 1j * rng.standard_normal(shape)).astype(name)
    return np.asarray(a).astype(name)


def _same(a, b):
    """ndgrad tensor a == torch tensor b: dtype, shape, requires_grad and every bit."""
    assert str(a.dtype) == str(b.dtype) and tuple(a.shape) == tuple(b.shape)
    assert a.requires_grad == b.requires_grad
    assert np.ascontiguousarray(a.detach().numpy()).tobytes() == np.ascontiguousarray(b.detach().numpy()).tobytes()


def _weights_line(e):
    """The 'WeightsUnpickler error: ...' line of a weights-only refusal (the same in torch and ndgrad)."""
    lines = [ln.strip().replace("WeightsUnpickler error: ", "") for ln in str(e).splitlines()
             if "GLOBAL" in ln or "Can only" in ln]
    assert lines, str(e)
    return lines[0]


def _zip_with(raw, replace=None, add=None, drop=()):
    """A copy of the zip archive `raw` with some records replaced/added/dropped."""
    src = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            data = (replace or {}).get(info.filename, src.read(info.filename))
            dst.writestr(info.filename, data)
        for name, data in (add or {}).items():
            dst.writestr(name, data)
    return out.getvalue()


# -- torch -> ndgrad ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("name", DTYPES)
def test_every_dtype_from_torch(torch, name, legacy):
    shapes = [(), (0,), (5,), (2, 3), (2, 0, 3)]
    ts = [torch.from_numpy(_sample(name, s)) for s in shapes]
    if name.startswith("float") or name.startswith("complex"):
        ts.append(torch.from_numpy(_sample(name, (3,))).requires_grad_())
    got = _load(ndgrad, _torch_bytes(torch, ts, _use_new_zipfile_serialization=not legacy))
    assert len(got) == len(ts)
    for a, b in zip(got, ts):
        assert type(a) is ndgrad.Tensor
        _same(a, b)


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_views_from_torch_share_memory(torch, legacy):
    x = torch.arange(12.0).reshape(3, 4)
    obj = {"x": x, "col": x[:, 1], "t": x.t(), "tail": x.view(-1)[5:], "exp": x[0].expand(2, 4), "p": torch.nn.Parameter(x)}
    got = _load(ndgrad, _torch_bytes(torch, obj, _use_new_zipfile_serialization=not legacy))
    for k in obj:
        _same(got[k], obj[k])
        assert got[k].stride() == obj[k].stride()
    assert type(got["p"]) is ndgrad.nn.Parameter and got["p"].requires_grad
    got["x"][1, 1] = 100.0       # one storage in the file: one buffer after loading, as in torch
    assert got["col"][1].item() == 100.0 and got["t"][1, 1].item() == 100.0 and got["tail"][0].item() == 100.0
    assert got["p"][1, 1].item() == 100.0


def test_containers_and_scalars_from_torch(torch):
    def build(lib):
        return {
            "od": collections.OrderedDict([("z", 1), ("a", lib.tensor([1.5]))]),
            "d": {3: "three", (1, 2): [None, True, False]},
            "nums": [0, -1, 2 ** 70, 1.5, -0.0, float("inf"), 2 + 3j],
            "strs": ("", "é ✓ \x00 \n"), "bytes": b"\x00\x01abc", "ba": bytearray(b"xy"), "set": {1, 2},
            "dtypes": [lib.float16, lib.int64, lib.bool, lib.complex128], "dev": lib.device("cpu"),
            "size": lib.Size([2, 3]), "nested": [[[[(1,)]]]],
        }
    for legacy in (False, True):
        got = _load(ndgrad, _torch_bytes(torch, build(torch), _use_new_zipfile_serialization=not legacy))
        want = build(ndgrad)
        assert repr(got) == repr(want)
        assert type(got["od"]) is collections.OrderedDict and type(got["size"]) is ndgrad.Size
        assert got["dtypes"][0] is ndgrad.float16 and type(got["dev"]) is ndgrad.device


def test_state_dict_metadata_survives(torch):
    sd = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3)).state_dict()
    got = _load(ndgrad, _torch_bytes(torch, sd))
    assert type(got) is collections.OrderedDict and list(got) == list(sd)
    assert got._metadata == sd._metadata
    back = _load(torch, _nd_bytes(got))
    assert back._metadata == sd._metadata and list(back) == list(sd)


# -- ndgrad -> torch ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", DTYPES)
def test_every_dtype_to_torch(torch, name):
    shapes = [(), (0,), (5,), (2, 3), (2, 0, 3)]
    ts = [ndgrad.from_numpy(_sample(name, s, seed=1)) for s in shapes]
    if name.startswith("float") or name.startswith("complex"):
        ts.append(ndgrad.from_numpy(_sample(name, (3,), seed=2)).requires_grad_())
    raw = _nd_bytes(ts)
    got = _load(torch, raw, weights_only=True)
    for a, b in zip(ts, got):
        _same(a, b)
    for a, b in zip(ts, _load(ndgrad, raw)):     # and back into ndgrad
        _same(b, torch.from_numpy(a.detach().numpy().copy()).requires_grad_(a.requires_grad))


def test_views_to_torch_share_a_storage(torch):
    x = ndgrad.arange(12.0).reshape(3, 4)
    p = ndgrad.nn.Parameter(ndgrad.ones(2, 2))
    obj = {"x": x, "col": x[:, 1], "t": x.t(), "row": x[2], "p": p, "pv": p[0], "flip": ndgrad.flip(x, [0])}
    got = _load(torch, _nd_bytes(obj))
    for k in obj:
        _same(obj[k], got[k])
    assert got["col"].stride() == (4,) and got["col"].storage_offset() == 1 and got["t"].stride() == (1, 4)
    assert type(got["p"]) is torch.nn.Parameter
    got["x"][1, 1] = 100.0
    assert got["col"][1].item() == 100.0 and got["t"][1, 1].item() == 100.0
    got["p"].data[0, 0] = 5.0
    assert got["pv"][0].item() == 5.0
    # the same tensor object twice loads as one object
    a, b = _load(torch, _nd_bytes([x, x]))
    assert a is b


def test_containers_and_scalars_to_torch(torch):
    def build(lib):
        return {"od": collections.OrderedDict([("z", 1), ("a", 2)]), "nums": [2 ** 70, -0.0, 1 + 2j, True, None],
                "s": "é", "b": b"\x00x", "ba": bytearray(b"q"), "set": {3}, "dt": [lib.float64, lib.uint8],
                "dev": lib.device("cpu"), "size": lib.Size([4]), "t": (lib.tensor([1, 2]),)}
    got = _load(torch, _nd_bytes(build(ndgrad)))
    assert repr(got) == repr(build(torch))
    assert type(got["size"]) is torch.Size and got["dt"][0] is torch.float64


class _Custom:
    def __init__(self) -> None:
        self.n, self.w = 3, None


def test_save_is_unrestricted_loading_is_not(torch):
    """As torch: `save` pickles any object (a custom class, a whole module); `load` refuses every global outside
    the weights-only set with the same error, until the program lists it in `safe_globals`."""
    for lib in (ndgrad, torch):
        obj = _Custom()
        obj.w = lib.ones(2)
        raw = _torch_bytes(torch, obj) if lib is torch else _nd_bytes(obj)
        with pytest.raises(pickle.UnpicklingError) as e:
            _load(lib, raw)
        assert "_Custom" in _weights_line(e.value)
        with lib.serialization.safe_globals([_Custom]):
            back = _load(lib, raw)
        assert type(back) is _Custom and back.n == 3 and back.w.tolist() == [1.0, 1.0]
    # what pickle itself cannot write fails in both, with pickle's error class
    for lib in (ndgrad, torch):
        with pytest.raises((pickle.PicklingError, AttributeError)):
            (_torch_bytes(torch, {"f": lambda: 0}) if lib is torch else _nd_bytes({"f": lambda: 0}))


def test_a_whole_model_round_trips_under_safe_globals(tmp_path):
    """pytorch/examples' word_language_model: `torch.save(model, f)` of a Transformer, then `torch.load(f)` inside
    `torch.serialization.safe_globals([...])` naming the classes (and F.relu, which TransformerEncoderLayer keeps),
    by torch's module paths."""
    nn, F = ndgrad.nn, ndgrad.nn.functional
    ndgrad.manual_seed(0)
    model = nn.Sequential(nn.Embedding(10, 8), nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2),
                          nn.LSTM(8, 4), )
    ndgrad.save(model, tmp_path / "m.pt")
    with pytest.raises(pickle.UnpicklingError):
        ndgrad.load(tmp_path / "m.pt")
    allow = [F.relu, nn.modules.activation.MultiheadAttention, nn.modules.container.ModuleList,
             nn.modules.container.Sequential, nn.modules.dropout.Dropout, nn.modules.linear.Linear,
             nn.modules.linear.NonDynamicallyQuantizableLinear, nn.modules.normalization.LayerNorm,
             nn.modules.sparse.Embedding, nn.modules.transformer.TransformerEncoder,
             nn.modules.transformer.TransformerEncoderLayer, nn.modules.rnn.LSTM]
    with ndgrad.serialization.safe_globals(allow):
        back = ndgrad.load(tmp_path / "m.pt")
    assert type(back) is nn.Sequential and back[1].layers[0].activation is F.relu
    model.eval()
    back.eval()
    x = ndgrad.randint(0, 10, (5, 3))
    with ndgrad.no_grad():
        want = model[2](model[1](model[0](x)))[0]
        got = back[2](back[1](back[0](x)))[0]
    assert np.array_equal(got.numpy(), want.numpy())
    assert [k for k, _ in back.named_parameters()] == [k for k, _ in model.named_parameters()]


def test_whole_models_move_between_torch_and_ndgrad(torch):
    """A whole model saved by one loads in the other inside `safe_globals` of its own classes (ndgrad writes its
    classes under torch's names; a torch name finds the ndgrad class at the same path), and computes the same."""
    def build(lib):
        lib.manual_seed(0)
        nn = lib.nn
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2), nn.LayerNorm(2), nn.Dropout(0.1))

    def allow(lib):
        nn = lib.nn
        return [nn.Sequential, nn.Linear, nn.ReLU, nn.LayerNorm, nn.Dropout]
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    # recurrent layers too: their pickled state carries torch's _all_weights and _flat_weights
    for src, dst in ((torch, ndgrad), (ndgrad, torch)):
        for name in ("LSTM", "GRU", "RNN"):
            src.manual_seed(0)
            rnn = getattr(src.nn, name)(4, 3, num_layers=2, bidirectional=True)
            raw = _torch_bytes(torch, rnn) if src is torch else _nd_bytes(rnn)
            with dst.serialization.safe_globals([getattr(dst.nn, name)]):
                back = _load(dst, raw)
            seq = x.reshape(5, 1, 4)
            np.testing.assert_allclose(back(dst.from_numpy(seq))[0].detach().numpy(),
                                       rnn(src.from_numpy(seq))[0].detach().numpy(), rtol=1e-6, atol=1e-6)
    for src, dst in ((torch, ndgrad), (ndgrad, torch)):
        model = build(src)
        raw = _torch_bytes(torch, model) if src is torch else _nd_bytes(model)
        with pytest.raises(pickle.UnpicklingError):
            _load(dst, raw)
        with dst.serialization.safe_globals(allow(dst)):
            back = _load(dst, raw)
        assert type(back) is dst.nn.Sequential and type(back[0]) is dst.nn.Linear
        model.eval()
        back.eval()
        want = model(src.from_numpy(x)).detach().numpy()
        got = back(dst.from_numpy(x)).detach().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
        assert list(back.state_dict()) == list(model.state_dict())


def test_public_functions_pickle_by_name():
    # the argument-checking wrappers are found under the name they print (module, qualname)
    for f in (ndgrad.nn.functional.relu, ndgrad.add, ndgrad.linalg.inv, ndgrad.fft.fft, ndgrad.special.erf):
        assert pickle.loads(pickle.dumps(f)) is f


def test_numpy_arrays_follow_torch(torch):
    arr = np.arange(6.0).reshape(2, 3)
    for raw in (_nd_bytes({"a": arr}), _torch_bytes(torch, {"a": arr})):
        with pytest.raises(pickle.UnpicklingError) as want:
            _load(torch, raw)
        with pytest.raises(pickle.UnpicklingError) as got:
            _load(ndgrad, raw)
        assert _weights_line(got.value) == _weights_line(want.value)
        allow = [np._core.multiarray._reconstruct, np.ndarray, np.dtype, type(arr.dtype)]
        with torch.serialization.safe_globals(allow), ndgrad.serialization.safe_globals(allow):
            np.testing.assert_array_equal(_load(torch, raw)["a"], arr)
            np.testing.assert_array_equal(_load(ndgrad, raw)["a"], arr)
    # ndgrad's own format stores arrays without pickle and loads them by default
    out = _load(ndgrad, _nd_bytes({"a": arr, "s": np.float32(2.5)}, format="ndgrad"))
    np.testing.assert_array_equal(out["a"], arr) and out["s"].dtype == np.float32


def test_format_choice_and_default(tmp_path):
    assert _nd_bytes(1)[:4] == b"PK\x03\x04"                     # torch's zip format by default
    assert _nd_bytes(1, format="ndgrad")[:6] == b"NDGRAD"
    for fmt in ("torch", "ndgrad"):
        p = tmp_path / f"m.{fmt}"
        ndgrad.save({"w": ndgrad.ones(2)}, p, format=fmt)
        assert ndgrad.load(p)["w"].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="format"):
        ndgrad.save(1, io.BytesIO(), format="npz")
    with pytest.raises(NotImplementedError, match="legacy"):
        ndgrad.save(1, io.BytesIO(), _use_new_zipfile_serialization=False)


def test_records_are_aligned_like_torch(torch):
    raw = _nd_bytes({"a": ndgrad.ones(3), "b": ndgrad.zeros(5, dtype=ndgrad.int64)})
    zf = zipfile.ZipFile(io.BytesIO(raw))
    names = [i.filename for i in zf.infolist()]
    assert names[:4] == ["archive/data.pkl", "archive/.format_version", "archive/.storage_alignment",
                         "archive/byteorder"] and "archive/version" in names
    for info in zf.infolist():
        nlen, xlen = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
        assert (info.header_offset + 30 + nlen + xlen) % 64 == 0
    t = _load(torch, raw, mmap=False)
    assert t["b"].dtype == torch.int64


# -- model state, both ways ------------------------------------------------------------------------------
def _models(lib):
    lib.manual_seed(0)
    nn = lib.nn
    return {"linear": nn.Linear(4, 3), "conv": nn.Conv2d(2, 3, 3, padding=1), "bn": nn.BatchNorm2d(3),
            "lstm": nn.LSTM(4, 5, num_layers=2, batch_first=True), "emb": nn.Embedding(10, 4)}


def _inputs(lib):
    g = np.random.default_rng(0)
    return {"linear": lib.tensor(g.standard_normal((2, 4)), dtype=lib.float32),
            "conv": lib.tensor(g.standard_normal((2, 2, 5, 5)), dtype=lib.float32),
            "bn": lib.tensor(g.standard_normal((2, 3, 4, 4)), dtype=lib.float32),
            "lstm": lib.tensor(g.standard_normal((2, 3, 4)), dtype=lib.float32),
            "emb": lib.tensor([[1, 2, 9], [0, 0, 3]])}


def _out(model, x):
    y = model(x)
    return (y[0] if isinstance(y, tuple) else y).detach().numpy()


@pytest.mark.parametrize("kind", ["linear", "conv", "bn", "lstm", "emb"])
def test_model_state_round_trip(torch, kind):
    tm = _models(torch)[kind]
    if kind == "bn":                   # move the running statistics and num_batches_tracked off their defaults
        tm.train()
        tm(_inputs(torch)["bn"])
        tm(_inputs(torch)["bn"] * 2)
    tm.eval()
    sd = tm.state_dict()
    loaded = _load(ndgrad, _torch_bytes(torch, sd))
    assert list(loaded) == list(sd)
    for k in sd:
        _same(loaded[k], sd[k])
    nm = _models(ndgrad)[kind]
    nm.load_state_dict(loaded)
    nm.eval()
    with torch.no_grad(), ndgrad.no_grad():
        np.testing.assert_allclose(_out(nm, _inputs(ndgrad)[kind]), _out(tm, _inputs(torch)[kind]), rtol=1e-5, atol=1e-6)
    # ndgrad -> torch: its own state_dict, saved by ndgrad, loads into a fresh torch model: identical outputs
    back = _load(torch, _nd_bytes(nm.state_dict()))
    for k in sd:
        assert torch.equal(back[k], sd[k]) and back[k].dtype == sd[k].dtype
    tm2 = _models(torch)[kind]
    tm2.load_state_dict(back)
    tm2.eval()
    with torch.no_grad():
        np.testing.assert_array_equal(_out(tm2, _inputs(torch)[kind]), _out(tm, _inputs(torch)[kind]))


def test_transformer_layer_state_round_trip(torch):
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
    sd = layer.state_dict()
    back = _load(torch, _nd_bytes(_load(ndgrad, _torch_bytes(torch, sd))))
    assert list(back) == list(sd) and back._metadata == sd._metadata
    layer2 = torch.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
    layer2.load_state_dict(back)
    x = torch.randn(2, 3, 8)
    layer.eval(), layer2.eval()
    assert torch.equal(layer(x), layer2(x))


def test_optimizer_and_checkpoint_round_trip(torch):
    tm = _models(torch)["linear"]
    opt = torch.optim.Adam(tm.parameters(), lr=0.01)
    for _ in range(2):
        opt.zero_grad()
        tm(_inputs(torch)["linear"]).pow(2).sum().backward()
        opt.step()
    ckpt = {"epoch": 7, "name": "run-1", "loss": 0.25, "model": tm.state_dict(), "optim": opt.state_dict()}
    got = _load(ndgrad, _torch_bytes(torch, ckpt))
    assert got["epoch"] == 7 and got["name"] == "run-1" and got["loss"] == 0.25
    st = got["optim"]["state"][0]
    _same(st["step"], ckpt["optim"]["state"][0]["step"])
    _same(st["exp_avg_sq"], ckpt["optim"]["state"][0]["exp_avg_sq"])
    assert got["optim"]["param_groups"] == ckpt["optim"]["param_groups"]
    # resume in ndgrad: one more step on both sides gives the same weights
    nm = _models(ndgrad)["linear"]
    nm.load_state_dict(got["model"])
    nopt = ndgrad.optim.Adam(nm.parameters(), lr=0.01)
    nopt.load_state_dict(got["optim"])
    for lib, m, o in ((torch, tm, opt), (ndgrad, nm, nopt)):
        o.zero_grad()
        m(_inputs(lib)["linear"]).pow(2).sum().backward()
        o.step()
    np.testing.assert_allclose(nm.weight.detach().numpy(), tm.weight.detach().numpy(), rtol=1e-6)
    # and ndgrad's checkpoint goes back to torch
    back = _load(torch, _nd_bytes({"epoch": 8, "model": nm.state_dict(), "optim": nopt.state_dict()}))
    assert back["epoch"] == 8 and back["optim"]["state"][0]["step"].item() == 3.0
    assert back["optim"]["param_groups"][0]["betas"] == (0.9, 0.999)
    opt.load_state_dict(back["optim"])


# -- load options ------------------------------------------------------------------------------------------
def _with_location(raw, loc):
    zf = zipfile.ZipFile(io.BytesIO(raw))
    pkl = zf.read("archive/data.pkl")
    enc = loc.encode()
    pkl = pkl.replace(b"X\x03\x00\x00\x00cpu", b"X" + struct.pack("<I", len(enc)) + enc)
    return _zip_with(raw, replace={"archive/data.pkl": pkl})


def test_map_location_like_torch(torch):
    raw = _torch_bytes(torch, {"w": torch.ones(2)})
    cuda = _with_location(raw, "cuda:0")
    seen = []
    for lib in (torch, ndgrad):
        assert _load(lib, raw, map_location="cpu")["w"].tolist() == [1.0, 1.0]
        assert _load(lib, raw, map_location=lib.device("cpu"))["w"].tolist() == [1.0, 1.0]
        assert _load(lib, raw, map_location=lambda s, loc: seen.append(loc) or s)["w"].tolist() == [1.0, 1.0]
        assert _load(lib, cuda, map_location={"cuda:0": "cpu"})["w"].tolist() == [1.0, 1.0]
        assert _load(lib, cuda, map_location="cpu")["w"].tolist() == [1.0, 1.0]
    assert seen == ["cpu", "cpu"]
    for raw_, kw in ((raw, {"map_location": "cuda"}), (cuda, {}), (raw, {"map_location": {"cpu": "cuda:0"}})):
        with pytest.raises(RuntimeError) as want:
            _load(torch, raw_, **kw)
        with pytest.raises(RuntimeError) as got:
            _load(ndgrad, raw_, **kw)
        assert str(got.value) == str(want.value)


def test_mmap_and_weights_only_accepted(torch, tmp_path):
    p = tmp_path / "m.pt"
    x = torch.arange(4.0)
    torch.save({"w": x, "v": x[1:]}, p)
    for lib in (torch, ndgrad):
        out = lib.load(p, mmap=True)
        assert out["w"].tolist() == [0.0, 1.0, 2.0, 3.0] and out["v"].tolist() == [1.0, 2.0, 3.0]
        out["w"][1] = 9.0                  # copy-on-write: the views see it, the file does not
        assert out["v"][0].item() == 9.0
        assert lib.load(p, weights_only=False)["w"][1].item() == 1.0
    with pytest.raises(ValueError) as want:
        torch.load(io.BytesIO(p.read_bytes()), mmap=True)
    with pytest.raises(ValueError) as got:
        ndgrad.load(io.BytesIO(p.read_bytes()), mmap=True)
    assert str(got.value) == str(want.value)
    ndgrad.save({"w": ndgrad.ones(2)}, tmp_path / "n.pt")
    assert ndgrad.load(tmp_path / "n.pt", mmap=True)["w"].tolist() == [1.0, 1.0]


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y


def test_safe_globals_for_user_types(torch):
    raw = _torch_bytes(torch, {"pt": Point(1, torch.ones(1))})
    with pytest.raises(pickle.UnpicklingError) as want:
        _load(torch, raw)
    with pytest.raises(pickle.UnpicklingError) as got:
        _load(ndgrad, raw)
    assert _weights_line(got.value) == _weights_line(want.value)
    assert "GLOBAL test_torch_format.Point" in _weights_line(got.value) or "Point" in _weights_line(got.value)
    with ndgrad.serialization.safe_globals([Point]):
        assert Point in ndgrad.serialization.get_safe_globals()
        pt = _load(ndgrad, raw)["pt"]
        assert type(pt) is Point and pt.x == 1 and pt.y.tolist() == [1.0]
        ndgrad_raw = _nd_bytes({"pt": Point(2, 3)})
    assert Point not in ndgrad.serialization.get_safe_globals()
    with pytest.raises(pickle.UnpicklingError):
        _load(ndgrad, raw)
    with torch.serialization.safe_globals([Point]):
        assert _load(torch, ndgrad_raw)["pt"].x == 2
    ndgrad.serialization.add_safe_globals([Point])
    try:
        assert _load(ndgrad, raw)["pt"].x == 1
    finally:
        ndgrad.serialization.clear_safe_globals()


# -- hostile files -----------------------------------------------------------------------------------------
def _as_torch_zip(pkl: bytes, storages=None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("archive/data.pkl", pkl)
        zf.writestr("archive/byteorder", b"little")
        for k, v in (storages or {}).items():
            zf.writestr(f"archive/data/{k}", v)
        zf.writestr("archive/version", b"3\n")
    return out.getvalue()


def _refused(raw, torch=None, match="Unsupported global|is blocked"):
    if torch is not None:
        with pytest.raises(pickle.UnpicklingError) as want:
            _load(torch, raw)
    for kw in ({}, {"weights_only": False}):
        with pytest.raises(pickle.UnpicklingError, match=match) as got:
            _load(ndgrad, raw, **kw)
    if torch is not None:
        assert _weights_line(got.value) == _weights_line(want.value)
    return got.value


@pytest.fixture
def marker(tmp_path):
    m = tmp_path / "pwned"
    yield m
    assert not m.exists(), "a payload ran"


class _Call:
    def __init__(self, f, *args):
        self.f, self.args = f, args

    def __reduce__(self):
        return (self.f, self.args)


def _touch_cmd(marker):
    return f"touch {marker}"


@pytest.mark.parametrize("proto", [0, 2, 4])
def test_os_system_payload(torch, marker, proto):
    pkl = pickle.dumps(_Call(os.system, _touch_cmd(marker)), protocol=proto)
    for raw in (_as_torch_zip(pkl), pkl):          # in a zip archive and as a bare (legacy-looking) pickle
        e = _refused(raw, torch if proto == 2 else None)
        assert "system" in str(e)


def test_payloads_are_live(tmp_path):
    m = tmp_path / "live"
    pickle.loads(pickle.dumps(_Call(os.system, _touch_cmd(m)), protocol=2))
    assert m.exists()


def test_eval_payload(torch, marker):
    pkl = pickle.dumps(_Call(eval, f"__import__('os').system({_touch_cmd(marker)!r})"), protocol=2)
    e = _refused(_as_torch_zip(pkl), torch)
    assert "GLOBAL eval " in str(e)


def test_getattr_chain_payload(torch, marker):
    # builtins.getattr(builtins.__import__('os'), 'system')('touch ...'), written opcode by opcode
    cmd = _touch_cmd(marker).encode()
    pkl = (b"\x80\x02cbuiltins\ngetattr\ncbuiltins\n__import__\nX\x02\x00\x00\x00os\x85RX\x06\x00\x00\x00system\x86R"
           + b"X" + struct.pack("<I", len(cmd)) + cmd + b"\x85R.")
    e = _refused(_as_torch_zip(pkl), torch)
    assert "GLOBAL getattr " in str(e)


def test_reduce_payload_inside_a_state_dict(torch, marker):
    sd = torch.nn.Linear(2, 2).state_dict()
    sd["evil"] = _Call(os.system, _touch_cmd(marker))
    raw = _torch_bytes(torch, sd)
    e = _refused(raw, torch)
    assert "system" in str(e)


class Recorder:
    made = []

    def __init__(self, *a):
        Recorder.made.append(a)


def test_refused_before_any_object_is_built(marker):
    # a safe (allow-listed) constructor runs before the payload in the pickle: it must not run either
    pkl = pickle.dumps([_Call(Recorder, 1), _Call(os.system, _touch_cmd(marker))], protocol=2)
    Recorder.made.clear()
    with ndgrad.serialization.safe_globals([Recorder]):
        _refused(_as_torch_zip(pkl))
        assert Recorder.made == []
        ok = pickle.dumps([_Call(Recorder, 1)], protocol=2)
        _load(ndgrad, _as_torch_zip(ok))
        assert Recorder.made == [(1,)]


def test_stack_global_with_computed_operands_is_refused(marker):
    # STACK_GLOBAL whose module name is not a plain string pushed right before it
    pkl = b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x86\x94\x8c\x04join\x94\x93."
    _refused(_as_torch_zip(pkl), match="STACK_GLOBAL|Unsupported")


def test_build_and_newobj_outside_the_list_are_refused():
    # BUILD on a set (an allowed global) and NEWOBJ of a function are refused, as torch refuses them
    pkl = b"\x80\x02c__builtin__\nset\n)R}b."
    _refused(_as_torch_zip(pkl), match="Can only build")
    pkl = b"\x80\x02ccollections\nOrderedDict\n)\x81X\x01\x00\x00\x00aK\x01s."
    assert _load(ndgrad, _as_torch_zip(pkl)) == collections.OrderedDict(a=1)


def _tensor_pickle(offset=0, size=(3,), stride=(1,), numel=3, key="0", storage="FloatStorage"):
    buf = io.BytesIO()
    pid = ("storage", _Named("torch", storage), key, "cpu", numel)
    pkl = _Rebuild(pid, offset, size, stride)
    p = _HandPickler(buf)
    p.dump(pkl)
    return buf.getvalue()


class _Named:
    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self):        # (pickle wants reduce functions callable)
        raise AssertionError


class _Rebuild:
    def __init__(self, pid, offset, size, stride):
        self.args = (pid, offset, size, stride, False, collections.OrderedDict())


class _HandPickler(pickle._Pickler):
    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, f):
        super().__init__(f, protocol=2)

    def persistent_id(self, obj):
        return obj if isinstance(obj, tuple) and obj and obj[0] == "storage" else None

    def _named(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())

    dispatch[_Named] = _named

    def _rebuild(self, obj):
        self.save_reduce(_Named("torch._utils", "_rebuild_tensor_v2"), obj.args, obj=obj)

    dispatch[_Rebuild] = _rebuild


def test_hand_written_tensor_file_loads():
    raw = _as_torch_zip(_tensor_pickle(), {"0": np.arange(3, dtype="<f4").tobytes()})
    assert _load(ndgrad, raw).tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("kw, stored, match", [
    (dict(), 8, "truncated"),                                            # storage shorter than claimed
    (dict(offset=2, size=(3,)), 12, "reaches element"),                  # offset past the end
    (dict(size=(2, 3), stride=(3, 1)), 12, "reaches element"),           # strides past the end
    (dict(numel=2 ** 62), 12, "truncated|malformed"),                    # a size claim no file backs
    (dict(key="../../etc/passwd"), 12, "storage key"),                   # path tricks in the storage key
    (dict(key="1"), 12, "lacks the storage"),                            # a storage that is not there
    (dict(storage="QInt8Storage"), 12, "Unsupported global"),           # a storage class torch lacks
])
def test_malformed_tensors_are_refused(kw, stored, match):
    raw = _as_torch_zip(_tensor_pickle(**kw), {"0": bytes(stored)})
    with pytest.raises((LoadError, pickle.UnpicklingError), match=match):
        _load(ndgrad, raw)


def test_zip_bomb_size_claims_are_refused():
    # a record that inflates to far more than the storage it should be: refused without inflating it
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", _tensor_pickle())
        zf.writestr("archive/data/0", bytes(50 << 20))                  # 50 MB of zeros, ~50 kB compressed
    raw = out.getvalue()
    assert len(raw) < 1 << 20
    with pytest.raises(LoadError, match="truncated or malformed"):
        _load(ndgrad, raw)
    # a central directory that lies about the size: the reader stops at the expected size
    lied = bytearray(raw)
    start = raw.index(b"archive/data/0", raw.index(b"PK\x01\x02")) - 46
    struct.pack_into("<I", lied, start + 24, 12)                         # uncompressed size: 12
    with pytest.raises(LoadError):
        _load(ndgrad, bytes(lied))


@pytest.mark.parametrize("name", ["../archive/data.pkl", "/archive/data.pkl", "archive/../../x/data.pkl",
                                  "archive\\..\\data.pkl", "C:/archive/data.pkl"])
def test_path_tricks_in_member_names(tmp_path, name):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps(1, protocol=2))
        zi = zipfile.ZipInfo("x")
        zi.filename = name                   # (ZipInfo would normalise the name; set it raw)
        zf.writestr(zi, b"evil")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with pytest.raises(LoadError, match="plain relative path"):
            _load(ndgrad, out.getvalue())
    finally:
        os.chdir(cwd)
    assert list(tmp_path.iterdir()) == []


def test_broken_archives(torch):
    raw = _torch_bytes(torch, {"w": torch.ones(4)})
    for bad in (raw[: len(raw) // 2], raw[:-10], b"PK\x03\x04" + bytes(100)):
        with pytest.raises(LoadError):
            _load(ndgrad, bad)
    with pytest.raises(LoadError, match="data.pkl"):
        _load(ndgrad, _zip_with(raw, drop=("archive/data.pkl",)))
    with pytest.raises(LoadError, match="byteorder"):
        _load(ndgrad, _zip_with(raw, replace={"archive/byteorder": b"middle"}))
    with pytest.raises(LoadError, match="version"):
        _load(ndgrad, _zip_with(raw, replace={"archive/version": b"99\n"}))
    assert _load(ndgrad, _zip_with(raw, drop=("archive/byteorder",)))["w"].tolist() == [1.0] * 4


def test_big_endian_storages():
    data = np.arange(3, dtype=">f4").tobytes()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("archive/data.pkl", _tensor_pickle())
        zf.writestr("archive/byteorder", b"big")
        zf.writestr("archive/data/0", data)
    assert _load(ndgrad, out.getvalue()).tolist() == [0.0, 1.0, 2.0]


def test_missing_dtype_is_a_clear_error(torch):
    raw = _torch_bytes(torch, {"d": torch.float8_e5m2})
    if "float8_e5m2" not in ndgrad._dtype._NAMES:
        with pytest.raises(LoadError, match="float8_e5m2"):
            _load(ndgrad, _torch_bytes(torch, torch.zeros(2, dtype=torch.float8_e5m2)))
    _load(ndgrad, raw)          # naming the dtype is fine; a tensor of it is what ndgrad cannot hold


@pytest.mark.parametrize("fmt", ["torch", "ndgrad"])
def test_what_programs_save_in_both_formats(fmt):
    model = ndgrad.nn.Linear(3, 2)
    opt = ndgrad.optim.Adam(model.parameters(), lr=0.1)
    model(ndgrad.ones(4, 3)).sum().backward()
    opt.step()
    obj = {"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3, "name": "run", "best": 0.25,
           "arr": np.arange(4.0), "shape": ndgrad.Size([2, 3]), "dtype": ndgrad.float64, "dev": ndgrad.device("cpu"),
           "raw": b"\x00\x01", "none": None, "nested": [(1, {"a": [2.5]})],
           "od": collections.OrderedDict(b=1, a=2)}
    raw = _nd_bytes(obj, format=fmt)
    if fmt == "torch":             # NumPy arrays in PyTorch's format need the NumPy globals, as in torch
        allow = [np._core.multiarray._reconstruct, np.ndarray, np.dtype, type(np.arange(1.0).dtype)]
        with ndgrad.serialization.safe_globals(allow):
            got = _load(ndgrad, raw)
    else:
        got = _load(ndgrad, raw)
    assert repr({k: v for k, v in got.items() if k != "arr"}) == repr({k: v for k, v in obj.items() if k != "arr"})
    np.testing.assert_array_equal(got["arr"], obj["arr"])
    model2 = ndgrad.nn.Linear(3, 2)
    model2.load_state_dict(got["model"])
    opt2 = ndgrad.optim.Adam(model2.parameters(), lr=0.1)
    opt2.load_state_dict(got["optim"])
    assert opt2.state_dict()["state"][0]["step"].item() == 1.0
