"""Contractions: einsum (BLAS for every pairwise contraction), tensordot, outer, kron, cross,
and cdist (distance kernels).

einsum works on integer labels (letters are their code points, '...' dims negative ints), so
tensordot / outer / kron build label lists directly and share the one Function. Operands are
contracted left to right, as torch does without opt_einsum: a repeated label within one
operand is its diagonal (a strided view), a label no later operand or the output needs is
summed away first, and each pair becomes one batched GEMM, ``np.matmul`` of (batch, M, K) @
(batch, K, N) after a transpose/reshape. The gradient for an operand is the einsum of the
output gradient with the other operands, broadcast over labels only that operand has and
written back onto its diagonal where a label repeats.
"""
import numpy as np

from .. import _check
from .._check import wrap_dim
from .._tensor import Tensor
from ..autograd.function import Function
from ..kernels import distance as KD
from .basic import cast
from .broadcast import sum_to
from .join import stack
from .layout import unbind
from .shape import expand, reshape
from .util import contiguous


# ----------------------------------------------------------------------------- the engine
def _unique(labels):
    return tuple(dict.fromkeys(labels))


def _dedup(x, labels):
    """x seen with each repeated label once (its diagonal, a view), and those labels."""
    u = _unique(labels)
    if len(u) == len(labels):
        return x, tuple(labels)
    shape, strides = [], []
    for lab in u:
        axes = [i for i, l in enumerate(labels) if l == lab]
        shape.append(min(x.shape[i] for i in axes))
        strides.append(sum(x.strides[i] for i in axes))
    return np.lib.stride_tricks.as_strided(x, tuple(shape), tuple(strides)), u


def _sum_keep(x, axes):
    """x summed over `axes`, which stay as size-1 dims (sum_to's kernel for floats)."""
    kept = tuple(1 if d in axes else n for d, n in enumerate(x.shape))
    return sum_to(x, kept) if x.dtype.kind == "f" else x.sum(axis=tuple(axes), keepdims=True)


def _sum_labels(x, labels, drop):
    """Sum x over the labels in `drop`."""
    axes = tuple(i for i, l in enumerate(labels) if l in drop)
    if not axes:
        return x, labels
    kept = tuple(n for d, n in enumerate(x.shape) if d not in axes)
    return _sum_keep(x, axes).reshape(kept), tuple(l for l in labels if l not in drop)


def _pair(a, la, b, lb, keep):
    """Contract a (labels la) with b (labels lb), keeping the labels in `keep`: one matmul."""
    batch = [l for l in la if l in lb and l in keep]
    contr = [l for l in la if l in lb and l not in keep]
    akeep = [l for l in la if l not in lb]
    bkeep = [l for l in lb if l not in la]
    for l in contr:  # a size-1 side broadcasts: sum the other side first
        na, nb = a.shape[la.index(l)], b.shape[lb.index(l)]
        if na == 1 and nb != 1:
            b = _sum_keep(b, (lb.index(l),))
        elif nb == 1 and na != 1:
            a = _sum_keep(a, (la.index(l),))
    pa = [la.index(l) for l in batch + akeep + contr]
    pb = [lb.index(l) for l in batch + contr + bkeep]
    a = a.transpose(pa)
    b = b.transpose(pb)
    nbat = len(batch)
    sa, sb = a.shape, b.shape
    m = int(np.prod(sa[nbat:nbat + len(akeep)], dtype=np.int64))
    k = int(np.prod(sa[nbat + len(akeep):], dtype=np.int64))
    n = int(np.prod(sb[nbat + len(contr):], dtype=np.int64))
    out = np.matmul(a.reshape(sa[:nbat] + (m, k)), b.reshape(sb[:nbat] + (k, n)))
    bshape = out.shape[:nbat]
    out = out.reshape(bshape + sa[nbat:nbat + len(akeep)] + sb[nbat + len(contr):])
    return out, tuple(batch + akeep + bkeep)


def contract(subs, arrays, out):
    """The einsum of `arrays` (labels `subs`) with output labels `out` (each in some input);
    a fresh C-contiguous array."""
    xs, ls = [], []
    for x, s in zip(arrays, subs):
        x, s = _dedup(x, s)
        xs.append(x)
        ls.append(s)
    needed_after = [set(out)]  # needed_after[i]: labels used by operands i+1.. or the output
    for s in reversed(ls[1:]):
        needed_after.insert(0, needed_after[0] | set(s))
    r, lr = _sum_labels(xs[0], ls[0], set(ls[0]) - needed_after[0])
    for i in range(1, len(xs)):
        b, lb = _sum_labels(xs[i], ls[i], set(ls[i]) - needed_after[i] - set(lr))
        r, lr = _pair(r, lr, b, lb, needed_after[i])
    r = r.transpose([lr.index(l) for l in out])
    # a pairwise result is a fresh matmul output; one operand's may still view its input
    return contiguous(r) if len(xs) > 1 else np.array(r, order="C", copy=True)


