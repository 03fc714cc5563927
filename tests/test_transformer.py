"""Attention and the Transformer family compared with PyTorch from torch's own initial weights (loaded through
state_dict as NumPy arrays): scaled_dot_product_attention's errors and dropout, MultiheadAttention's options on
both of torch's paths, the encoder/decoder layers, stacks and the full Transformer (outputs, input and every
parameter gradient, float64 and float32, eval and train mode), RMSNorm, and a small GPT trained side by side."""
from __future__ import annotations

import importlib
import math
import warnings

import numpy as np
import pytest

import ndgrad
from ndgrad.autograd import gradcheck, gradgradcheck
from opinfo import build
from opinfo_attention import _errors as sdpa_errors
from torchcmp import outcome, raises_like_torch

F = ndgrad.nn.functional
RNG = np.random.default_rng(7)
TOL = {"float64": dict(rtol=1e-8, atol=1e-10), "float32": dict(rtol=2e-4, atol=2e-5)}


# -- helpers ---------------------------------------------------------------------------------------------------
def _load(tm, nm):
    """Copy torch's parameters and buffers into ndgrad's module through state_dict, as NumPy arrays."""
    assert list(tm.state_dict()) == list(nm.state_dict())
    nm.load_state_dict({k: ndgrad.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


def _pair(torch, make, dtype="float64", train=False):
    torch.manual_seed(0)
    tm = make(torch, getattr(torch, dtype))
    nm = make(ndgrad, getattr(ndgrad, dtype))
    _load(tm, nm)
    for m in (tm, nm):
        m.train(train)
    return tm, nm


def _as(lib, v, grad=False):
    if isinstance(v, np.ndarray):
        return lib.tensor(v, requires_grad=grad and v.dtype.kind == "f")
    return v


def _run_and_compare(torch, tm, nm, inputs, kwargs, dtype="float64", grad_inputs=True):
    """Outputs, input gradients and every parameter gradient agree (loss: sum(out · fixed weights))."""
    tol = TOL[dtype]
    ins = [a.astype(dtype) if a.dtype.kind == "f" else a for a in inputs]
    t_in = [_as(torch, a, grad_inputs) for a in ins]
    n_in = [_as(ndgrad, a, grad_inputs) for a in ins]
    kwargs = {k: v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
              for k, v in kwargs.items()}
    tk = {k: _as(torch, v) for k, v in kwargs.items()}
    nk = {k: _as(ndgrad, v) for k, v in kwargs.items()}
    to, no = tm(*t_in, **tk), nm(*n_in, **nk)
    if isinstance(to, tuple):
        assert (to[1] is None) == (no[1] is None)
        if to[1] is not None:
            np.testing.assert_allclose(no[1].detach().numpy(), to[1].detach().numpy(), **tol)
        to, no = to[0], no[0]
    assert str(no.dtype) == str(to.dtype) and tuple(no.shape) == tuple(to.shape)
    np.testing.assert_allclose(no.detach().numpy(), to.detach().numpy(), **tol)
    w = RNG.uniform(0.5, 1.5, tuple(to.shape)).astype(dtype)
    (to * torch.tensor(w)).sum().backward()
    (no * ndgrad.tensor(w)).sum().backward()
    for a, b in zip(t_in, n_in):
        if isinstance(a, torch.Tensor) and a.requires_grad:
            np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), **tol)
    tp, npar = dict(tm.named_parameters()), dict(nm.named_parameters())
    assert list(tp) == list(npar)
    for k in tp:
        if tp[k].grad is None:
            assert npar[k].grad is None, k
            continue
        np.testing.assert_allclose(npar[k].grad.numpy(), tp[k].grad.numpy(), err_msg=k, **tol)


def _x(*shape):
    return RNG.standard_normal(shape)


