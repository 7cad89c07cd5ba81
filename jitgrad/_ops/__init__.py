"""Every built-in op: one Function each (in the family modules), plus the function users call.

``TENSOR_METHODS`` / ``TENSOR_OPERATORS`` say which of them are bound onto Tensor; ``__all__``
is what ``jitgrad`` re-exports (PyTorch's names; operator helpers stay here).
"""
from .basic import (cast, clone, eq, ge, greater, greater_equal, gt, le, less,  # noqa: F401
                    less_equal, lt, ne, not_equal)
from .binary import (add, add_op, sub_op, div, divide, maximum, minimum, mul, multiply, pow, rdiv,  # noqa: F401
                     rpow, rsub, sub, subtract, true_divide)
from .broadcast import sum_to  # noqa: F401
from .inplace import iadd, isub, imul, idiv, add_, sub_, mul_, div_  # noqa: F401
from .unary import (abs, absolute, clamp, clip, cos, exp, log, log1p, neg,  # noqa: F401
                    negative, rsqrt, sign, sin, sqrt)
from .activation import relu, sigmoid, tanh  # noqa: F401
from .select import where, masked_fill  # noqa: F401
from .reduce import (sum, mean, var, std, max, min, argmax, argmin, logsumexp,  # noqa: F401
                     prod, norm, amax, amin)
from .reduce import all, any, count_nonzero, aminmax, nansum, nanmean  # noqa: F401
from .scan import cumsum, cumprod, cummax, cummin, logcumsumexp  # noqa: F401
from .sort import sort, argsort, topk, kthvalue, median, mode, unique  # noqa: F401
from .shape import (reshape, view, flatten, squeeze, unsqueeze, transpose, permute,  # noqa: F401
                    expand, broadcast_to, repeat, t, swapaxes, expand_as, view_as, reshape_as)
from .index import getitem, setitem  # noqa: F401
from .join import cat, concat, concatenate, stack, split, chunk  # noqa: F401
from .linalg import matmul, mm, bmm, dot, rmatmul  # noqa: F401
from .gather import (gather, take, take_along_dim, index_select, masked_select,  # noqa: F401
                     nonzero, scatter, scatter_add, scatter_reduce, index_add, index_copy,
                     index_fill, masked_scatter, scatter_, scatter_add_, scatter_reduce_,
                     index_add_, index_copy_, index_fill_, masked_scatter_, masked_fill_,
                     softmax, log_softmax)
from .unary_math import (acos, acosh, asin, asinh, atan, atanh, ceil, cosh, erf, erfc,  # noqa: F401
                         erfinv, exp2, expm1, floor, frac, log10, log2, nan_to_num, reciprocal,
                         round, sgn, sinh, square, tan, trunc)
from .binary_math import (atan2, floor_divide, fmod, hypot, lerp, remainder,  # noqa: F401
                          rfloordiv, rremainder, xlogy)
from .logical import (bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or,  # noqa: F401
                      bitwise_right_shift, bitwise_xor, logical_and, logical_not, logical_or,
                      logical_xor, rbitwise_and, rbitwise_left_shift, rbitwise_or,
                      rbitwise_right_shift, rbitwise_xor)
from .predicates import (allclose, equal, isclose, isfinite, isinf, isnan, isneginf,  # noqa: F401
                         isposinf)
from .inplace_math import add_, clamp_, copy_, fill_, pow_, sub_  # noqa: F401,F811

TENSOR_METHODS = [
    "add", "sub", "mul", "div", "pow", "maximum", "minimum", "neg", "exp", "log", "log1p",
    "sqrt", "rsqrt", "abs", "sign", "sin", "cos", "tanh", "sigmoid", "relu", "clamp", "clip",
    "where", "masked_fill", "sum", "mean", "var", "std", "max", "min", "argmax", "argmin",
    "logsumexp", "prod", "norm", "amax", "amin", "reshape", "view", "flatten", "squeeze",
    "unsqueeze", "transpose", "permute", "expand", "broadcast_to", "repeat", "t", "swapaxes",
    "expand_as", "view_as", "reshape_as", "split", "chunk", "matmul", "mm", "bmm", "dot",
    "lt", "le", "gt", "ge", "eq", "ne", "subtract", "multiply", "divide", "true_divide",
    "add_", "sub_", "mul_", "div_",
    "tan", "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "floor", "ceil",
    "round", "trunc", "frac", "log2", "log10", "exp2", "expm1", "erf", "erfc", "erfinv",
    "reciprocal", "square", "sgn", "nan_to_num", "atan2", "hypot", "xlogy", "lerp",
    "floor_divide", "remainder", "fmod", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "logical_and", "logical_or",
    "logical_xor", "logical_not", "isnan", "isinf", "isposinf", "isneginf", "isfinite",
    "isclose", "allclose", "equal", "pow_", "clamp_", "fill_", "copy_",
]
TENSOR_METHODS += [  # selection (gather / scatter family), softmax methods
    "gather", "take", "take_along_dim", "index_select", "masked_select", "nonzero", "scatter",
    "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill", "masked_scatter",
    "scatter_", "scatter_add_", "scatter_reduce_", "index_add_", "index_copy_", "index_fill_",
    "masked_scatter_", "masked_fill_", "softmax", "log_softmax",
]
TENSOR_METHODS += [  # reductions, scans, order statistics
    "all", "any", "count_nonzero", "aminmax", "nansum", "nanmean", "cumsum", "cumprod",
    "cummax", "cummin", "logcumsumexp", "sort", "argsort", "topk", "kthvalue", "median",
    "mode", "unique",
]