class Einsum(Function):
    """out = einsum over integer labels; `spec` is (operand label tuples, output labels)."""

    @staticmethod
    def forward(ctx, spec, *xs):
        subs, out = spec
        ctx.spec = spec
        ctx.save_for_backward(*xs)
        return contract(subs, xs, out)

    @staticmethod
    def backward(ctx, g):
        subs, out = ctx.spec
        xs = ctx.saved_tensors
        grads = [None]
        for k, need in enumerate(ctx.needs_input_grad[1:]):
            if not need:
                grads.append(None)
                continue
            x, labels = xs[k], subs[k]
            u = _unique(labels)
            others = [s for j, s in enumerate(subs) if j != k]
            have = set(out).union(*others)
            r_labels = tuple(l for l in u if l in have)
            r = contract([out] + others, [g] + [a for j, a in enumerate(xs) if j != k],
                         r_labels)
            ushape = tuple(min(x.shape[i] for i, l in enumerate(labels) if l == lab)
                           for lab in u)
            r = r.reshape(tuple(r.shape[r_labels.index(l)] if l in r_labels else 1 for l in u))
            wide = tuple(d for d, (n, m) in enumerate(zip(ushape, r.shape)) if n == 1 != m)
            r = np.broadcast_to(_sum_keep(r, wide) if wide else r, ushape)
            gx = np.zeros(x.shape, g.dtype)
            _dedup(gx, labels)[0][...] = r
            grads.append(gx)
        return tuple(grads)

    @staticmethod
    def name_of(ctx):
        return "einsum"


def _letter(op, c):
    if not ("a" <= c <= "z" or "A" <= c <= "Z"):
        raise ValueError(f"{op}(): invalid subscript given at index of {c!r} in the equation "
                         f"string, subscripts must be in [a-zA-Z]")
    return ord(c)


def _parse(equation, shapes):
    """(operand label tuples, output labels) of an einsum equation for operands of `shapes`."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum(): more operands were provided than specified in the equation"
                         if len(shapes) > len(terms) else
                         f"einsum(): fewer operands were provided than specified in the "
                         f"equation")
    subs, ell = [], 0
    for i, (t, shape) in enumerate(zip(terms, shapes)):
        head, dots, tail = t.partition("...")
        if "." in head or "." in tail:
            raise ValueError(f"einsum(): found '.' for operand {i} that is not part of any "
                             f"ellipsis")
        letters = [_letter("einsum", c) for c in head + tail]
        ne = len(shape) - len(letters)
        if (not dots and ne != 0) or ne < 0:
            raise ValueError(f"einsum(): the number of subscripts in the equation "
                             f"({len(letters)}) does not match the number of dimensions "
                             f"({len(shape)}) for operand {i}"
                             + (" and no ellipsis was given" if not dots else ""))
        ell = max(ell, ne if dots else 0)
        mid = [-(ne - j) for j in range(ne)] if dots else []
        subs.append(tuple(letters[:len(head)] + mid + letters[len(head):]))
    ell_labels = [-(ell - j) for j in range(ell)]
    if arrow:
        head, dots, tail = rhs.partition("...")
        letters = [_letter("einsum", c) for c in head + tail]
        if len(set(letters)) != len(letters):
            raise ValueError(f"einsum(): output subscript appears more than once in the output "
                             f"{rhs!r}")
        seen = set().union(*subs)
        for c in letters:
            if c not in seen:
                raise ValueError(f"einsum(): output subscript {chr(c)} does not appear in the "
                                 f"equation for any input operand")
        out = tuple(letters[:len(head)] + (ell_labels if dots else []) + letters[len(head):])
    else:
        counts = {}
        for s in subs:
            for l in s:
                counts[l] = counts.get(l, 0) + 1
        out = tuple(ell_labels) + tuple(sorted(l for l, c in counts.items() if l > 0 and c == 1))
    return subs, out


def _label_sizes(op, subs, shapes):
    sizes = {}
    for i, (s, shape) in enumerate(zip(subs, shapes)):
        for l, n in zip(s, shape):
            m = sizes.get(l, 1)
            if m != n and m != 1 and n != 1:
                name = chr(l) if l > 0 else "..."
                raise ValueError(f"{op}(): operands do not broadcast: subscript {name!r} has "
                                 f"size {m} in an earlier operand and {n} in operand {i}")
            sizes[l] = max(m, n)
    return sizes


def _operands(op, operands):
    if len(operands) == 1 and isinstance(operands[0], (tuple, list)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError(f"{op}(): must provide at least one operand")
    for i, t in enumerate(operands):
        _check.tensor(op, f"operands[{i}]", t)
        if t.data.dtype != operands[0].data.dtype:
            raise TypeError(f"{op}(): expected all operands to have the same dtype, got "
                            f"{operands[0].data.dtype} (operand 0) and {t.data.dtype} "
                            f"(operand {i})")
    return operands


def einsum(equation, *operands):
    """torch.einsum(equation, *operands) (or a list of operands): letters a-z A-Z, '...',
    implicit output (alphabetical labels that appear once) or explicit '->'."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' expected a str, got "
                        f"{type(equation).__name__}")
    operands = _operands("einsum", operands)
    shapes = [t.data.shape for t in operands]
    subs, out = _parse(equation, shapes)
    _label_sizes("einsum", subs, shapes)
    return Einsum.apply((tuple(subs), out), *operands)


