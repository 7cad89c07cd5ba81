"""The shape-keyed plan caches are LRU-bounded: many distinct shapes (every sequence length of
an RNN, every last batch) do not grow them without end, and results stay right."""
import numpy as np

import jitgrad as jg
from jitgrad._ops import broadcast, reduce

CACHES = [broadcast._broadcast_plan, broadcast._sum_to_plan, reduce._sum_plan,
          reduce._row_plan]


def test_plan_caches_stay_bounded_over_many_shapes():
    for n in range(1, broadcast.PLAN_CACHE_SIZE + 300):
        a = jg.ones(n, 1, requires_grad=True)
        b = jg.ones(1, 2, requires_grad=True)
        y = a + b                                   # broadcast plan, then sum_to plans
        y.sum().backward()                          # a sum plan
        y.amax(dim=0)                               # a row plan
    for cache in CACHES:
        info = cache.cache_info()
        assert info.maxsize == broadcast.PLAN_CACHE_SIZE
        assert 0 < info.currsize <= info.maxsize, (cache, info)
    assert a.grad.shape == (a.shape[0], 1) and np.all(a.grad == 2)


def test_broadcast_error_still_names_the_op():
    import pytest
    with pytest.raises(ValueError, match="mul: shapes cannot be broadcast together"):
        jg.ones(3) * jg.ones(4)