# -- scaled_dot_product_attention ------------------------------------------------------------------------------
@pytest.mark.parametrize("k", range(len(sdpa_errors())))
def test_sdpa_error_messages_match_torch(torch, k):
    e_nd, e_t = sdpa_errors()[k], sdpa_errors()[k]
    calls = {ndgrad: (build(e_nd.args, ndgrad, grad=False), e_nd.kwargs),
             torch: (build(e_t.args, torch, grad=False), e_t.kwargs)}
    f = lambda lib: lib.nn.functional.scaled_dot_product_attention(*calls[lib][0], **calls[lib][1])  # noqa: E731
    want = outcome(f, torch)
    assert want is not None and outcome(f, ndgrad) == want


def test_sdpa_dropout_uses_one_mask_forward_and_backward():
    q, k, v = (ndgrad.tensor(_x(2, 3, 4, 5), requires_grad=True) for _ in range(3))
    mask = ndgrad.tensor(RNG.random((4, 4)) > 0.3)
    ndgrad.manual_seed(3)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.4)
    assert out.grad_fn.name() == "UnsafeViewBackward0"  # torch's math path (flash has no dropout)
    g = ndgrad.tensor(_x(2, 3, 4, 5))
    grads = ndgrad.autograd.grad(out, (q, k, v), g)
    # the same computation from small ops, with the keep-mask drawn the same way from the same seed
    ndgrad.manual_seed(3)
    keep = ndgrad.empty(2, 3, 4, 4, dtype=q.dtype).bernoulli_(0.6) / 0.6  # (torch's at::dropout draws so)
    s = (q @ k.transpose(-2, -1)) / math.sqrt(5)
    s = s.masked_fill(mask.logical_not(), float("-inf"))
    ref = (s.softmax(-1) * keep) @ v
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12)
    assert (keep.numpy() == 0).any()
    for a, b in zip(grads, ndgrad.autograd.grad(ref, (q, k, v), g)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
    # with the seed fixed inside, the dropped function is deterministic: gradcheck and gradgradcheck hold
    small = [ndgrad.tensor(_x(1, 2, 3, 2), requires_grad=True) for _ in range(3)]

    def f(*a):
        ndgrad.manual_seed(11)
        return F.scaled_dot_product_attention(*a, dropout_p=0.5)
    assert gradcheck(f, small) and gradgradcheck(f, small)
    assert not F.scaled_dot_product_attention(*small, dropout_p=1.0).detach().numpy().any()


@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_dropout_draws_torchs_mask(torch, causal):
    # torch's math path drops with at::dropout: bernoulli_(1 - p) on the default generator's stream
    x = [_x(2, 3, 4, 5) for _ in range(3)]
    g = _x(2, 3, 4, 5)
    out = []
    for lib in (ndgrad, torch):
        q, k, v = (lib.tensor(a, requires_grad=True) for a in x)
        lib.manual_seed(5)
        o = lib.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=0.3, is_causal=causal)
        o.backward(lib.tensor(g))
        out.append([o.detach().numpy(), q.grad.numpy(), k.grad.numpy(), v.grad.numpy(), lib.rand(3).numpy()])
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_sdpa_dropout_keeps_the_expected_fraction():
    ndgrad.manual_seed(0)
    q = ndgrad.zeros(1, 1, 200, 4)
    v = ndgrad.eye(200).reshape(1, 1, 200, 200)
    att = F.scaled_dot_product_attention(q, q, v, dropout_p=0.25).numpy()  # uniform rows, dropped and scaled
    assert abs((att == 0).mean() - 0.25) < 0.01
    np.testing.assert_allclose(att[att > 0], 1 / 200 / 0.75)


@pytest.mark.parametrize("kw", [{"attn_mask": "float"}, {"is_causal": True}, {"scale": 0.7}])
def test_sdpa_hessian_matches_torch_math_path(torch, kw):
    """Second derivatives against torch's math path (3-d inputs; torch's flash kernel has no double backward,
    ndgrad's op has one everywhere)."""
    x, m = _x(2, 3, 2), _x(3, 3)
    res = []
    for lib in (torch, ndgrad):
        k = dict(kw)
        if k.get("attn_mask") == "float":
            k["attn_mask"] = lib.tensor(m)
        f = lambda a: lib.nn.functional.scaled_dot_product_attention(a, a * 2, a.cos(), **k).sin().sum()  # noqa
        res.append(lib.autograd.functional.hessian(f, lib.tensor(x)).numpy())
    np.testing.assert_allclose(res[1], res[0], rtol=1e-9, atol=1e-12)


