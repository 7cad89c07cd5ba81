"""Grad mode is thread-local with PyTorch's semantics."""
import threading

import jitgrad as jg


def _in_thread(fn):
    out = {}

    def run():
        out["value"] = fn()
    t = threading.Thread(target=run)
    t.start()
    t.join()
    return out["value"]


def test_new_threads_start_enabled_whatever_the_caller():
    with jg.no_grad():
        assert not jg.is_grad_enabled()
        assert _in_thread(jg.is_grad_enabled)
        x = jg.ones(2, requires_grad=True)
        assert _in_thread(lambda: (x * 2).requires_grad)
    assert jg.is_grad_enabled()


def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    inside, release = threading.Event(), threading.Event()

    def evaluator():
        with jg.no_grad():
            inside.set()
            release.wait(10)
    t = threading.Thread(target=evaluator)
    t.start()
    inside.wait(10)
    try:
        x = jg.ones(3, requires_grad=True)
        y = (x * x).sum()
        assert y.requires_grad
        y.backward()
        assert (x.grad == 2).all()
    finally:
        release.set()
        t.join()
    assert jg.is_grad_enabled()


def test_interleaved_no_grad_blocks_restore_each_threads_mode():
    """Two threads whose no_grad blocks interleave: each ends with its own mode restored."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    result = {}

    def a():
        with jg.no_grad():
            a_in.set()
            b_in.wait(10)
        a_out.set()
        result["a"] = jg.is_grad_enabled()

    def b():
        a_in.wait(10)
        with jg.no_grad():
            b_in.set()
            a_out.wait(10)
        result["b"] = jg.is_grad_enabled()
    ts = [threading.Thread(target=f) for f in (a, b)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert result == {"a": True, "b": True}
    assert jg.is_grad_enabled()


def test_set_grad_enabled_is_per_thread():
    prev = jg.is_grad_enabled()
    jg.set_grad_enabled(False)
    try:
        assert _in_thread(jg.is_grad_enabled)
        assert _in_thread(lambda: (jg.set_grad_enabled(False), jg.is_grad_enabled())[1]) is False
        assert not jg.is_grad_enabled()
    finally:
        jg.set_grad_enabled(prev)
