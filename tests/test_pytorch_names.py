"""The PyTorch names jitgrad provides, and those it deliberately does not (with the reason).

Both lists are checked against jitgrad itself, so they cannot drift: a name listed as provided
must exist, and a name listed as not provided must not (providing it later means moving it).
README "PyTorch compatibility" summarises the same lists.
"""
import pytest

import jitgrad as jg
import jitgrad.nn as nn
import jitgrad.nn.functional as F

# ---------------------------------------------------------------------- tensor ops (#14)
BOTH = """div floor_divide remainder fmod bitwise_and bitwise_or bitwise_xor bitwise_not
bitwise_left_shift bitwise_right_shift logical_and logical_or logical_xor logical_not
tan sinh cosh asin acos atan asinh acosh atanh floor ceil round trunc frac log2 log10 exp2 expm1
erf erfc erfinv reciprocal square sgn hypot atan2 lerp xlogy isnan isinf isfinite isclose
allclose equal nan_to_num rsqrt
all any cumsum cumprod cummax cummin logcumsumexp median mode count_nonzero aminmax nansum
nanmean std var
gather scatter scatter_add scatter_reduce index_select index_add index_fill take take_along_dim
masked_select masked_scatter nonzero sort argsort topk kthvalue unique tril triu diag diagonal
trace flip fliplr flipud roll rot90 narrow unbind movedim tile repeat_interleave outer cross kron
softmax log_softmax multinomial bernoulli""".split()
FUNCTIONS = """einsum cdist tensordot meshgrid randn_like rand_like randint_like empty tril_indices
triu_indices logspace poisson normal""".split()
METHODS = """add_ pow_ masked_fill_ normal_ uniform_ copy_ index_add_ index_fill_ scatter_
scatter_add_ clamp_ fill_ new_zeros new_ones new_full new_tensor view""".split()

# name -> why not (each is absent from jitgrad and from Tensor)
NOT_PROVIDED = {
    # sparse layouts: every kernel here is dense; a sparse tensor would need its own op set
    "sparse_coo_tensor": "sparse", "sparse_csr_tensor": "sparse", "to_sparse": "sparse",
    "to_dense": "sparse", "is_sparse": "sparse", "sparse_mask": "sparse",
    # complex dtypes: kernels are compiled for float32/float64 (and integer/bool bookkeeping)
    "complex": "complex", "view_as_complex": "complex", "view_as_real": "complex",
    "real": "complex", "imag": "complex", "conj": "complex", "angle": "complex",
    "polar": "complex", "is_complex": "complex",
    # half precision: numba has no float16 arithmetic on CPU worth compiling for
    "float16": "float16",
    # quantization: no quantized kernels or dtypes
    "quantize_per_tensor": "quantized", "quantize_per_channel": "quantized",
    "dequantize": "quantized", "int_repr": "quantized", "q_scale": "quantized",
    "q_zero_point": "quantized", "qint8": "quantized", "quint8": "quantized",
}
REASONS = {
    "sparse": "sparse layouts: all kernels are dense",
    "complex": "complex dtypes: kernels compile for float32/float64 only",
    "float16": "float16/bfloat16: no half-precision CPU arithmetic in numba worth compiling",
    "quantized": "quantized tensors: no quantized kernels or dtypes",
}


@pytest.mark.parametrize("name", BOTH + FUNCTIONS)
def test_tensor_function_exists(name):
    assert callable(getattr(jg, name, None)), f"jitgrad.{name} is missing"


@pytest.mark.parametrize("name", BOTH + METHODS)
def test_tensor_method_exists(name):
    assert callable(getattr(jg.Tensor, name, None)), f"Tensor.{name} is missing"


@pytest.mark.parametrize("name", sorted(NOT_PROVIDED))
def test_deliberately_not_provided(name):
    assert NOT_PROVIDED[name] in REASONS
    assert not hasattr(jg, name), f"jitgrad.{name} exists: move it to the lists"
    assert not hasattr(jg.Tensor, name), f"Tensor.{name} exists: move it to the lists"


@pytest.mark.parametrize("method", ["half", "bfloat16"])
def test_half_precision_casts_raise_a_clear_error(method):
    with pytest.raises(TypeError, match="float16|bfloat16"):
        getattr(jg.ones(2), method)()
    with pytest.raises(TypeError, match="float16|bfloat16"):
        getattr(nn.Linear(2, 2), method)()


# ---------------------------------------------------------------------- nn (#15)
NN = """GroupNorm InstanceNorm1d InstanceNorm2d RMSNorm Bilinear PixelShuffle PixelUnshuffle
Upsample ParameterList ParameterDict MultiheadAttention TransformerEncoderLayer
TransformerEncoder TransformerDecoderLayer TransformerDecoder Transformer KLDivLoss
CosineEmbeddingLoss MarginRankingLoss TripletMarginLoss PoissonNLLLoss GaussianNLLLoss
MultiLabelSoftMarginLoss Softmin Hardswish Hardsigmoid Softsign Tanhshrink Threshold PReLU CELU
LogSigmoid""".split()
FUNCTIONAL = """group_norm instance_norm rms_norm interpolate pad scaled_dot_product_attention
normalize cosine_similarity pairwise_distance kl_div glu softmin hardswish hardsigmoid softsign
tanhshrink threshold prelu celu logsigmoid cosine_embedding_loss margin_ranking_loss
triplet_margin_loss poisson_nll_loss gaussian_nll_loss multilabel_soft_margin_loss""".split()
MODULE_METHODS = """register_forward_hook register_forward_pre_hook register_full_backward_hook
type half named_parameters named_buffers named_modules""".split()


@pytest.mark.parametrize("name", NN)
def test_nn_layer_exists(name):
    assert isinstance(getattr(nn, name, None), type), f"nn.{name} is missing"


@pytest.mark.parametrize("name", FUNCTIONAL)
def test_functional_exists(name):
    assert callable(getattr(F, name, None)), f"nn.functional.{name} is missing"


@pytest.mark.parametrize("name", MODULE_METHODS)
def test_module_method_exists(name):
    assert callable(getattr(nn.Module, name, None)), f"Module.{name} is missing"


def test_nn_utils_and_init():
    assert callable(nn.utils.parameters_to_vector) and callable(nn.utils.vector_to_parameters)
    assert callable(nn.init.trunc_normal_)