# -- MultiheadAttention ----------------------------------------------------------------------------------------
CAUSAL = np.triu(np.ones((4, 4), bool), 1)
KPM = np.array([[False, False, False, True], [False, True, False, False]])

MHA_CASES = [  # (module kwargs, forward kwargs, kind, train)
    ({}, {"need_weights": False}, "self", False),
    ({"batch_first": True}, {"need_weights": False, "attn_mask": CAUSAL, "is_causal": True}, "self", True),
    ({}, {"need_weights": False, "attn_mask": CAUSAL, "key_padding_mask": KPM}, "self", False),
    ({}, {"need_weights": False, "attn_mask": np.repeat(CAUSAL[None], 4, 0)}, "cross", False),
    ({}, {"attn_mask": RNG.standard_normal((4, 4, 4)), "average_attn_weights": False}, "cross", True),
    ({"batch_first": True, "kdim": 3, "vdim": 5}, {"need_weights": False, "key_padding_mask": KPM}, "kv", False),
    ({"add_bias_kv": True, "add_zero_attn": True}, {"need_weights": False, "attn_mask": CAUSAL}, "cross", False),
    ({"bias": False, "add_zero_attn": True}, {"key_padding_mask": KPM.astype(np.float64) * -3.0}, "cross", True),
    ({"batch_first": True}, {"need_weights": False}, "unbatched", False),
    ({"dropout": 0.3}, {"attn_mask": CAUSAL}, "key_is_value", False),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mkw,fkw,kind,train", MHA_CASES)
def test_multihead_attention_options_match_torch(torch, mkw, fkw, kind, train, dtype):
    tm, nm = _pair(torch, lambda lib, dt: lib.nn.MultiheadAttention(4, 2, dtype=dt, **mkw), dtype, train)
    assert repr(nm) == repr(tm)
    bf = mkw.get("batch_first")
    shp = (lambda L: (2, L, 4)) if bf else (lambda L: (L, 2, 4))
    if kind == "kv":
        ins = [_x(*shp(4)), _x(2, 4, 3), _x(2, 4, 5)]
    elif kind == "unbatched":
        ins = [_x(4, 4)] * 3
    else:
        ins = [_x(*shp(4)), _x(*shp(4)), _x(*shp(4))]
        if kind == "self":
            ins = [ins[0]] * 3
        elif kind == "key_is_value":
            ins = [ins[0], ins[1], ins[1]]
    if kind in ("self", "unbatched", "key_is_value"):  # the same tensor object, as in self-attention
        t0, n0 = (_as(lib, ins[0].astype(dtype), True) for lib in (torch, ndgrad))
        tk = {k: _as(torch, v) for k, v in fkw.items()}
        nk = {k: _as(ndgrad, v) for k, v in fkw.items()}
        if kind == "key_is_value":
            t1, n1 = (_as(lib, ins[1].astype(dtype), True) for lib in (torch, ndgrad))
            to, no = tm(t0, t1, t1, **tk), nm(n0, n1, n1, **nk)
        else:
            to, no = tm(t0, t0, t0, **tk), nm(n0, n0, n0, **nk)
        tol = TOL[dtype]
        np.testing.assert_allclose(no[0].detach().numpy(), to[0].detach().numpy(), **tol)
        assert (no[1] is None) == (to[1] is None)
        (to[0].sin().sum() + (0 if to[1] is None else to[1].square().sum())).backward()
        (no[0].sin().sum() + (0 if no[1] is None else no[1].square().sum())).backward()
        np.testing.assert_allclose(n0.grad.numpy(), t0.grad.numpy(), **tol)
        for (k, a), (_, b) in zip(tm.named_parameters(), nm.named_parameters()):
            np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), err_msg=k, **tol)
        return
    _run_and_compare(torch, tm, nm, ins, fkw, dtype)


