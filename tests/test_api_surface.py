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
    ravel msort vmap adjoint resolve_conj resolve_neg is_conj is_inference conj_physical sigmoid_ tanh_ relu_ zero_
    fill_ clamp_ exp_ layout strided memory_format contiguous_format channels_last channels_last_3d preserve_format
    random pdist channel_shuffle unique_consecutive gcd lcm
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
    outer output_nr permute pow pow_ prod reciprocal reciprocal_ register_hook register_post_accumulate_grad_hook relu relu_ remainder remainder_
    repeat repeat_interleave requires_grad requires_grad_ reshape reshape_as retain_grad retains_grad roll
    round round_ rsqrt rsqrt_ scatter scatter_ scatter_add scatter_add_ scatter_reduce scatter_reduce_ select
    shape short sigmoid sigmoid_ sign sign_ signbit sin sin_ sinc sinc_ sinh size sort split sqrt sqrt_ square
    square_ squeeze std stride sub sub_ subtract subtract_ sum swapaxes swapdims t take take_along_dim tan
    tanh tanh_ tile to tolist topk trace transpose tril triu true_divide true_divide_ trunc trunc_ type
    type_as unbind unflatten unique unsqueeze var view view_as where xlogy xlogy_ zero_
    unfold fill_diagonal_ to_dense unique_consecutive
    gcd lcm gcd_ lcm_
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


AUTOGRAD = """
    Function anomaly_mode backward detect_anomaly enable_grad forward_ad functional grad gradcheck gradgradcheck
    graph inference_mode no_grad set_detect_anomaly set_grad_enabled
""".split()

TOP_LEVEL += """
    addmm
    adaptive_avg_pool1d angle avg_pool1d celu celu_ conj conv1d conv2d conv_transpose1d conv_transpose2d
    cosine_similarity hardshrink imag is_anomaly_check_nan_enabled is_anomaly_enabled load log_softmax
    max_pool1d max_pool2d pairwise_distance prelu real relu_ save selu selu_ sgn softmax threshold
    threshold_
""".split()

TOP_LEVEL += """
    bartlett_window blackman_window complex hamming_window hann_window istft kaiser_window polar stft view_as_complex
    view_as_real
""".split()

TENSOR_METHODS += """
    istft stft
""".split()

FFT = """
    fft fft2 fftfreq fftn fftshift hfft hfft2 hfftn ifft ifft2 ifftn ifftshift ihfft ihfft2 ihfftn irfft irfft2 irfftn
    rfft rfft2 rfftfreq rfftn
""".split()

TENSOR_METHODS += """
    addmm
    angle conj hardshrink imag log_softmax prelu real sgn softmax
""".split()

TOP_LEVEL += """
    aminmax bernoulli bincount block_diag bucketize cartesian_prod cdist cholesky cholesky_inverse cholesky_solve
    combinations corrcoef cov cumulative_trapezoid det diff fmax fmin frexp gradient histc histogram inverse
    ldexp logcumsumexp logdet lu lu_solve lu_unpack matrix_exp matrix_power multinomial nanmean nanmedian
    nanquantile nansum normal orgqr pinverse poisson qr quantile renorm rot90 searchsorted slogdet svd trapezoid
    trapz triangular_solve tril_indices triu_indices vander
""".split()

TENSOR_METHODS += """
    aminmax bernoulli bernoulli_ bincount cauchy_ cholesky cholesky_inverse cholesky_solve corrcoef cov diff
    exponential_ fmax fmin frexp geometric_ histc histogram ldexp log_normal_ logcumsumexp logdet lu lu_solve
    matrix_power multinomial nanmean nanmedian nanquantile nansum normal_ orgqr pinverse qr quantile random_
    renorm rot90 slogdet svd triangular_solve uniform_
""".split()

LINALG += """
    LinAlgError cholesky_ex cond diagonal eig eigvals householder_product inv_ex lu lu_factor lu_factor_ex lu_solve
    matrix_power matrix_rank multi_dot solve_ex solve_triangular tensorinv tensorsolve vecdot
""".split()