TENSOR_OPERATORS = {
    "__add__": "add_op", "__radd__": "add_op", "__sub__": "sub_op", "__rsub__": "rsub",
    "__mul__": "mul", "__rmul__": "mul", "__truediv__": "div", "__rtruediv__": "rdiv",
    "__pow__": "pow", "__rpow__": "rpow", "__matmul__": "matmul", "__rmatmul__": "rmatmul",
    "__neg__": "neg", "__abs__": "abs", "__lt__": "lt", "__le__": "le", "__gt__": "gt",
    "__ge__": "ge", "__eq__": "eq", "__ne__": "ne", "__getitem__": "getitem",
    "__setitem__": "setitem", "__iadd__": "iadd", "__isub__": "isub", "__imul__": "imul",
    "__itruediv__": "idiv",
    "__floordiv__": "floor_divide", "__rfloordiv__": "rfloordiv", "__mod__": "remainder",
    "__rmod__": "rremainder", "__and__": "bitwise_and", "__rand__": "rbitwise_and",
    "__or__": "bitwise_or", "__ror__": "rbitwise_or", "__xor__": "bitwise_xor",
    "__rxor__": "rbitwise_xor", "__invert__": "bitwise_not", "__lshift__": "bitwise_left_shift",
    "__rlshift__": "rbitwise_left_shift", "__rshift__": "bitwise_right_shift",
    "__rrshift__": "rbitwise_right_shift",
}

__all__ = [
    "abs", "absolute", "add", "amax", "amin", "argmax", "argmin", "bmm", "broadcast_to", "cat",
    "chunk", "clamp", "clip", "clone", "concat", "concatenate", "cos", "div", "divide", "dot",
    "eq", "exp", "expand", "expand_as", "flatten", "ge", "greater", "greater_equal", "gt", "le",
    "less", "less_equal", "log", "log1p", "logsumexp", "lt", "masked_fill", "matmul", "max",
    "maximum", "mean", "min", "minimum", "mm", "mul", "multiply", "ne", "neg", "negative", "norm",
    "not_equal", "permute", "pow", "prod", "relu", "repeat", "reshape", "reshape_as", "rsqrt",
    "sigmoid", "sign", "sin", "split", "sqrt", "squeeze", "stack", "std", "sub", "subtract", "sum",
    "swapaxes", "t", "tanh", "transpose", "true_divide", "unsqueeze", "var", "view", "view_as",
    "where",
    "acos", "acosh", "allclose", "asin", "asinh", "atan", "atan2", "atanh", "bitwise_and",
    "bitwise_left_shift", "bitwise_not", "bitwise_or", "bitwise_right_shift", "bitwise_xor",
    "ceil", "cosh", "equal", "erf", "erfc", "erfinv", "exp2", "expm1", "floor", "floor_divide",
    "fmod", "frac", "hypot", "isclose", "isfinite", "isinf", "isnan", "isneginf", "isposinf",
    "lerp", "log10", "log2", "logical_and", "logical_not", "logical_or", "logical_xor",
    "nan_to_num", "reciprocal", "remainder", "round", "sgn", "sinh", "square", "tan", "trunc",
    "xlogy",
]
from .layout import (tril, triu, diag, diagonal, trace, flip, fliplr, flipud, roll,  # noqa: F401,E402
                     rot90, narrow, unbind, movedim, moveaxis, tile, repeat_interleave, meshgrid)
from .contract import einsum, tensordot, outer, ger, kron, cross, cdist  # noqa: F401,E402

TENSOR_METHODS += [
    "tril", "triu", "diag", "diagonal", "trace", "flip", "fliplr", "flipud", "roll", "rot90",
    "narrow", "unbind", "movedim", "moveaxis", "tile", "repeat_interleave", "outer", "ger",
    "kron", "cross",
]
__all__ += [
    "tril", "triu", "diag", "diagonal", "trace", "flip", "fliplr", "flipud", "roll", "rot90",
    "narrow", "unbind", "movedim", "moveaxis", "tile", "repeat_interleave", "meshgrid", "einsum",
    "tensordot", "outer", "ger", "kron", "cross", "cdist",
]
__all__ += [  # selection (gather / scatter family), softmax
    "gather", "take", "take_along_dim", "index_select", "masked_select", "nonzero", "scatter",
    "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill", "masked_scatter",
    "softmax", "log_softmax",
]
__all__ += [  # reductions, scans, order statistics
    "all", "any", "count_nonzero", "aminmax", "nansum", "nanmean", "cumsum", "cumprod",
    "cummax", "cummin", "logcumsumexp", "sort", "argsort", "topk", "kthvalue", "median",
    "mode", "unique",
]
