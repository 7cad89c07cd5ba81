"""scaled_dot_product_attention (fused) against the composed matmul/softmax version and against
PyTorch; MultiheadAttention and the Transformer modules against PyTorch (state dicts loaded,
float64, eval and training-mode gradients)."""
import math

import numpy as np
import pytest

import jitgrad as jg
import jitgrad.nn as nn
import jitgrad.nn.functional as F

RNG = np.random.default_rng(0)
# torch's own notices about its nested-tensor fast path and mixed mask types
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*(nested_tensor|nested tensors|mismatched key_padding_mask)")


def _arr(*shape):
    return RNG.standard_normal(shape)


def _composed(q, k, v, mask=None, is_causal=False, scale=None, keep=None):
    """The attention from public matmul / softmax / where ops (the reference the fused
    Function must match, values and gradients); `keep` is a dropout keep-scale array."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = jg.matmul(q, k.transpose(-2, -1)) * scale
    L, S = s.shape[-2:]
    if is_causal:
        s = s.masked_fill(jg.tensor(~np.tril(np.ones((L, S), bool))), -np.inf)
    if mask is not None:
        s = s.masked_fill(jg.tensor(~mask.numpy()), -np.inf) if mask.dtype == jg.bool \
            else s + mask
    p = F.softmax(s, dim=-1)
    if keep is not None:
        p = p * jg.tensor(keep)
    return jg.matmul(p, v)


def _leaves(*arrays):
    return [jg.tensor(a, requires_grad=True) for a in arrays]


def _grads_match(out_a, out_b, ins_a, ins_b, atol=1e-12):
    g = _arr(*out_a.shape)
    np.testing.assert_allclose(out_a.detach().numpy(), out_b.detach().numpy(), atol=atol)
    (out_a * jg.tensor(g)).sum().backward()
    (out_b * jg.tensor(g)).sum().backward()
    for a, b in zip(ins_a, ins_b):
        np.testing.assert_allclose(a.grad, b.grad, atol=atol)


def _bool_mask(*shape):
    """A random bool mask whose key 0 is always attended (the composed softmax gives NaN for a
    fully masked query; that case has its own test)."""
    m = RNG.random(shape) > 0.4
    m[..., 0] = True
    return m


MASKS = {
    "none": None,
    "bool (L, S)": lambda: _bool_mask(3, 5),
    "float (N, 1, 1, S)": lambda: _arr(2, 1, 1, 5),
    "bool (H, 1, S) broadcast": lambda: _bool_mask(4, 1, 5),
}


@pytest.mark.parametrize("mask", list(MASKS))
def test_sdpa_matches_composed(mask):
    q, k, v = _arr(2, 4, 3, 6), _arr(2, 4, 5, 6), _arr(2, 4, 5, 3)
    m = MASKS[mask]() if MASKS[mask] else None
    a, b = _leaves(q, k, v), _leaves(q, k, v)
    ma = None if m is None else jg.tensor(m)
    _grads_match(F.scaled_dot_product_attention(*a, attn_mask=ma), _composed(*b, mask=ma), a, b)


def test_sdpa_causal_scale_and_broadcast_batch_match_composed():
    q, k, v = _arr(3, 2, 4, 5), _arr(1, 2, 6, 5), _arr(3, 1, 6, 2)
    a, b = _leaves(q, k, v), _leaves(q, k, v)
    _grads_match(F.scaled_dot_product_attention(*a, is_causal=True, scale=0.3),
                 _composed(*b, is_causal=True, scale=0.3), a, b)


@pytest.mark.parametrize("mshape", [(3, 5), (2, 3, 5)], ids=["broadcast", "full shape"])
def test_sdpa_float_mask_gradient_matches_composed(mshape):
    q, k, v, m = _arr(2, 3, 4), _arr(2, 5, 4), _arr(2, 5, 4), _arr(*mshape)
    a, b = _leaves(q, k, v, m), _leaves(q, k, v, m)
    _grads_match(F.scaled_dot_product_attention(*a[:3], attn_mask=a[3]),
                 _composed(*b[:3], mask=b[3]), a, b)


def test_sdpa_dropout_uses_jitgrad_generator_and_matches_composed():
    q, k, v = _arr(2, 3, 4), _arr(2, 5, 4), _arr(2, 5, 3)
    a, b = _leaves(q, k, v), _leaves(q, k, v)
    jg.manual_seed(7)
    out = F.scaled_dot_product_attention(*a, dropout_p=0.4)
    jg.manual_seed(7)  # the same draws, in the layout the kernel reads them: (2, 3, 5) floats
    u = jg.default_generator.numpy.random((2, 3, 5), dtype=np.float32)
    keep = np.where(u >= 0.4, 1 / 0.6, 0.0)
    _grads_match(out, _composed(*b, keep=keep), a, b)
    jg.manual_seed(7)
    again = F.scaled_dot_product_attention(*_leaves(q, k, v), dropout_p=0.4)
    np.testing.assert_array_equal(again.detach().numpy(), out.detach().numpy())
    zero = F.scaled_dot_product_attention(*_leaves(q, k, v), dropout_p=1.0)
    np.testing.assert_array_equal(zero.detach().numpy(), 0.0)


def test_sdpa_dropout_gradcheck_with_fixed_seed():
    q, k, v = _leaves(_arr(2, 3, 4), _arr(2, 4, 4), _arr(2, 4, 2))

    def f(q, k, v):
        jg.manual_seed(3)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)
    assert jg.gradcheck(f, [q, k, v])


def test_sdpa_fully_masked_query_gives_zero_output_and_gradient():
    q, k, v = _leaves(_arr(1, 2, 3), _arr(1, 4, 3), _arr(1, 4, 2))
    mask = np.ones((2, 4), bool)
    mask[0] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=jg.tensor(mask))
    out.sum().backward()
    np.testing.assert_array_equal(out.detach().numpy()[0, 0], 0.0)
    np.testing.assert_array_equal(q.grad[0, 0], 0.0)
    assert np.all(np.isfinite(k.grad)) and np.all(np.isfinite(v.grad))


def test_sdpa_nan_propagates_as_torch():
    q, k, v = _arr(1, 3, 4), _arr(1, 5, 4), _arr(1, 5, 2)
    q[0, 1, 2] = np.nan  # one query's scores are all NaN: that output row is NaN
    out = F.scaled_dot_product_attention(jg.tensor(q), jg.tensor(k), jg.tensor(v)).numpy()
    assert np.isnan(out[0, 1]).all() and np.isfinite(out[0, [0, 2]]).all()
    k[0, 3, 0] = np.nan  # one key's score is NaN in every row: every output is NaN
    out = F.scaled_dot_product_attention(jg.tensor(q), jg.tensor(k), jg.tensor(v)).numpy()
    assert np.isnan(out).all()


def test_sdpa_float32_stays_float32_and_accepts_strided_views():
    x = jg.tensor(_arr(4, 2, 3, 8).astype(np.float32))
    q = x.permute(1, 2, 0, 3)  # (2, 3, 4, 8) strided, as MultiheadAttention passes heads
    out = F.scaled_dot_product_attention(q, q, q)
    assert out.dtype == jg.float32 and out.shape == (2, 3, 4, 8)
    ref = _composed(q.double(), q.double(), q.double())
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("args,exc,match", [
    (dict(key=_arr(2, 5, 3)), ValueError, "'key' expected last dim 4"),
    (dict(value=_arr(2, 4, 3)), ValueError, "'value' expected sequence length 5"),
    (dict(query=_arr(3, 3, 4)), ValueError, "do not broadcast"),
    (dict(value=_arr(2, 5, 3).astype(np.float32)), TypeError, "'value' expected dtype float64"),
    (dict(attn_mask=np.zeros((3, 5), np.int64)), TypeError, "'attn_mask' expected a bool"),
    (dict(attn_mask=np.zeros((4, 5))), ValueError, "'attn_mask' expected a shape"),
    (dict(attn_mask=np.ones((3, 5), bool), is_causal=True), ValueError, "is_causal"),
    (dict(dropout_p=1.5), ValueError, "dropout_p"),
    (dict(enable_gqa=True), NotImplementedError, "enable_gqa"),
])
def test_sdpa_errors_name_the_argument(args, exc, match):
    call = dict(query=_arr(2, 3, 4), key=_arr(2, 5, 4), value=_arr(2, 5, 3))
    call.update(args)
    call = {n: jg.tensor(a) if isinstance(a, np.ndarray) else a for n, a in call.items()}
    with pytest.raises(exc, match=match):
        F.scaled_dot_product_attention(**call)


# ----------------------------------------------------------------------------- vs PyTorch
torch = pytest.importorskip("torch")


def _t(a, grad=False):
    return torch.tensor(a, requires_grad=grad)


def _load(jm, tm):
    sd = {k: v.detach().numpy() for k, v in tm.state_dict().items()}
    assert list(jm.state_dict()) == list(sd)
    jm.load_state_dict(sd)


def _j(x):
    return None if x is None else jg.tensor(x.detach().numpy())


def _close(a, b, atol=1e-12):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=atol, rtol=1e-10)


@pytest.mark.parametrize("kw", [dict(), dict(is_causal=True), dict(scale=0.5),
                                dict(mask="bool"), dict(mask="float")])
def test_sdpa_matches_torch(kw):
    kw = dict(kw)
    q, k, v = _arr(2, 2, 4, 3), _arr(2, 2, 6, 3), _arr(2, 2, 6, 5)
    mask = kw.pop("mask", None)
    m = None if mask is None else (RNG.random((2, 1, 4, 6)) > 0.3 if mask == "bool"
                                   else _arr(1, 2, 4, 6))
    tin = [_t(a, True) for a in (q, k, v)]
    jin = _leaves(q, k, v)
    tm = None if m is None else _t(m, mask == "float")
    jm = None if m is None else jg.tensor(m, requires_grad=mask == "float")
    to = torch.nn.functional.scaled_dot_product_attention(*tin, attn_mask=tm, **kw)
    jo = F.scaled_dot_product_attention(*jin, attn_mask=jm, **kw)
    g = _arr(*to.shape)
    (to * _t(g)).sum().backward()
    (jo * jg.tensor(g)).sum().backward()
    _close(to, jo)
    for a, b in zip(tin + ([tm] if mask == "float" else []), jin + ([jm] if mask == "float"
                                                                    else [])):
        np.testing.assert_allclose(a.grad.numpy(), b.grad, atol=1e-12)


MHA_CONFIGS = [dict(), dict(batch_first=True), dict(add_bias_kv=True), dict(add_zero_attn=True),
               dict(bias=False), dict(kdim=5, vdim=3)]
MHA_CALLS = [dict(), dict(kpm=True), dict(kpm=True, attn_mask="float"),
             dict(attn_mask="bool", need_weights=False), dict(average_attn_weights=False),
             dict(attn_mask="3d")]


def _mha_pair(kw, E=8, H=2):
    tm = torch.nn.MultiheadAttention(E, H, dtype=torch.float64, **kw)
    jm = nn.MultiheadAttention(E, H, dtype=jg.float64, **kw)
    _load(jm, tm)
    return tm, jm


@pytest.mark.parametrize("kw", MHA_CONFIGS, ids=lambda k: ",".join(k) or "default")
def test_multihead_attention_matches_torch_eval(kw):
    tm, jm = _mha_pair(kw)
    tm.eval()
    jm.eval()
    L, S, N, E, H = 3, 4, 2, 8, 2
    bf = kw.get("batch_first", False)

    def x(T, d):
        return torch.randn(*((N, T, d) if bf else (T, N, d)), dtype=torch.float64)
    q, k, v = x(L, E), x(S, kw.get("kdim", E)), x(S, kw.get("vdim", E))
    for call in MHA_CALLS:
        c = dict(call)
        kpm = c.pop("kpm", False)
        am = c.pop("attn_mask", None)
        args = dict(c)
        if kpm:
            args["key_padding_mask"] = torch.zeros(N, S, dtype=torch.bool)
            args["key_padding_mask"][0, -1] = True
        if am == "float":
            args["attn_mask"] = torch.randn(L, S, dtype=torch.float64)
        elif am == "bool":
            args["attn_mask"] = torch.rand(L, S) > 0.7
        elif am == "3d":
            args["attn_mask"] = torch.randn(N * H, L, S, dtype=torch.float64)
        to, tw = tm(q, k, v, **args)
        jo, jw = jm(_j(q), _j(k), _j(v), **{n: _j(a) if isinstance(a, torch.Tensor) else a
                                             for n, a in args.items()})
        _close(to, jo)
        assert (tw is None) == (jw is None)
        if tw is not None:
            _close(tw, jw)
    if "kdim" not in kw:  # self-attention: query is key is value (one packed projection GEMM)
        to, tw = tm(q, q, q)
        xq = _j(q)
        jo, jw = jm(xq, xq, xq)
        _close(to, jo)
        _close(tw, jw)


def test_multihead_attention_unbatched_and_parameter_layout():
    tm, jm = _mha_pair({})
    q = torch.randn(3, 8, dtype=torch.float64)
    to, tw = tm(q, q, q)
    jo, jw = jm(_j(q), _j(q), _j(q))
    assert jo.shape == (3, 8) and jw.shape == (3, 3)
    _close(to, jo)
    _close(tw, jw)
    fresh = nn.MultiheadAttention(8, 2)
    assert [n for n, _ in fresh.named_parameters()] == \
        ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert type(fresh.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert fresh.in_proj_weight.dtype == jg.float32
    assert np.all(fresh.in_proj_bias.data == 0) and np.all(fresh.out_proj.bias.data == 0)
    bound = math.sqrt(6 / (8 + 24))  # xavier_uniform_ over (3E, E)
    assert np.abs(fresh.in_proj_weight.data).max() <= bound
    sep = nn.MultiheadAttention(8, 2, kdim=5, vdim=3)
    assert [n for n, _ in sep.named_parameters()] == \
        ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj.weight",
         "out_proj.bias"]


def test_multihead_attention_gradients_match_torch_in_training_mode():
    tm, jm = _mha_pair(dict(add_bias_kv=True))
    q = torch.randn(3, 2, 8, dtype=torch.float64, requires_grad=True)
    kv = torch.randn(4, 2, 8, dtype=torch.float64, requires_grad=True)
    kpm = torch.zeros(2, 4, dtype=torch.bool)
    kpm[1, 0] = True
    jq, jkv = jg.tensor(q.detach().numpy(), requires_grad=True), \
        jg.tensor(kv.detach().numpy(), requires_grad=True)
    to, tw = tm(q, kv, kv, key_padding_mask=kpm)
    jo, jw = jm(jq, jkv, jkv, key_padding_mask=_j(kpm))
    go, gw = _arr(*to.shape), _arr(*tw.shape)  # a gradient through the returned weights too
    ((to * _t(go)).sum() + (tw * _t(gw)).sum()).backward()
    ((jo * jg.tensor(go)).sum() + (jw * jg.tensor(gw)).sum()).backward()
    np.testing.assert_allclose(q.grad.numpy(), jq.grad, atol=1e-12)
    np.testing.assert_allclose(kv.grad.numpy(), jkv.grad, atol=1e-12)
    for (n, p), (tn, tp) in zip(jm.named_parameters(), tm.named_parameters()):
        assert n == tn
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), atol=1e-12, err_msg=n)


@pytest.mark.parametrize("kw,match", [
    (dict(embed_dim=10, num_heads=3), "divisible"),
    (dict(embed_dim=0, num_heads=1), "greater than 0"),
])
def test_multihead_attention_constructor_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        nn.MultiheadAttention(**kw)


def test_multihead_attention_call_errors():
    m = nn.MultiheadAttention(8, 2, dtype=jg.float64)
    x = jg.tensor(_arr(3, 2, 8))
    with pytest.raises(ValueError, match="embedding dimension of 8"):
        m(jg.tensor(_arr(3, 2, 6)), x, x)
    with pytest.raises(ValueError, match="key_padding_mask shape"):
        m(x, x, x, key_padding_mask=jg.tensor(np.zeros((3, 3), bool)))
    with pytest.raises(ValueError, match="2D attn_mask"):
        m(x, x, x, attn_mask=jg.tensor(np.zeros((3, 4))))
    with pytest.raises(ValueError, match="is_causal"):
        m(x, x, x, is_causal=True)


ENCODER_CONFIGS = [dict(), dict(norm_first=True, activation="gelu"), dict(batch_first=True)]


@pytest.mark.parametrize("kw", ENCODER_CONFIGS, ids=lambda k: ",".join(k) or "default")
def test_transformer_encoder_matches_torch_eval(kw):
    tl = torch.nn.TransformerEncoderLayer(8, 2, 16, dtype=torch.float64, **kw)
    te = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(8, dtype=torch.float64),
                                     enable_nested_tensor=False)
    je = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dtype=jg.float64, **kw), 2,
                               norm=nn.LayerNorm(8, dtype=jg.float64))
    _load(je, te)
    te.eval()
    je.eval()
    src = torch.randn(*((3, 5, 8) if kw.get("batch_first") else (5, 3, 8)), dtype=torch.float64)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    kpm = torch.zeros(3, 5, dtype=torch.bool)
    kpm[1, 3:] = True
    _close(te(src), je(_j(src)))
    _close(te(src, mask=mask), je(_j(src), mask=_j(mask)))
    _close(te(src, src_key_padding_mask=kpm), je(_j(src), src_key_padding_mask=_j(kpm)))


@pytest.mark.parametrize("kw", [dict(), dict(norm_first=True, batch_first=True)],
                         ids=["default", "norm_first,batch_first"])
def test_transformer_matches_torch_eval(kw):
    tt = torch.nn.Transformer(8, 2, 2, 2, 16, dtype=torch.float64, **kw)
    jt = nn.Transformer(8, 2, 2, 2, 16, dtype=jg.float64, **kw)
    _load(jt, tt)
    tt.eval()
    jt.eval()
    src, tgt = torch.randn(5, 3, 8, dtype=torch.float64), torch.randn(4, 3, 8,
                                                                       dtype=torch.float64)
    if kw.get("batch_first"):
        src, tgt = src.transpose(0, 1).contiguous(), tgt.transpose(0, 1).contiguous()
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    mkpm = torch.zeros(3, 5, dtype=torch.bool)
    mkpm[2, 4] = True
    _close(tt(src, tgt, tgt_mask=tmask, memory_key_padding_mask=mkpm),
           jt(_j(src), _j(tgt), tgt_mask=_j(tmask), memory_key_padding_mask=_j(mkpm)))


def test_encoder_layer_training_gradients_match_torch():
    """One training-mode step (dropout 0) of a post-norm encoder layer: every parameter's
    gradient equals torch's in float64."""
    tl = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, dtype=torch.float64)
    jl = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, dtype=jg.float64)
    _load(jl, tl)
    src = torch.randn(5, 3, 8, dtype=torch.float64)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    g = _arr(5, 3, 8)
    (tl(src, src_mask=mask, is_causal=True) * _t(g)).sum().backward()
    (jl(_j(src), src_mask=_j(mask), is_causal=True) * jg.tensor(g)).sum().backward()
    for (n, p), (tn, tp) in zip(jl.named_parameters(), tl.named_parameters()):
        assert n == tn
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), atol=1e-11, err_msg=n)