NN = """
    AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveMaxPool1d AdaptiveMaxPool2d AlphaDropout AvgPool1d AvgPool2d
    BCELoss BCEWithLogitsLoss BatchNorm1d BatchNorm2d BatchNorm3d Bilinear Buffer CELU Conv1d Conv2d
    ConvTranspose1d ConvTranspose2d CosineEmbeddingLoss CrossEntropyLoss Dropout Dropout1d Dropout2d
    Dropout3d ELU Embedding FeatureAlphaDropout Flatten Fold GELU GLU GRU GRUCell GroupNorm Hardshrink
    Hardsigmoid Hardswish Hardtanh HuberLoss Identity KLDivLoss L1Loss LSTM LSTMCell LayerNorm LeakyReLU
    Linear LogSigmoid LogSoftmax MSELoss MarginRankingLoss MaxPool1d MaxPool2d Mish Module ModuleDict
    ModuleList MultiheadAttention NLLLoss PReLU Parameter ParameterDict ParameterList PoissonNLLLoss RNN
    RNNBase RNNCell RNNCellBase ReLU ReLU6 SELU Sequential SiLU Sigmoid SmoothL1Loss SoftMarginLoss Softmax
    Softmax2d Softmin Softplus Softshrink Softsign Tanh Tanhshrink Threshold Unflatten Unfold functional
    init utils
""".split() + ("RMSNorm Transformer TransformerDecoder TransformerDecoderLayer TransformerEncoder "
      "TransformerEncoderLayer").split()

NN_FUNCTIONAL = """
    adaptive_avg_pool1d adaptive_avg_pool2d adaptive_max_pool1d adaptive_max_pool2d alpha_dropout avg_pool1d
    avg_pool2d batch_norm bilinear binary_cross_entropy binary_cross_entropy_with_logits celu celu_ conv1d
    conv2d conv_transpose1d conv_transpose2d cosine_embedding_loss cosine_similarity cross_entropy dropout
    dropout1d dropout2d dropout3d elu elu_ embedding feature_alpha_dropout fold gelu glu group_norm
    hardshrink hardsigmoid hardswish hardtanh hardtanh_ huber_loss kl_div l1_loss layer_norm leaky_relu
    leaky_relu_ linear log_softmax logsigmoid margin_ranking_loss max_pool1d max_pool2d
    max_pool2d_with_indices mish mse_loss multi_head_attention_forward nll_loss normalize one_hot pad
    pairwise_distance poisson_nll_loss relu relu6 relu_ scaled_dot_product_attention selu selu_ sigmoid silu
    smooth_l1_loss soft_margin_loss softmax softmin softplus softshrink softsign tanh tanhshrink threshold
    threshold_ unfold
""".split() + ["rms_norm"]

# the rest of nn (issue 11)
NN += """
    AdaptiveAvgPool3d AdaptiveMaxPool3d AvgPool3d CircularPad1d CircularPad2d CircularPad3d ConstantPad1d
    ConstantPad2d ConstantPad3d Conv3d ConvTranspose3d CosineSimilarity CTCLoss EmbeddingBag FractionalMaxPool2d
    FractionalMaxPool3d GaussianNLLLoss HingeEmbeddingLoss InstanceNorm1d InstanceNorm2d InstanceNorm3d
    LazyBatchNorm1d LazyBatchNorm2d LazyBatchNorm3d LazyConv1d LazyConv2d LazyConv3d LazyConvTranspose1d
    LazyConvTranspose2d LazyConvTranspose3d LazyInstanceNorm1d LazyInstanceNorm2d LazyInstanceNorm3d LazyLinear
    LocalResponseNorm LPPool1d LPPool2d LPPool3d MaxPool3d MaxUnpool1d MaxUnpool2d MaxUnpool3d
    MultiLabelMarginLoss MultiLabelSoftMarginLoss MultiMarginLoss PairwiseDistance PixelShuffle PixelUnshuffle
    ReflectionPad1d ReflectionPad2d ReflectionPad3d ReplicationPad1d ReplicationPad2d ReplicationPad3d RReLU
    TripletMarginLoss TripletMarginWithDistanceLoss UninitializedBuffer UninitializedParameter Upsample
    UpsamplingBilinear2d UpsamplingNearest2d ZeroPad1d ZeroPad2d ZeroPad3d
""".split()
NN_FUNCTIONAL += """
    adaptive_avg_pool3d adaptive_max_pool3d affine_grid avg_pool3d conv3d conv_transpose3d ctc_loss
    embedding_bag fractional_max_pool2d fractional_max_pool3d gaussian_nll_loss grid_sample hinge_embedding_loss
    instance_norm interpolate local_response_norm lp_pool1d lp_pool2d lp_pool3d max_pool3d max_unpool1d
    max_unpool2d max_unpool3d multi_margin_loss multilabel_margin_loss multilabel_soft_margin_loss pixel_shuffle
    pixel_unshuffle rrelu rrelu_ triplet_margin_loss triplet_margin_with_distance_loss upsample
    upsample_bilinear upsample_nearest
""".split()
TOP_LEVEL += ["conv3d", "conv_transpose3d"]