def tensordot(a, b, dims=2):
    """Sum over the last `dims` dims of a and the first `dims` of b, or over the dims listed
    in ``dims = (dims_a, dims_b)``; the result has a's free dims then b's."""
    _check.tensor("tensordot", "a", a)
    _check.tensor("tensordot", "b", b)
    na, nb = a.data.ndim, b.data.ndim
    if isinstance(dims, Tensor):
        dims = dims.data.tolist()
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        if not 0 <= dims <= min(na, nb):
            raise ValueError(f"tensordot(): argument 'dims' expected an int in [0, "
                             f"{min(na, nb)}], got {dims}")
        da, db = list(range(na - dims, na)), list(range(dims))
    elif isinstance(dims, (tuple, list)) and len(dims) == 2:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
        da = [wrap_dim("tensordot", d, na, "dims") for d in da]
        db = [wrap_dim("tensordot", d, nb, "dims") for d in db]
        if len(da) != len(db):
            raise ValueError(f"tensordot(): both dimension lists should have same length, got "
                             f"{len(da)} and {len(db)}")
    else:
        raise TypeError(f"tensordot(): argument 'dims' expected an int or a pair of dim lists, "
                        f"got {dims!r}")
    for x, y in zip(da, db):
        if a.data.shape[x] != b.data.shape[y]:
            raise ValueError(f"tensordot(): contracted dimensions need to match, but first has "
                             f"size {a.data.shape[x]} in dim {x} and second has size "
                             f"{b.data.shape[y]} in dim {y}")
    if a.data.dtype != b.data.dtype:
        raise TypeError(f"tensordot(): expected both inputs to have the same dtype, got "
                        f"{a.data.dtype} and {b.data.dtype}")
    la = tuple(range(1, na + 1))
    lb = [na + 1 + j for j in range(nb)]
    for x, y in zip(da, db):
        lb[y] = la[x]
    out = tuple(l for i, l in enumerate(la) if i not in da) + \
        tuple(l for j, l in enumerate(lb) if j not in db)
    return Einsum.apply(((la, tuple(lb)), out), a, b)


def outer(input, vec2):
    """The outer product of two 1-D tensors."""
    _check.tensor("outer", "input", input)
    _check.tensor("outer", "vec2", vec2)
    for name, v in (("input", input), ("vec2", vec2)):
        _check.ndim("outer", name, v.data, 1)
    if input.data.dtype != vec2.data.dtype:
        raise TypeError(f"outer(): expected both inputs to have the same dtype, got "
                        f"{input.data.dtype} and {vec2.data.dtype}")
    return Einsum.apply((((1,), (2,)), (1, 2)), input, vec2)


ger = outer


def kron(input, other):
    """Kronecker product: block (i, j, ...) is input[i, j, ...] * other (ranks padded with
    leading 1s)."""
    _check.tensor("kron", "input", input)
    _check.tensor("kron", "other", other)
    if input.data.dtype != other.data.dtype:
        raise TypeError(f"kron(): expected both inputs to have the same dtype, got "
                        f"{input.data.dtype} and {other.data.dtype}")
    nd = max(input.data.ndim, other.data.ndim)
    sa = (1,) * (nd - input.data.ndim) + input.data.shape
    sb = (1,) * (nd - other.data.ndim) + other.data.shape
    a = reshape(input, sa) if sa != input.data.shape else input
    b = reshape(other, sb) if sb != other.data.shape else other
    la = tuple(range(1, nd + 1))
    lb = tuple(range(nd + 1, 2 * nd + 1))
    out = tuple(l for pair in zip(la, lb) for l in pair)
    return reshape(Einsum.apply(((la, lb), out), a, b), tuple(x * y for x, y in zip(sa, sb)))


