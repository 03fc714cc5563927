"""ndgrad._format must reproduce torch's tensor repr character for character; torch is the oracle."""
from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ndgrad._format import format_tensor, get_printoptions, set_printoptions  # noqa: E402

_HIDDEN = ("float32", "int64", "bool", "complex64")  # torch's defaults when float32 is the default dtype
nan, inf = math.nan, math.inf


def _ours(t, *, prefix="tensor("):
    """Format a torch tensor through ndgrad, deriving dtype/extras the way a caller would."""
    name = str(t.dtype).removeprefix("torch.")
    extras = []
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return format_tensor(t.detach().numpy(), dtype_name=name, show_dtype=name not in _HIDDEN,
                         extras=extras, prefix=prefix)


def _rng(seed):
    return np.random.default_rng(seed)


def _rand(shape, dtype, seed=0, scale=1.0):
    r = _rng(seed)
    if dtype == torch.bool:
        return torch.as_tensor(np.asarray(r.random(shape) > 0.5))
    if dtype in (torch.complex64, torch.complex128):
        a = (r.standard_normal(shape) + 1j * r.standard_normal(shape)) * scale
        return torch.as_tensor(np.asarray(a)).to(dtype)
    if dtype.is_floating_point:
        return torch.as_tensor(np.asarray(r.standard_normal(shape) * scale)).to(dtype)
    info = torch.iinfo(dtype)
    lo, hi = max(info.min, -1000), min(info.max, 1000)
    return torch.as_tensor(np.asarray(r.integers(lo, hi, size=shape))).to(dtype)


def _grad(t):
    return t.clone().requires_grad_(True)


F16, F32, F64 = torch.float16, torch.float32, torch.float64
C64, C128 = torch.complex64, torch.complex128
INTS = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)

