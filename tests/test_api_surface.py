"""The torch names ndgrad supports: the test fails when one disappears, or when torch has no such name.

Lists are written out (not computed from ndgrad), so removing a name from ndgrad is caught here.
"""
from __future__ import annotations

import pytest

import ndgrad

TOP_LEVEL = """
    Generator Size Tensor abs absolute acos add addcdiv addcmul all allclose amax amin any arange arccos
    arcsin arctan arctan2 argmax argmin argsort argwhere as_tensor asin atan atan2 autograd bitwise_and
    bitwise_not bitwise_or bitwise_xor bmm bool broadcast_tensors broadcast_to can_cast cat cdouble ceil
    cfloat chunk clamp clip clone complex128 complex64 concat concatenate copysign cos cosh count_nonzero
    cross cummax cummin cumprod cumsum default_generator detach device diag diagonal digamma dist div divide
    dot double dtype einsum empty empty_like enable_grad eq equal erf erfc erfinv exp exp2 expm1 eye flatten
    flip fliplr flipud float float16 float32 float64 floor floor_divide fmod frac from_numpy full full_like
    gather ge ger get_default_dtype greater greater_equal gt half heaviside hypot index_add index_copy
    index_fill index_select inference_mode initial_seed int int16 int32 int64 int8 is_complex
    is_floating_point is_grad_enabled is_inference_mode_enabled is_tensor isclose isfinite isinf isnan
    isneginf isposinf isreal kron kthvalue le lerp less less_equal lgamma linalg linspace log log10 log1p log2
    logaddexp logaddexp2 logical_and logical_not logical_or logical_xor logit logspace logsumexp long lt
    manual_seed masked_fill masked_scatter masked_select matmul max maximum mean median meshgrid min minimum
    mm mode moveaxis movedim mul multiply mv nan_to_num narrow ne neg negative no_grad nonzero norm not_equal
    numel ones ones_like optim outer permute pow prod promote_types rand rand_like randint randint_like randn
    randn_like randperm reciprocal relu remainder repeat_interleave reshape result_type roll round rsqrt rsub
    scalar_tensor scatter scatter_add scatter_reduce seed select set_default_dtype set_grad_enabled
    set_printoptions short sigmoid sign signbit sin sinc sinh sort split sqrt square squeeze stack std
    std_mean sub subtract sum swapaxes swapdims t take take_along_dim tan tanh tensor tensordot tile topk
    trace transpose tril triu true_divide trunc uint8 unbind unflatten unique unsqueeze var var_mean where
    xlogy zeros zeros_like
""".split()

TENSOR_METHODS = """
    H T abs abs_ absolute acos add add_ addcdiv addcdiv_ addcmul addcmul_ all allclose amax amin any arccos
    arcsin arctan arctan2 arctan2_ argmax argmin argsort argwhere asin atan atan2 atan2_ backward bitwise_and
    bitwise_not bitwise_or bitwise_xor bmm bool broadcast_to byte ceil ceil_ char chunk clamp clamp_ clip
    clip_ clone contiguous copy_ copysign copysign_ cos cos_ cosh count_nonzero cpu cross cummax cummin
    cumprod cumsum data data_ptr det detach detach_ device diag diagonal digamma digamma_ dim dist div div_
    divide divide_ dot double dtype element_size eq equal erf erf_ erfc erfc_ erfinv erfinv_ exp exp2 exp_
    expand expand_as expm1 expm1_ fill_ flatten flip fliplr flipud float floor floor_ floor_divide
    floor_divide_ fmod frac frac_ gather ge ger get_device grad grad_fn greater greater_equal gt half
    heaviside heaviside_ hypot hypot_ index_add index_add_ index_copy index_copy_ index_fill index_fill_
    index_select int inverse is_complex is_contiguous is_cuda is_floating_point is_leaf is_meta is_quantized
    is_sparse isclose isfinite isinf isnan isneginf isposinf isreal item kron kthvalue layout le lerp lerp_
    less less_equal lgamma lgamma_ log log10 log1p log1p_ log2 log_ logaddexp logaddexp2 logical_and
    logical_not logical_or logical_xor logit logit_ logsumexp long lt mT masked_fill masked_fill_
    masked_scatter masked_scatter_ masked_select matmul matrix_exp max maximum mean median min minimum mm mode
    moveaxis movedim mul mul_ multiply multiply_ mv nan_to_num nan_to_num_ narrow ndim ndimension ne neg neg_
    negative nelement new_empty new_full new_ones new_tensor new_zeros nonzero norm not_equal numel numpy
    outer output_nr permute pow pow_ prod reciprocal reciprocal_ register_hook relu relu_ remainder remainder_
    repeat repeat_interleave requires_grad requires_grad_ reshape reshape_as retain_grad retains_grad roll
    round round_ rsqrt rsqrt_ scatter scatter_ scatter_add scatter_add_ scatter_reduce scatter_reduce_ select
    shape short sigmoid sigmoid_ sign sign_ signbit sin sin_ sinc sinc_ sinh size sort split sqrt sqrt_ square
    square_ squeeze std stride sub sub_ subtract subtract_ sum swapaxes swapdims t take take_along_dim tan
    tanh tanh_ tile to tolist topk trace transpose tril triu true_divide true_divide_ trunc trunc_ type
    type_as unbind unflatten unique unsqueeze var view view_as where xlogy xlogy_ zero_
""".split()