NN_INIT = """
    calculate_gain constant constant_ dirac dirac_ eye eye_ kaiming_normal kaiming_normal_ kaiming_uniform
    kaiming_uniform_ normal normal_ ones_ orthogonal orthogonal_ sparse sparse_ trunc_normal_ uniform
    uniform_ xavier_normal xavier_normal_ xavier_uniform xavier_uniform_ zeros_
""".split()

NN_UTILS = """
    clip_grad_norm clip_grad_norm_ clip_grad_value_ clip_grads_with_norm_ fuse_conv_bn_eval
    fuse_conv_bn_weights fuse_linear_bn_eval fuse_linear_bn_weights get_total_norm parameters_to_vector
    parametrizations parametrize remove_spectral_norm remove_weight_norm rnn spectral_norm
    vector_to_parameters weight_norm
""".split()

OPTIM = """
    ASGD Adadelta Adafactor Adagrad Adam AdamW Adamax LBFGS NAdam Optimizer RAdam RMSprop Rprop SGD
    lr_scheduler
""".split()

LR_SCHEDULER = """
    ChainedScheduler ConstantLR CosineAnnealingLR CosineAnnealingWarmRestarts CyclicLR ExponentialLR
    LRScheduler LambdaLR LinearLR MultiStepLR MultiplicativeLR OneCycleLR PolynomialLR ReduceLROnPlateau
    SequentialLR StepLR
""".split()

UTILS_DATA = """
    BatchSampler ChainDataset ConcatDataset DataLoader Dataset IterableDataset RandomSampler Sampler
    SequentialSampler StackDataset Subset SubsetRandomSampler TensorDataset WeightedRandomSampler
    default_collate default_convert get_worker_info random_split
""".split()

FUNC = """
    functional_call grad grad_and_value hessian jacfwd jacrev jvp vjp vmap
""".split()

FORWARD_AD = """
    UnpackedDualTensor dual_level enter_dual_level exit_dual_level make_dual unpack_dual
""".split()

CHECKPOINT = """
    CheckpointError checkpoint checkpoint_sequential
""".split()

TOP_LEVEL += """
    from_dlpack serialization
""".split()

TENSOR_DUNDERS += """
    __array_wrap__ __dlpack__ __dlpack_device__
""".split()

SERIALIZATION = """
    add_safe_globals clear_safe_globals get_safe_globals load safe_globals save
""".split()

UTILS_DLPACK = """
    from_dlpack to_dlpack
""".split()
SPECIAL = """
    airy_ai bessel_j0 bessel_j1 bessel_y0 bessel_y1 chebyshev_polynomial_t chebyshev_polynomial_u
    chebyshev_polynomial_v chebyshev_polynomial_w digamma entr erf erfc erfcx erfinv exp2 expit expm1 gammainc
    gammaincc gammaln hermite_polynomial_h hermite_polynomial_he i0 i0e i1 i1e laguerre_polynomial_l
    legendre_polynomial_p log1p log_ndtr log_softmax logit logsumexp modified_bessel_i0 modified_bessel_i1
    modified_bessel_k0 modified_bessel_k1 multigammaln ndtr ndtri polygamma psi round scaled_modified_bessel_k0
    scaled_modified_bessel_k1 shifted_chebyshev_polynomial_t shifted_chebyshev_polynomial_u
    shifted_chebyshev_polynomial_v shifted_chebyshev_polynomial_w sinc softmax spherical_bessel_j0 xlog1py xlogy zeta
""".split()
TOP_LEVEL += "i0 igamma igammac mvlgamma polygamma special".split()
TENSOR_METHODS += "i0 i0_ igamma igamma_ igammac igammac_ mvlgamma mvlgamma_ polygamma polygamma_".split()

DISTRIBUTIONS = """
    AbsTransform AffineTransform Bernoulli Beta Binomial CatTransform Categorical Cauchy Chi2 ComposeTransform
    ContinuousBernoulli CorrCholeskyTransform CumulativeDistributionTransform Dirichlet Distribution ExpTransform
    Exponential ExponentialFamily FisherSnedecor Gamma GeneralizedPareto Geometric Gumbel HalfCauchy HalfNormal
    Independent InverseGamma OneHotCategoricalStraightThrough Wishart
    IndependentTransform Kumaraswamy LKJCholesky Laplace LogNormal LogisticNormal LowRankMultivariateNormal
    LowerCholeskyTransform MixtureSameFamily Multinomial MultivariateNormal NegativeBinomial Normal
    OneHotCategorical Pareto Poisson PositiveDefiniteTransform PowerTransform RelaxedBernoulli
    RelaxedOneHotCategorical ReshapeTransform SigmoidTransform SoftmaxTransform SoftplusTransform StackTransform
    StickBreakingTransform StudentT TanhTransform Transform TransformedDistribution Uniform VonMises Weibull
    biject_to constraints identity_transform kl_divergence register_kl transform_to transforms
""".split()