CASES = {
    # from the spec
    "grad_one": lambda: torch.tensor([15.0], requires_grad=True),
    "scalar_mean_grad_fn": lambda: torch.tensor([3.0, 4.0], requires_grad=True).mean(),
    "fixed": lambda: torch.tensor([0.1, 0.25]),
    "sci_small": lambda: torch.tensor([1e-5, 1.0]),
    "scalar_f64_grad": lambda: torch.tensor(2.5, dtype=F64, requires_grad=True),
    "matrix_int_mode": lambda: torch.tensor([[1.0, 2.0], [3.0, 4.0]]),
    "bool_pair": lambda: torch.tensor([True, False]),
    "empty": lambda: torch.tensor([]),
    "nan_inf": lambda: torch.tensor([nan, inf, -1.0]),
    "empty_0x3": lambda: torch.zeros(0, 3),
    "empty_2x0": lambda: torch.zeros(2, 0),
    "empty_f64": lambda: torch.zeros(0, dtype=F64),
    "empty_int64": lambda: torch.zeros(0, dtype=torch.int64),
    "empty_int32_2x0": lambda: torch.zeros(2, 0, dtype=torch.int32),
    "empty_bool": lambda: torch.zeros(0, dtype=torch.bool),
    "empty_c64": lambda: torch.zeros(0, dtype=C64),
    "empty_3d_grad": lambda: torch.zeros(1, 0, 2, requires_grad=True),
    "int_padding": lambda: torch.tensor([1, -20, 3]),
    # floats: modes, widths and special values
    "all_zero": lambda: torch.zeros(4),
    "only_nan": lambda: torch.tensor([nan, nan]),
    "only_inf": lambda: torch.tensor([inf, -inf, 0.0]),
    "nan_fixed": lambda: torch.tensor([nan, 0.5, -inf]),
    "nan_sci": lambda: torch.tensor([nan, 1e-7, inf, 3.0]),
    "neg_zero": lambda: torch.tensor([-0.0, 1.5]),
    "neg_zero_int_mode": lambda: torch.tensor([-0.0, 2.0]),
    "neg_zero_scalar": lambda: torch.tensor(-0.0),
    "scalar_int_mode": lambda: torch.tensor(7.0),
    "scalar_neg": lambda: torch.tensor(-3.25),
    "scalar_nan": lambda: torch.tensor(nan),
    "scalar_sci": lambda: torch.tensor(1.5e10),
    "scalar_tiny": lambda: torch.tensor(3e-6),
    "scalar_int": lambda: torch.tensor(42),
    "scalar_bool": lambda: torch.tensor(False),
    "scalar_uint8": lambda: torch.tensor(200, dtype=torch.uint8),
    "big_int_mode_sci": lambda: torch.tensor([1.0, 2e8]),
    "int_mode_ratio_sci": lambda: torch.tensor([1.0, 5000.0]),
    "int_mode_wide": lambda: torch.tensor([1.0, 999.0, -100.0]),
    "ratio_exactly_1000": lambda: torch.tensor([0.5, 500.0]),
    "ratio_over_1000": lambda: torch.tensor([0.5, 500.5]),
    "rounding_carry": lambda: torch.tensor([9.99999, 0.5]),
    "huge_exponent": lambda: torch.tensor([1e-300, 1e300], dtype=F64),
    "subnormal": lambda: torch.tensor([1e-320, 1.0], dtype=F64),
    "f32_inexact": lambda: torch.tensor([0.1, 0.2, 0.3]),
    "f64_values": lambda: torch.tensor([1.0 / 3, 2.0 / 3], dtype=F64),
    "f16_values": lambda: torch.tensor([0.1, 65504.0, -2.5], dtype=F16),
    "f16_int_mode": lambda: torch.tensor([1.0, 2.0, 3.0], dtype=F16),
    "f16_nan": lambda: torch.tensor([nan, 1.0], dtype=F16),
    "magnitudes": lambda: torch.tensor([1e-8, 1e-4, 1.0, 1e4, 1e8]),
    "magnitudes_f64": lambda: torch.tensor([[1e-3, 12.5], [3e5, -7e-2]], dtype=F64),
    "logspace": lambda: torch.logspace(-10, 10, 9),
    "linspace": lambda: torch.linspace(-1, 1, 11),
    "linspace_grad": lambda: torch.linspace(0, 2, 5, requires_grad=True),
    "arange_float": lambda: torch.arange(10.0),
    # integers and bools
    "int_extremes_i64": lambda: torch.tensor([torch.iinfo(torch.int64).min, 0, 5]),
    "int_extremes_i8": lambda: torch.tensor([-128, 0, 127], dtype=torch.int8),
    "uint8_range": lambda: torch.arange(0, 256, 51, dtype=torch.uint8),
    "int16_matrix": lambda: torch.tensor([[1, -2], [300, 4]], dtype=torch.int16),
    "int32_scalar": lambda: torch.tensor(-5, dtype=torch.int32),
    "bool_all_true": lambda: torch.tensor([True, True]),
    "bool_matrix": lambda: torch.tensor([[True, False], [False, False]]),
    # complex
    "complex_int_mode": lambda: torch.tensor([1 + 2j, 3 - 4j]),
    "complex128": lambda: torch.tensor([1 + 2j, 3 - 4j], dtype=C128),
    "complex_fixed": lambda: torch.tensor([0.5 + 0.25j, -1.5 - 0.125j]),
    "complex_neg_zero_imag": lambda: torch.tensor([complex(1.5, -0.0), complex(nan, 1.0)]),
    "complex_sci": lambda: torch.tensor([1e-6 + 1j, 1e6 - 2j], dtype=C128),
    "complex_scalar": lambda: torch.tensor(2 - 3.5j),
    "complex_inf": lambda: torch.tensor([complex(inf, -inf), 1 + 1j]),
    "complex_grad": lambda: torch.tensor([1 + 1j, 2 - 1j], requires_grad=True),
    # n-d layout
    "3d": lambda: torch.arange(24.0).reshape(2, 3, 4),
    "4d": lambda: torch.arange(16).reshape(2, 2, 2, 2),
    "3d_f64_grad": lambda: _grad(torch.arange(12.0, dtype=F64).reshape(2, 3, 2) / 7),
    "5d_single": lambda: torch.ones(1, 1, 1, 1, 1),
    "column": lambda: torch.arange(5.0).reshape(5, 1) - 2,
    # grad_fn names
    "grad_fn_add": lambda: torch.tensor([1.0, 2.0], requires_grad=True) + 1,
    "grad_fn_matmul": lambda: torch.ones(2, 3, requires_grad=True) @ torch.ones(3, 2),
    "grad_fn_f64_sum": lambda: torch.ones(3, dtype=F64, requires_grad=True).sum(),
    # wrapping
    "wide_1d": lambda: torch.linspace(0, 1, 40),
    "wide_int_1d": lambda: torch.arange(100),
    "wide_2d": lambda: _rand((3, 30), F32, 1),
    "wide_complex": lambda: _rand((20,), C64, 2),
    "wide_wrap_suffix": lambda: _grad(_rand((14,), F64, 3)),
    "long_suffix": lambda: torch.tensor([123456.0, 2.5, 3.0, 4.0, 5.0, 6.0], dtype=F64, requires_grad=True) * 2,
    # summarisation
    "summ_1d": lambda: torch.arange(2000.0),
    "summ_1d_int": lambda: torch.arange(5000),
    "summ_2d": lambda: _rand((100, 100), F32, 4),
    "summ_2d_tall": lambda: _rand((2000, 2), F64, 5),
    "summ_3d": lambda: _rand((10, 20, 30), F32, 6),
    "summ_bool": lambda: _rand((40, 40), torch.bool, 7),
    "summ_complex": lambda: _rand((1500,), C128, 8),
    "summ_hidden_outlier": lambda: torch.cat([torch.ones(3), torch.full((1000,), 1e9), torch.ones(3) * 2]),
    "summ_grad": lambda: torch.zeros(30, 40, requires_grad=True),
}