def test_multihead_attention_mask_warnings_and_errors(torch):
    tm, nm = _pair(torch, lambda lib, dt: lib.nn.MultiheadAttention(4, 2, dtype=dt))
    x = _x(4, 2, 4)
    got = []
    for lib, m in ((torch, tm), (ndgrad, nm)):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m(lib.tensor(x), lib.tensor(x), lib.tensor(x), key_padding_mask=lib.tensor(KPM),
              attn_mask=lib.zeros(4, 4, dtype=lib.float64))
        got.append([str(i.message) for i in w])
    assert got[0] == got[1] and got[0]
    for bad in (lambda lib: lib.nn.MultiheadAttention(4, 2)(lib.zeros(3, 2, 4), lib.zeros(3, 2, 4),
                                                             lib.zeros(3, 2, 4), attn_mask=lib.zeros(5, 3, 3)),
                lambda lib: lib.nn.MultiheadAttention(4, 2)(lib.zeros(3, 2, 4), lib.zeros(3, 2, 4),
                                                             lib.zeros(3, 2, 4), key_padding_mask=lib.zeros(2, 4)),
                lambda lib: lib.nn.MultiheadAttention(4, 2)(lib.zeros(3, 2, 4), lib.zeros(3, 4), lib.zeros(3, 4)),
                lambda lib: lib.nn.MultiheadAttention(4, 2)(lib.zeros(3, 2, 4), lib.zeros(3, 2, 4),
                                                             lib.zeros(3, 2, 4), attn_mask=lib.ones(3, 3,
                                                                                                    dtype=lib.int64))):
        want = outcome(bad, torch)
        assert want is not None and outcome(bad, ndgrad) == want