def test_decoder_layer_matches_torch_and_square_subsequent_mask():
    tl = torch.nn.TransformerDecoderLayer(8, 2, 16, dtype=torch.float64, norm_first=True)
    jl = nn.TransformerDecoderLayer(8, 2, 16, dtype=jg.float64, norm_first=True)
    td, jd = torch.nn.TransformerDecoder(tl, 2), nn.TransformerDecoder(jl, 2)
    _load(jd, td)
    td.eval()
    jd.eval()
    tgt, mem = torch.randn(4, 2, 8, dtype=torch.float64), torch.randn(6, 2, 8,
                                                                       dtype=torch.float64)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    _close(td(tgt, mem, tgt_mask=tmask), jd(_j(tgt), _j(mem), tgt_mask=_j(tmask)))
    m = nn.Transformer.generate_square_subsequent_mask(3)
    assert m.dtype == jg.float32
    np.testing.assert_array_equal(
        m.numpy(), torch.nn.Transformer.generate_square_subsequent_mask(3).numpy())


def test_transformer_errors_and_defaults():
    t = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                       dim_feedforward=16)
    with pytest.raises(ValueError, match="batch number"):
        t(jg.randn(5, 3, 8), jg.randn(4, 2, 8))
    with pytest.raises(ValueError, match="d_model=8"):
        t(jg.randn(5, 3, 6), jg.randn(4, 3, 6))
    with pytest.raises(ValueError, match="relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    layer = nn.TransformerEncoderLayer(8, 2)
    assert layer.linear1.out_features == 2048 and layer.dropout.p == 0.1
    assert layer.norm1.eps == 1e-5 and not layer.self_attn.batch_first
    torch_keys = list(torch.nn.Transformer(8, 2, 1, 1, 16).state_dict())
    assert list(t.state_dict()) == torch_keys


def test_encoder_matches_torch_fast_path_at_unpadded_positions():
    """torch's inference fast path (no_grad, eval, batch_first: nested tensors) returns zeros
    at padded positions; jitgrad computes them like any other position. Elsewhere they agree."""
    tl = torch.nn.TransformerEncoderLayer(8, 2, 16, dtype=torch.float64, batch_first=True)
    te = torch.nn.TransformerEncoder(tl, 2)
    je = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dtype=jg.float64,
                                                          batch_first=True), 2)
    _load(je, te)
    te.eval()
    je.eval()
    src = torch.randn(3, 5, 8, dtype=torch.float64)
    kpm = torch.zeros(3, 5, dtype=torch.bool)
    kpm[1, 3:] = True
    with torch.no_grad():
        want = te(src, src_key_padding_mask=kpm).numpy()
    with jg.no_grad():
        got = je(_j(src), src_key_padding_mask=_j(kpm)).numpy()
    keep = ~kpm.numpy()
    np.testing.assert_allclose(got[keep], want[keep], atol=1e-12)
    np.testing.assert_array_equal(want[~keep], 0.0)