# Random arrays of every dtype across several shapes.
for _i, _dt in enumerate((F16, F32, F64, C64, C128, torch.bool) + INTS):
    for _j, _shape in enumerate([(), (7,), (3, 4), (2, 3, 4)]):
        CASES[f"rand_{str(_dt)[6:]}_{len(_shape)}d"] = (
            lambda dt=_dt, shape=_shape, seed=10 * _i + _j: _rand(shape, dt, seed))
    CASES[f"rand_{str(_dt)[6:]}_large"] = lambda dt=_dt, seed=_i: _rand((50, 60), dt, 100 + seed)
for _k, _scale in enumerate((1e-6, 1e-3, 10.0, 1e5, 1e9)):
    CASES[f"rand_scale_{_scale:g}"] = lambda s=_scale, k=_k: _rand((4, 5), F32, 200 + k, s)


@pytest.fixture
def printopts():
    """Yield a setter applying options to both torch and ndgrad; restore defaults afterwards."""
    def apply(**kw):
        torch.set_printoptions(**kw)
        set_printoptions(**kw)
    try:
        yield apply
    finally:
        torch.set_printoptions(profile="default")
        set_printoptions(profile="default")


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch_repr(name):
    t = CASES[name]()
    assert _ours(t) == repr(t)


def test_case_count():
    assert len(CASES) >= 80


@pytest.mark.parametrize("name", ["fixed", "3d", "wide_1d", "summ_2d", "complex128", "scalar_f64_grad"])
def test_str_equals_repr(name):
    t = CASES[name]()
    assert _ours(t) == str(t)


@pytest.mark.parametrize("name", ["grad_one", "wide_2d", "3d_f64_grad"])
def test_parameter_prefix(name):
    p = torch.nn.Parameter(CASES[name]().detach())
    assert _ours(p, prefix="Parameter containing:\ntensor(") == repr(p)


def test_defaults():
    assert get_printoptions() == {"precision": 4, "threshold": 1000, "edgeitems": 3,
                                  "linewidth": 80, "sci_mode": None}


OPTION_SETS = [
    {"precision": 2},
    {"precision": 8},
    {"precision": 0},
    {"threshold": 5},
    {"threshold": 5, "edgeitems": 1},
    {"threshold": 5, "edgeitems": 0},
    {"edgeitems": 0},
    {"threshold": 0},
    {"linewidth": 40},
    {"linewidth": 120},
    {"linewidth": 1},
    {"sci_mode": True},
    {"sci_mode": False},
    {"profile": "short"},
    {"profile": "full"},
    {"profile": "short", "precision": 6, "linewidth": 50},
]
OPTION_CASES = ["fixed", "sci_small", "nan_inf", "matrix_int_mode", "int_padding", "bool_pair", "empty",
                "empty_0x3", "scalar_f64_grad", "scalar_int", "complex_fixed", "complex_sci", "3d",
                "magnitudes", "big_int_mode_sci", "wide_1d", "wide_2d", "summ_1d", "summ_2d", "summ_3d",
                "summ_complex", "long_suffix", "all_zero", "neg_zero"]