def cross(input, other, dim=None):
    """Cross product of 3-vectors along `dim` (None: the first dim of size 3, as torch.cross);
    the operands broadcast."""
    _check.tensor("cross", "input", input)
    _check.tensor("cross", "other", other)
    try:
        shape = np.broadcast_shapes(input.data.shape, other.data.shape)
    except ValueError:
        raise ValueError(f"cross(): shapes cannot be broadcast together: input has shape "
                         f"{input.data.shape}, other has shape {other.data.shape}") from None
    if dim is None:
        sizes = [d for d, n in enumerate(shape) if n == 3]
        if not sizes:
            raise ValueError(f"cross(): no dimension of size 3 in input (broadcast shape "
                             f"{shape})")
        d = sizes[0]
    else:
        d = wrap_dim("cross", dim, len(shape))
    if not shape or shape[d] != 3:
        raise ValueError(f"cross(): inputs dimension {d} must have length 3, got broadcast "
                         f"shape {shape}")
    a = expand(input, shape) if input.data.shape != shape else input
    b = expand(other, shape) if other.data.shape != shape else other
    a0, a1, a2 = unbind(a, d)
    b0, b1, b2 = unbind(b, d)
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


# ----------------------------------------------------------------------------- cdist
class Cdist(Function):
    """Distances between the rows of x1 (B, P, M) and x2 (B, R, M): kernels.distance."""

    @staticmethod
    def forward(ctx, x1, x2, code, p):
        x1, x2 = contiguous(x1), contiguous(x2)
        out = np.empty((x1.shape[0], x1.shape[1], x2.shape[1]), x1.dtype)
        KD.cdist_forward(code, p, x1, x2, out)
        ctx.code, ctx.p = code, p
        ctx.save_for_backward(x1, x2, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x1, x2, dist = ctx.saved_tensors
        g1 = np.zeros(x1.shape, x1.dtype)
        g2 = np.zeros(x2.shape, x2.dtype)
        KD.cdist_backward(ctx.code, ctx.p, x1, x2, dist, contiguous(g), g1, g2)
        return (g1 if ctx.needs_input_grad[0] else None,
                g2 if ctx.needs_input_grad[1] else None, None, None)

    @staticmethod
    def name_of(ctx):
        return "cdist"


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """p-norm distances between each row of x1 (..., P, M) and each row of x2 (..., R, M);
    batch dims broadcast. Computed directly for every p (no matrix-product shortcut, so
    ``compute_mode`` changes nothing); a zero distance has zero gradient, as in torch."""
    _check.tensor("cdist", "x1", x1)
    _check.tensor("cdist", "x2", x2)
    for name, x in (("x1", x1), ("x2", x2)):
        if x.data.ndim < 2:
            raise ValueError(f"cdist(): argument '{name}' expected a tensor with at least 2 "
                             f"dimensions, got {x.data.ndim}-D")
        if x.data.dtype.kind != "f":
            raise TypeError(f"cdist(): argument '{name}' expected a floating-point tensor, got "
                            f"dtype {x.data.dtype}")
    if x1.data.dtype != x2.data.dtype:
        raise TypeError(f"cdist(): expected both inputs to have the same dtype, got "
                        f"{x1.data.dtype} and {x2.data.dtype}")
    if compute_mode not in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"cdist(): argument 'compute_mode' got an invalid value "
                         f"{compute_mode!r}")
    s1, s2 = x1.data.shape, x2.data.shape
    if s1[-1] != s2[-1]:
        raise ValueError(f"cdist(): X1 and X2 must have the same number of columns. X1: "
                         f"{s1[-1]} X2: {s2[-1]}")
    p = float(p)
    if not p >= 0:
        raise ValueError(f"cdist(): only supports non-negative p values, got {p}")
    code = (KD.P2 if p == 2 else KD.P1 if p == 1 else KD.PINF if p == np.inf else
            KD.P0 if p == 0 else KD.PGEN)
    try:
        batch = np.broadcast_shapes(s1[:-2], s2[:-2])
    except ValueError:
        raise ValueError(f"cdist(): batch dimensions of x1 {s1} and x2 {s2} cannot be broadcast "
                         f"together") from None
    b = int(np.prod(batch, dtype=np.int64))
    a1 = expand(x1, batch + s1[-2:]) if s1[:-2] != batch else x1
    a2 = expand(x2, batch + s2[-2:]) if s2[:-2] != batch else x2
    out = Cdist.apply(reshape(a1, (b,) + s1[-2:]), reshape(a2, (b,) + s2[-2:]), code, p)
    return reshape(out, batch + (s1[-2], s2[-2]))