def test_multi_head_attention_forward_functional(torch):
    """The functional form with separate projection weights and static keys/values."""
    E, H, N, L = 4, 2, 2, 3
    arrays = {n: _x(*s) for n, s in (("q", (L, N, E)), ("k", (5, N, E)), ("v", (5, N, E)), ("wq", (E, E)),
                                      ("wk", (E, E)), ("wv", (E, E)), ("b", (3 * E,)), ("wo", (E, E)),
                                      ("bo", (E,)), ("sk", (N * H, 6, E // H)), ("sv", (N * H, 6, E // H)))}
    res = []
    for lib in (torch, ndgrad):
        t = {n: lib.tensor(a, requires_grad=True) for n, a in arrays.items()}
        out, w = lib.nn.functional.multi_head_attention_forward(
            t["q"], t["k"], t["v"], E, H, None, t["b"], None, None, False, 0.0, t["wo"], t["bo"],
            use_separate_proj_weight=True, q_proj_weight=t["wq"], k_proj_weight=t["wk"], v_proj_weight=t["wv"],
            static_k=t["sk"], static_v=t["sv"])
        (out.sum() + w.square().sum()).backward()
        res.append([out.detach().numpy(), w.detach().numpy()] +
                   [t[n].grad.numpy() if t[n].grad is not None else None for n in arrays])
    for a, b in zip(*res):
        if a is None:
            assert b is None
        else:
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)


# -- the Transformer family --------------------------------------------------------------------------------------
SRC_MASK = np.triu(np.ones((5, 5), bool), 1)
SRC_KPM = np.array([[False] * 5, [False, False, False, True, True]])
TGT_MASK = np.triu(np.full((4, 4), -np.inf), 1)

ENCODER_CASES = [  # (layer kwargs, forward kwargs, train, unbatched)
    ({}, {}, False, False),
    ({"norm_first": True, "activation": "gelu", "dropout": 0.0}, {"src_mask": SRC_MASK}, True, False),
    ({"batch_first": True, "bias": False}, {"src_key_padding_mask": SRC_KPM}, False, False),
    ({"activation": "silu_fn", "layer_norm_eps": 1e-3, "dropout": 0.0},
     {"src_mask": np.triu(np.full((5, 5), -np.inf), 1), "is_causal": True}, True, False),
    ({"activation": "gelu_module"}, {"src_mask": SRC_MASK, "src_key_padding_mask": SRC_KPM}, False, False),
    ({"batch_first": True}, {}, False, True),
]


def _act(lib, a):
    if a == "silu_fn":
        return lib.nn.functional.silu
    if a == "gelu_module":
        return lib.nn.GELU(approximate="tanh")
    return a


def _layer_kw(lib, kw):
    kw = dict(kw)
    if "activation" in kw:
        kw["activation"] = _act(lib, kw["activation"])
    return kw


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kw,fkw,train,unbatched", ENCODER_CASES)
def test_encoder_layer_matches_torch(torch, kw, fkw, train, unbatched, dtype):
    tm, nm = _pair(torch, lambda lib, dt: lib.nn.TransformerEncoderLayer(8, 2, 16, dtype=dt, **_layer_kw(lib, kw)),
                   dtype, train)
    assert repr(nm) == repr(tm)
    x = _x(5, 8) if unbatched else _x(2, 5, 8) if kw.get("batch_first") else _x(5, 2, 8)
    _run_and_compare(torch, tm, nm, [x], fkw, dtype)


DECODER_CASES = [
    ({}, {}, False),
    ({"norm_first": True, "dropout": 0.0, "batch_first": True},
     {"tgt_mask": TGT_MASK, "tgt_is_causal": True, "memory_key_padding_mask": SRC_KPM}, True),
    ({"activation": "gelu", "bias": False},
     {"tgt_mask": np.triu(np.ones((4, 4), bool), 1), "memory_mask": np.zeros((4, 5), bool),
      "tgt_key_padding_mask": np.array([[False] * 4, [False, False, True, False]])}, False),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kw,fkw,train", DECODER_CASES)
def test_decoder_layer_matches_torch(torch, kw, fkw, train, dtype):
    tm, nm = _pair(torch, lambda lib, dt: lib.nn.TransformerDecoderLayer(8, 2, 16, dtype=dt, **kw), dtype, train)
    assert repr(nm) == repr(tm)
    bf = kw.get("batch_first")
    tgt, mem = (_x(2, 4, 8), _x(2, 5, 8)) if bf else (_x(4, 2, 8), _x(5, 2, 8))
    _run_and_compare(torch, tm, nm, [tgt, mem], fkw, dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_first,norm_first,train", [(False, False, False), (True, True, True)])
def test_full_transformer_matches_torch(torch, batch_first, norm_first, train, dtype):
    def make(lib, dt):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lib.nn.Transformer(8, 2, 2, 1, 16, dropout=0.0, batch_first=batch_first, norm_first=norm_first,
                                      dtype=dt)
    tm, nm = _pair(torch, make, dtype, train)
    assert repr(nm) == repr(tm)
    src, tgt = (_x(2, 5, 8), _x(2, 4, 8)) if batch_first else (_x(5, 2, 8), _x(4, 2, 8))
    fkw = {"tgt_mask": ndgrad.nn.Transformer.generate_square_subsequent_mask(4).numpy().astype(dtype),
           "src_key_padding_mask": SRC_KPM, "memory_key_padding_mask": SRC_KPM}
    _run_and_compare(torch, tm, nm, [src, tgt], fkw, dtype)


def test_encoder_stack_detects_the_causal_mask_and_warns_like_torch(torch):
    layer_kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0)
    for kw in ({}, {"batch_first": True}, {"batch_first": True, "norm_first": True},
               {"batch_first": True, "activation": "silu_fn"}, {"batch_first": True, "bias": False}):
        msgs = []
        for lib in (torch, ndgrad):
            layer = lib.nn.TransformerEncoderLayer(**layer_kw, **_layer_kw(lib, kw))
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                lib.nn.TransformerEncoder(layer, 2)
            msgs.append([str(i.message) for i in w])
        assert msgs[0] == msgs[1]
    tm, nm = _pair(torch, lambda lib, dt: lib.nn.TransformerEncoder(
        lib.nn.TransformerEncoderLayer(8, 2, 16, dtype=dt, batch_first=True), 2, lib.nn.LayerNorm(8, dtype=dt),
        enable_nested_tensor=False))
    mask = ndgrad.nn.Transformer.generate_square_subsequent_mask(5).numpy().astype(np.float64)
    _run_and_compare(torch, tm, nm, [_x(2, 5, 8)], {"mask": mask,
                                                    "src_key_padding_mask": np.where(SRC_KPM, -np.inf, 0.0)})
    for lib in (torch, ndgrad):
        m = lib.nn.Transformer.generate_square_subsequent_mask(3, dtype=lib.float64)
        assert str(m.dtype) == "torch.float64" and repr(lib.nn.Transformer.generate_square_subsequent_mask(3)) == \
            repr(torch.nn.Transformer.generate_square_subsequent_mask(3))


@pytest.mark.parametrize("kpm", [SRC_KPM, np.array([[False, True, False, False, False]] * 2)])
def test_encoder_inference_zeros_padded_positions_like_torch(torch, kpm):
    """In eval mode without grad, torch's encoder runs on nested tensors when the padding is left-aligned:
    padded positions come out as zeros (before the final norm)."""
    def make(lib, dt):
        layer = lib.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, dtype=dt)
        return lib.nn.TransformerEncoder(layer, 2, lib.nn.LayerNorm(8, dtype=dt))
    tm, nm = _pair(torch, make)
    x = _x(2, 5, 8)
    outs = []
    for lib, m in ((torch, tm), (ndgrad, nm)):
        with lib.no_grad():
            outs.append(m(lib.tensor(x), src_key_padding_mask=lib.tensor(kpm)).numpy())
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-8, atol=1e-10)


def test_transformer_errors_like_torch(torch):
    def model(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lib.nn.Transformer(8, 2, 1, 1, 16)
    raises_like_torch(lambda lib: model(lib)(lib.zeros(5, 2, 8), lib.zeros(4, 3, 8)), torch, RuntimeError,
                      "the batch number of src and tgt must be equal")
    raises_like_torch(lambda lib: model(lib)(lib.zeros(5, 2, 8), lib.zeros(4, 2, 6)), torch, RuntimeError,
                      "the feature number of src and tgt must be equal to d_model")
    raises_like_torch(lambda lib: lib.nn.TransformerEncoderLayer(8, 2, activation="tanh"), torch, RuntimeError,
                      "activation should be relu/gelu, not tanh")


# -- RMSNorm -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("args,kw", [((6,), {}), (([3, 6],), {"eps": 1e-3}), ((6,), {"elementwise_affine": False})])
def test_rmsnorm_module_matches_torch(torch, args, kw, dtype):
    tm, nm = _pair(torch, lambda lib, dt: lib.nn.RMSNorm(*args, dtype=dt, **kw), dtype)
    assert repr(nm) == repr(tm)
    with torch.no_grad():
        for p in tm.parameters():
            p.uniform_(0.5, 1.5)
    _load(tm, nm)
    _run_and_compare(torch, tm, nm, [_x(2, 3, 6)], {}, dtype)


# -- a small GPT, trained side by side ------------------------------------------------------------------------------
V, T, D, H = 11, 8, 16, 2


def _gpt(lib, dtype):
    nn = lib.nn

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(V, D, dtype=dtype)
            self.pos = nn.Embedding(T, D, dtype=dtype)
            self.blocks = nn.ModuleList([nn.TransformerEncoderLayer(D, H, 4 * D, dropout=0.0, activation="gelu",
                                                                    batch_first=True, norm_first=True, dtype=dtype)
                                         for _ in range(2)])
            self.ln = nn.LayerNorm(D, dtype=dtype)
            self.head = nn.Linear(D, V, bias=False, dtype=dtype)

        def forward(self, idx):
            t = idx.shape[1]
            x = self.tok(idx) + self.pos(lib.arange(t))
            mask = nn.Transformer.generate_square_subsequent_mask(t, dtype=dtype)
            for b in self.blocks:
                x = b(x, src_mask=mask, is_causal=True)
            return self.head(self.ln(x))
    return GPT()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gpt_trains_and_generates_like_torch(torch, dtype):
    tm, nm = _pair(torch, _gpt, dtype, train=True)
    data = RNG.integers(0, V, (4, T + 1))
    x, y = data[:, :-1], data[:, 1:]
    topt = torch.optim.AdamW(tm.parameters(), lr=1e-2)
    nopt = ndgrad.optim.AdamW(nm.parameters(), lr=1e-2)
    tol = TOL[dtype]
    losses = []
    for _ in range(4):
        step = []
        for lib, m, opt in ((torch, tm, topt), (ndgrad, nm, nopt)):
            opt.zero_grad()
            logits = m(lib.tensor(x))
            loss = lib.nn.functional.cross_entropy(logits.reshape(-1, V), lib.tensor(y).reshape(-1))
            loss.backward()
            opt.step()
            step.append(loss.item())
        np.testing.assert_allclose(step[1], step[0], rtol=tol["rtol"] * 10)
        losses.append(step[0])
    assert losses[-1] < losses[0]
    for (k, a), (_, b) in zip(tm.named_parameters(), nm.named_parameters()):
        a, b = a.detach().numpy(), b.detach().numpy()
        if k.endswith("in_proj_bias") and dtype == "float32":
            # the key bias's true gradient is 0 (softmax ignores a per-row constant): in float32 it is rounding
            # noise, which Adam's normalisation blows up to full-size steps in either library
            a, b = np.delete(a, np.s_[D:2 * D]), np.delete(b, np.s_[D:2 * D])
        np.testing.assert_allclose(b, a, err_msg=k, rtol=1e-3 if dtype == "float32" else 1e-8,
                                   atol=1e-4 if dtype == "float32" else 1e-10)
    # greedy and top-k generation from a prompt, under no_grad in eval mode
    tm.eval(), nm.eval()
    seqs = []
    for lib, m in ((torch, tm), (ndgrad, nm)):
        idx = lib.tensor(x[:2, :3])
        with lib.no_grad():
            for _ in range(T - 3):
                logits = m(idx)[:, -1, :]
                top = lib.topk(logits, 3, dim=-1)
                nxt = logits.argmax(-1, keepdim=True)
                assert bool((top.indices[:, :1] == nxt).all())
                idx = lib.cat([idx, nxt], 1)
        seqs.append(idx.numpy())
    np.testing.assert_array_equal(seqs[1], seqs[0])


def _sdpa_under(lib, backends, **kw):
    A = importlib.import_module(lib.__name__ + ".nn.attention")
    q = lib.ones(1, 2, 4, 8, requires_grad=True)
    b = [getattr(A.SDPBackend, n) for n in backends] if isinstance(backends, list) else getattr(A.SDPBackend, backends)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (torch explains in warnings why a kernel does not apply)
        try:
            with A.sdpa_kernel(b):
                o = lib.nn.functional.scaled_dot_product_attention(q, q, q, **kw)
        except RuntimeError as e:
            return str(e)
    return o.grad_fn.name() if lib is ndgrad else type(o.grad_fn).__name__


@pytest.mark.parametrize("backends,kw", [("MATH", {}), ("FLASH_ATTENTION", {}), ("EFFICIENT_ATTENTION", {}),
                                         (["MATH", "FLASH_ATTENTION"], {}), ("FLASH_ATTENTION", {"dropout_p": 0.5}),
                                         (["MATH", "EFFICIENT_ATTENTION", "CUDNN_ATTENTION"], {"is_causal": True})])
def test_sdpa_kernel_choice_as_torchs(torch, backends, kw):
    assert _sdpa_under(ndgrad, backends, **kw) == _sdpa_under(torch, backends, **kw)


def test_sdpbackend_enum_and_errors(torch):
    from ndgrad.nn.attention import SDPBackend, sdpa_kernel
    import torch.nn.attention as TA
    assert [(str(b), repr(b), int(b)) for b in SDPBackend] == \
        [(str(b), repr(b), int(b)) for b in TA.SDPBackend.__members__.values()]
    for lib_kernel in (sdpa_kernel, TA.sdpa_kernel):
        with pytest.raises(AssertionError, match="must be an instance of SDPBackend or a list of SDPBackend "
                                                 "instances, got str"):
            with lib_kernel("math"):
                pass