@pytest.mark.parametrize("opts", OPTION_SETS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
@pytest.mark.parametrize("name", OPTION_CASES)
def test_printoptions_match_torch(printopts, opts, name):
    printopts(**opts)
    t = CASES[name]()
    assert _ours(t) == repr(t)


def test_profiles_and_sci_mode_reset(printopts):
    printopts(profile="short")
    assert get_printoptions() == {"precision": 2, "threshold": 1000, "edgeitems": 2,
                                  "linewidth": 80, "sci_mode": None}
    printopts(profile="full", precision=6)
    assert get_printoptions()["threshold"] == math.inf and get_printoptions()["precision"] == 6
    printopts(sci_mode=True)
    assert get_printoptions()["sci_mode"] is True
    # Like torch, a later call that omits sci_mode switches back to automatic.
    printopts(precision=3)
    assert get_printoptions()["sci_mode"] is None and get_printoptions()["precision"] == 3
    printopts(profile="default")
    assert get_printoptions()["precision"] == 4


def test_full_profile_prints_everything(printopts):
    printopts(profile="full")
    t = torch.arange(1500.0).reshape(30, 50)
    out = _ours(t)
    assert "..." not in out and out == repr(t)


def test_get_printoptions_is_a_copy():
    opts = get_printoptions()
    opts["precision"] = 99
    assert get_printoptions()["precision"] == 4


def test_unknown_profile_rejected():
    with pytest.raises(ValueError):
        set_printoptions(profile="bogus")


def test_default_float64_convention():
    # When a caller's default dtype is float64, float32 gets shown and float64/complex128 hidden.
    prev = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        for t in (torch.tensor([1.5, 2.0]), torch.tensor([1.5], dtype=F32), torch.tensor([1 + 1j]),
                  torch.tensor([1 + 1j], dtype=C64), torch.zeros(0), torch.zeros(0, dtype=F32),
                  torch.zeros(0, dtype=C128)):
            name = str(t.dtype)[6:]
            show = name not in ("float64", "int64", "bool", "complex128")
            assert format_tensor(t.numpy(), dtype_name=name, show_dtype=show) == repr(t)
    finally:
        torch.set_default_dtype(prev)


def test_module_does_not_import_torch():
    import ast
    import ndgrad._format as mod
    import pathlib
    tree = ast.parse(pathlib.Path(mod.__file__).read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert names <= {"__future__", "math", "collections", "typing", "numpy"}


_FUZZ_DTYPES = (torch.bool, *INTS, F16, F32, F64, C64, C128)
_FUZZ_OPTS = {"precision": [0, 2, 6], "threshold": [0, 5, 50], "edgeitems": [0, 1, 2],
              "linewidth": [1, 30, 120], "sci_mode": [True, False], "profile": ["short", "full"]}


def _fuzz_float(r, shape):
    base = r.standard_normal(shape) * 10.0 ** r.integers(-12, 12, size=shape)
    if r.random() < 0.5:
        base = np.round(base)
    m = r.random(shape)
    with np.errstate(invalid="ignore"):
        specials = np.select([m < 0.05, m < 0.1, m < 0.15], [np.nan, np.inf * np.sign(base), -0.0], base)
    return specials


@pytest.mark.parametrize("seed", range(4))
def test_random_fuzz(printopts, seed):
    r = _rng(1000 + seed)
    for _ in range(150):
        opts = {k: v[r.integers(len(v))] for k, v in _FUZZ_OPTS.items() if r.random() < 0.25}
        printopts(profile="default")
        printopts(**opts)
        shape = tuple(int(s) for s in r.integers(0, 6, size=r.integers(0, 5)))
        dt = _FUZZ_DTYPES[r.integers(len(_FUZZ_DTYPES))]
        if dt == torch.bool:
            a = r.random(shape) > 0.5
        elif dt in INTS:
            info = torch.iinfo(dt)
            a = r.integers(info.min, info.max, size=shape, endpoint=True)
        else:
            a = _fuzz_float(r, shape)
            if dt.is_complex:
                # complex() rather than a + 1j*b, which would turn inf parts into nan.
                a = np.vectorize(complex, otypes=[np.complex128])(a, _fuzz_float(r, shape))
        with np.errstate(all="ignore"):
            t = torch.as_tensor(np.asarray(a)).to(dt)
        if dt.is_floating_point and r.random() < 0.3:
            t.requires_grad_(True)
        assert _ours(t) == repr(t), (opts, shape, dt)