TENSOR_DUNDERS = """
    __abs__ __add__ __and__ __array__ __array_priority__ __bool__ __complex__ __deepcopy__ __float__
    __floordiv__ __getitem__ __iadd__ __iand__ __ifloordiv__ __imod__ __imul__ __index__ __int__ __invert__
    __ior__ __ipow__ __isub__ __iter__ __itruediv__ __ixor__ __len__ __matmul__ __mod__ __mul__ __neg__ __or__
    __pos__ __pow__ __radd__ __rand__ __rfloordiv__ __rmatmul__ __rmod__ __rmul__ __ror__ __rpow__ __rsub__
    __rtruediv__ __rxor__ __setitem__ __sub__ __truediv__ __xor__
""".split()

LINALG = """
    cholesky cross det eigh eigvalsh inv lstsq matrix_exp matrix_norm norm pinv qr slogdet solve svd svdvals
    vector_norm
""".split()

NN_FUNCTIONAL = """
    pad relu sigmoid softplus tanh
""".split()

AUTOGRAD = """
    Function backward enable_grad functional grad gradcheck gradgradcheck graph inference_mode no_grad
    set_grad_enabled
""".split()

SURFACES = {
    "torch": (lambda m: m, TOP_LEVEL),
    "torch.Tensor": (lambda m: m.Tensor, TENSOR_METHODS + TENSOR_DUNDERS),
    "torch.linalg": (lambda m: m.linalg, LINALG),
    "torch.nn.functional": (lambda m: m.nn.functional, NN_FUNCTIONAL),
    "torch.autograd": (lambda m: m.autograd, AUTOGRAD),
}


@pytest.mark.parametrize("surface", SURFACES)
def test_ndgrad_has_every_listed_name(surface):
    get, names = SURFACES[surface]
    missing = [n for n in names if not hasattr(get(ndgrad), n)]
    assert not missing, f"{surface}: names ndgrad no longer has: {missing}"


@pytest.mark.parametrize("surface", SURFACES)
def test_every_listed_name_is_torchs(surface, torch):
    get, names = SURFACES[surface]
    extra = [n for n in names if not hasattr(get(torch), n)]
    assert not extra, f"{surface}: names torch does not have: {extra}"


def test_public_modules_declare_all():
    import ndgrad.autograd
    import ndgrad.linalg
    import ndgrad.nn.functional
    import ndgrad.optim
    for mod in (ndgrad, ndgrad.autograd, ndgrad.linalg, ndgrad.nn.functional, ndgrad.optim):
        assert mod.__all__ and all(hasattr(mod, n) for n in mod.__all__), mod.__name__