CONSTRAINTS = """
    Constraint MixtureSameFamilyConstraint boolean cat corr_cholesky dependent dependent_property greater_than
    greater_than_eq half_open_interval independent integer_interval interval is_dependent less_than
    lower_cholesky lower_triangular multinomial nonnegative nonnegative_integer one_hot positive
    positive_definite positive_integer positive_semidefinite real real_vector simplex square stack symmetric
    unit_interval
""".split()



DISTRIBUTED = """
    Backend DistBackendError DistError GroupMember ProcessGroup ReduceOp Work all_gather all_gather_into_tensor
    all_gather_object all_reduce all_to_all all_to_all_single barrier broadcast broadcast_object_list
    destroy_process_group gather gather_object get_backend get_global_rank get_process_group_ranks get_rank
    get_world_size group init_process_group irecv is_available is_gloo_available is_initialized is_mpi_available
    is_nccl_available is_torchelastic_launched isend new_group recv reduce reduce_scatter reduce_scatter_tensor
    scatter scatter_object_list send
""".split()
NN_PARALLEL = "DataParallel DistributedDataParallel data_parallel".split()
MULTIPROCESSING = """
    Pipe Process ProcessContext ProcessExitedException ProcessRaisedException Queue SimpleQueue cpu_count
    current_process get_all_sharing_strategies get_context get_sharing_strategy get_start_method set_sharing_strategy
    set_start_method spawn start_processes
""".split()

SURFACES = {
    "torch.distributed": (lambda m: m.distributed, DISTRIBUTED),
    "torch.nn.parallel": (lambda m: m.nn.parallel, NN_PARALLEL),
    "torch.multiprocessing": (lambda m: __import__(m.__name__ + ".multiprocessing").multiprocessing, MULTIPROCESSING),
    "torch.utils.data.distributed": (lambda m: m.utils.data.distributed, ["DistributedSampler"]),
    "torch": (lambda m: m, TOP_LEVEL),
    "torch.Tensor": (lambda m: m.Tensor, TENSOR_METHODS + TENSOR_DUNDERS),
    "torch.linalg": (lambda m: m.linalg, LINALG),
    "torch.nn.functional": (lambda m: m.nn.functional, NN_FUNCTIONAL),
    "torch.autograd": (lambda m: m.autograd, AUTOGRAD),
    "torch.nn": (lambda m: m.nn, NN),
    "torch.nn.init": (lambda m: m.nn.init, NN_INIT),
    "torch.nn.utils": (lambda m: m.nn.utils, NN_UTILS),
    "torch.optim": (lambda m: m.optim, OPTIM),
    "torch.optim.lr_scheduler": (lambda m: m.optim.lr_scheduler, LR_SCHEDULER),
    "torch.utils.data": (lambda m: m.utils.data, UTILS_DATA),
    "torch.utils.checkpoint": (lambda m: m.utils.checkpoint, CHECKPOINT),
    "torch.func": (lambda m: m.func, FUNC),
    "torch.autograd.forward_ad": (lambda m: m.autograd.forward_ad, FORWARD_AD),
    "torch.serialization": (lambda m: m.serialization, SERIALIZATION),
    "torch.utils.dlpack": (lambda m: m.utils.dlpack, UTILS_DLPACK),
    "torch.fft": (lambda m: m.fft, FFT),
    "torch.special": (lambda m: m.special, SPECIAL),
    "torch.distributions": (lambda m: m.distributions, DISTRIBUTIONS),
    "torch.distributions.constraints": (lambda m: m.distributions.constraints, CONSTRAINTS),
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
    import ndgrad.func
    import ndgrad.nn
    import ndgrad.utils.data
    import ndgrad.fft
    for mod in (ndgrad.fft, ndgrad, ndgrad.autograd, ndgrad.linalg, ndgrad.nn.functional, ndgrad.optim, ndgrad.nn, ndgrad.nn.init,
                ndgrad.nn.utils, ndgrad.optim.lr_scheduler, ndgrad.utils.data, ndgrad.func,
                ndgrad.autograd.forward_ad, ndgrad.distributions, ndgrad.distributions.constraints,
                ndgrad.distributions.transforms):
        assert mod.__all__ and all(hasattr(mod, n) for n in mod.__all__), mod.__name__
