"""torch.range (deprecated, still in published programs), dropout2d's 3-D input, and warnings that point at the
caller's line through the argument-checking stubs (ndgrad/_warn.py)."""
from __future__ import annotations

import warnings

import pytest

import ndgrad

RANGES = [((0, 3), {}), ((1, 2, 0.5), {}), ((0, 3), {"dtype": "int64"}), ((5, 1, -2), {}), ((0, 1, 0.3), {}),
          ((0.1, 0.9, 0.2), {}), ((0, 3), {"requires_grad": True}), ((-2, 2), {"dtype": "float64"}), ((2, 2), {})]


@pytest.mark.parametrize("args,kw", RANGES)
def test_range_like_torch(args, kw, torch):
    out = []
    for lib in (ndgrad, torch):
        k = {n: getattr(lib, v) if n == "dtype" else v for n, v in kw.items()}
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            r = lib.range(*args, **k)
        out.append((r.detach().numpy().tolist(), str(r.dtype).split(".")[-1], r.requires_grad,
                    [(x.category, str(x.message)) for x in w]))
    assert out[0] == out[1]


@pytest.mark.parametrize("args", [(0, 3, 0), (3, 0), (3,), ("a", 3)])
def test_range_errors_like_torch(args, torch):
    got = []
    for lib in (ndgrad, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises((RuntimeError, TypeError)) as e:
                lib.range(*args)
        got.append((e.type, str(e.value)))
    assert got[0] == got[1]


def test_dropout2d_takes_a_3d_input_as_batched_1d_like_torch(torch):
    got = []
    for lib in (ndgrad, torch):
        lib.manual_seed(0)
        x = lib.ones(3, 4, 5)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            a = lib.nn.functional.dropout2d(x, 0.5)
            b = lib.nn.Dropout2d(0.4)(x)
        got.append((a.numpy().tolist(), b.numpy().tolist(), [str(x.message) for x in w]))
    assert got[0] == got[1]
    assert "interpreted as shape (N, C, L)" in got[0][2][0]


def _warned_at(f):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f()
    assert len(w) == 1, [str(x.message) for x in w]
    return w[0].filename


@pytest.mark.parametrize("name", ["log_softmax", "softmax", "softmin", "range", "mse_loss", "upsample", "tensor"])
def test_warnings_point_at_the_callers_line_through_the_argument_check(name):
    """A public function's argument-checking stub is one frame more than torch's bindings: a warning for the user's
    line must still point there, on the first call (which builds the stub) and on later ones."""
    F = ndgrad.nn.functional
    x = ndgrad.zeros(2, 3)
    calls = {"log_softmax": lambda: F.log_softmax(x), "softmax": lambda: F.softmax(x),
             "softmin": lambda: F.softmin(x), "range": lambda: ndgrad.range(0, 2),
             "mse_loss": lambda: F.mse_loss(x, ndgrad.zeros(3)),
             "upsample": lambda: F.upsample(ndgrad.zeros(1, 1, 2, 2), scale_factor=2),
             "tensor": lambda: ndgrad.tensor(x)}
    assert _warned_at(calls[name]) == __file__
    assert _warned_at(calls[name]) == __file__


def test_pin_memory_warns_at_each_epoch_as_torch_without_an_accelerator(torch):
    """minGPT's trainer asks for pin_memory=True: torch, on a machine without an accelerator, warns at each epoch."""
    got = []
    for lib in (ndgrad, torch):
        DataLoader = lib.utils.data.DataLoader
        seen = []
        for kw in ({"pin_memory": True}, {"pin_memory": True, "pin_memory_device": "cpu"}, {}):
            loader = DataLoader(list(range(4)), batch_size=2, **kw)
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                batches = [b.tolist() for b in loader] + [b.tolist() for b in loader]
            seen.append((batches, [(x.category, str(x.message)) for x in w]))
        got.append(seen)
    assert got[0] == got[1]


# -- "Creating a tensor from a list of numpy.ndarrays is extremely slow" (torch warns once per process) ------------
# (each case checked against torch 2.13 in a fresh process: torch's warning fires once, so one process per case)
ARRAY_LISTS = [
    ("tensor", "[np.ones(3), np.ones(3)]", {}, True),
    ("tensor", "(np.ones(2), np.ones(2))", {}, True),
    ("tensor", "[[np.ones(2)], [np.ones(2)]]", {}, True),
    ("tensor", "[[1.0, 2.0], np.ones(2)]", {}, True),      # not the first element: torch still sees it
    ("tensor", "[np.ones(2)]", {"dtype": "int64"}, True),
    ("tensor", "[np.ones(2)]", {"dtype": "float32"}, True),
    ("as_tensor", "[np.ones(3), np.ones(3)]", {}, True),
    ("FloatTensor", "[np.ones(3), np.ones(3)]", {}, True),
    ("Tensor", "[np.ones(3), np.ones(3)]", {}, True),
    ("tensor", "[np.float32(1), np.float32(2)]", {}, False),  # NumPy scalars are not arrays
    ("tensor", "[np.ones(0), np.ones(0)]", {}, False),        # nothing to store
    ("tensor", "[np.ones((2, 0))]", {}, False),
    ("tensor", "np.ones(3)", {}, False),
    ("tensor", "[[1.0, 2.0], [3.0, 4.0]]", {}, False),
]


@pytest.mark.parametrize("fn,data,kw,warns", ARRAY_LISTS)
def test_list_of_arrays_warns_as_torch(fn, data, kw, warns, monkeypatch):
    import numpy as np
    from ndgrad import _creation
    monkeypatch.setattr(_creation, "_arrays_warned", [False])
    k = {n: getattr(ndgrad, v) for n, v in kw.items()}
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        getattr(ndgrad, fn)(eval(data, {"np": np}), **k)  # noqa: S307  (the table's own expressions)
    got = [x for x in w if "list of numpy.ndarrays" in str(x.message)]
    assert len(got) == warns
    if warns:
        assert got[0].filename == __file__  # the caller's line, however deep inside the warning is raised


def test_list_of_arrays_warning_text_and_once_per_process_like_torch(torch, tmp_path):
    import subprocess
    import sys
    prog = ("import sys, warnings, numpy as np\n"
            "warnings.simplefilter('always')\n"
            "lib = __import__(sys.argv[1])\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    lib.tensor([np.ones(0)])\n"
            "    lib.tensor([np.ones(2), np.ones(2)])\n"
            "    lib.tensor([np.ones(2), np.ones(2)])\n"
            "print([(x.category.__name__, str(x.message), x.lineno) for x in w])\n")
    f = tmp_path / "prog.py"
    f.write_text(prog)
    out = [subprocess.run([sys.executable, str(f), lib], capture_output=True, text=True, check=True).stdout
           for lib in ("ndgrad", "torch")]
    assert "list of numpy.ndarrays" in out[1] and out[0] == out[1]


def test_rnn_dropout_warning_points_where_torchs_does(torch):
    # torch warns from RNNBase.__init__ with stacklevel 2: at the subclass's super().__init__ line for RNN, LSTM
    # and GRU (so Python's default filter shows it once per class however many layers a program makes), at the
    # caller's line for RNNBase itself
    def where(lib):
        out = []
        for make in (lambda: lib.nn.RNN(3, 4, dropout=0.5), lambda: lib.nn.LSTM(3, 4, dropout=0.5),
                     lambda: lib.nn.GRU(3, 4, dropout=0.5), lambda: lib.nn.RNNBase("LSTM", 3, 4, dropout=0.5)):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                make()
            assert len(w) == 1
            f = w[0].filename
            out.append("caller" if f == __file__ else f"{lib.__name__}/nn/modules/rnn.py" if
                       f.endswith("nn/modules/rnn.py") else f)
        return out
    assert where(ndgrad) == [s.replace("torch/", "ndgrad/") for s in where(torch)]
