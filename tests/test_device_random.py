"""The CPU device vocabulary and jitgrad.Generator (seeding, state round trips, generator=)."""
import numpy as np
import pytest

import jitgrad as jg
from jitgrad import nn


def test_cpu_device_vocabulary():
    d = jg.device("cpu")
    assert str(d) == "cpu" and d == jg.device("cpu:0") and d.type == "cpu"
    x = jg.zeros(2, 3, device="cpu")
    assert x.device == d and x.to("cpu") is x and x.cpu() is x
    assert x.to("cpu", jg.float64).dtype == np.float64
    assert x.to(device=d, dtype=jg.float64).dtype == np.float64
    m = nn.Linear(3, 2, device="cpu")
    assert m.cpu() is m and m.to("cpu") is m and m.weight.device == d
    assert jg.cuda.is_available() is False and jg.cuda.device_count() == 0
    for make in (lambda: jg.device("cuda"), lambda: jg.zeros(2, device="cuda:0"),
                 lambda: x.to("cuda"), lambda: m.to("mps"), lambda: nn.Linear(2, 2, device="cuda"),
                 lambda: jg.randn(2, device="cuda")):
        with pytest.raises(RuntimeError, match="CPU only"):
            make()


def test_generator_streams_are_reproducible_and_independent():
    g1, g2 = jg.Generator().manual_seed(5), jg.Generator().manual_seed(5)
    a = jg.randn(4, generator=g1)
    jg.manual_seed(0)
    jg.randn(10)                                  # the default stream moves; g2's does not
    assert np.array_equal(a.numpy(), jg.randn(4, generator=g2).numpy())
    assert g1.initial_seed() == 5
    assert jg.manual_seed(3) is jg.default_generator


def test_state_round_trips_through_save_and_load(tmp_path):
    jg.manual_seed(11)
    jg.rand(3)
    state = jg.get_rng_state()
    assert state.dtype == np.uint8 and state.shape == (40,)
    want = [jg.randn(5).numpy(), jg.randint(0, 9, (4,)).numpy(), jg.randperm(6).numpy()]
    jg.save({"rng": state}, tmp_path / "ck.jg")
    jg.manual_seed(99)
    jg.set_rng_state(jg.load(tmp_path / "ck.jg")["rng"])
    got = [jg.randn(5).numpy(), jg.randint(0, 9, (4,)).numpy(), jg.randperm(6).numpy()]
    for w, g in zip(want, got):
        assert np.array_equal(w, g)


def test_init_and_random_functions_take_a_generator():
    w1, w2 = nn.Parameter(np.zeros((3, 4), np.float32)), nn.Parameter(np.zeros((3, 4), np.float32))
    nn.init.kaiming_uniform_(w1, generator=jg.Generator().manual_seed(1))
    nn.init.kaiming_uniform_(w2, generator=jg.Generator().manual_seed(1))
    assert np.array_equal(w1.data, w2.data) and np.abs(w1.data).max() > 0
    with pytest.raises(ValueError, match="set_state"):
        jg.Generator().set_state(jg.zeros(3, dtype=jg.int64))
    with pytest.raises(TypeError, match="generator"):
        jg.randn(2, generator=np.random.default_rng(0))


@pytest.mark.parametrize("make", [
    lambda **kw: nn.Conv2d(1, 2, 3, **kw), lambda **kw: nn.Conv1d(1, 2, 3, **kw),
    lambda **kw: nn.ConvTranspose2d(1, 2, 3, **kw), lambda **kw: nn.ConvTranspose1d(1, 2, 3, **kw),
    lambda **kw: nn.LSTM(3, 4, **kw), lambda **kw: nn.GRU(3, 4, **kw), lambda **kw: nn.RNN(3, 4, **kw),
    lambda **kw: nn.LSTMCell(3, 4, **kw), lambda **kw: nn.GRUCell(3, 4, **kw),
    lambda **kw: nn.RNNCell(3, 4, **kw)])
def test_every_layer_takes_device_and_dtype(make):
    m = make(device="cpu", dtype=jg.float64)
    assert all(p.dtype == np.float64 for p in m.parameters())
    with pytest.raises(RuntimeError, match="CPU only"):
        make(device="cuda")
