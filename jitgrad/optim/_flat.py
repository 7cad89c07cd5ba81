"""FlatBuffer: one dtype's parameters of one parameter group as views into one contiguous array.

Each parameter's ``.data`` is rebound to a view of ``data``; the gradients live in a GradStore
(``store``, its flat array is ``grad``; protocol in jitgrad/autograd/grad_store.py), so after
backward every gradient already sits in ``grad`` and an optimizer step is one kernel call over
the buffer.
Optimizer state (moments, accumulators) lives in flat arrays of the same layout; per-parameter
scalars (step count, NAdam's mu product) in small per-parameter arrays.
"""
from operator import is_

import numpy as np

from ..autograd.grad_store import GradStore

_EMPTY = {}


def empty(dtype):
    """A shared 0-size array standing in for a state buffer an update does not use."""
    a = _EMPTY.get(dtype)
    if a is None:
        a = _EMPTY[dtype] = np.empty(0, dtype)
    return a


class FlatBuffer:
    __slots__ = ("params", "dtype", "offsets", "shapes", "data", "store", "grad", "views",
                 "gviews", "state", "steps", "extras", "_full", "_all")

    def __init__(self, params, dtype):
        self.params = list(params)
        self.dtype = np.dtype(dtype)
        self.shapes = [p.data.shape for p in self.params]
        sizes = [p.data.size for p in self.params]
        self.offsets = np.zeros(len(sizes) + 1, np.int64)
        np.cumsum(sizes, out=self.offsets[1:])
        n = int(self.offsets[-1])
        self.data = np.empty(n, self.dtype)
        self.views = []
        for p, lo, hi in zip(self.params, self.offsets[:-1], self.offsets[1:]):
            v = self.data[lo:hi].reshape(p.data.shape)
            np.copyto(v, p.data, casting="unsafe")
            p.data = v
            self.views.append(v)
        self.store = GradStore(self.params, self.dtype, self.offsets)
        self.store.attach()
        self.grad, self.gviews = self.store.grad, self.store.views
        self.state = {}
        self.steps = np.zeros(len(self.params), np.int64)
        self.extras = {}
        self._full = np.array([[0, n]], np.int64)
        self._all = ((0, len(self.params)),)

    # ------------------------------------------------------------------------- layout checks
    def intact(self):
        """True if every parameter's data is still the view this buffer gave it."""
        return all(map(is_, [p.data for p in self.params], self.views))

    def slice(self, i):
        return slice(int(self.offsets[i]), int(self.offsets[i + 1]))

    # ------------------------------------------------------------------------- state arrays
    def state_array(self, name, init=0.0):
        a = self.state.get(name)
        if a is None:
            a = self.state[name] = np.full(self.data.size, init, self.dtype)
        return a

    def extra(self, name, init=1.0):
        a = self.extras.get(name)
        if a is None:
            a = self.extras[name] = np.full(len(self.params), init, np.float64)
        return a

    # ------------------------------------------------------------------------- a step's plan
    def plan(self):
        """Bump the step count of every parameter that has a gradient and return (seg, runs):
        the [lo, hi) element runs to update (int64, nseg x 2) and, per run, the (i0, i1) range
        of parameters it covers (they share step count and extras); (None, None) if nothing
        to do.
        Gradients set by hand (not the buffer's view) are copied into the buffer first."""
        grads = [p._grad for p in self.params]
        if all(map(is_, grads, self.gviews)):
            steps = self.steps
            steps += 1
            if len(steps) and steps[0] == steps[-1] and (steps == steps[0]).all() and \
                    all((e == e[0]).all() for e in self.extras.values()):
                return self._full, self._all
            act = np.ones(len(steps), bool)
        else:
            act = np.zeros(len(grads), bool)
            for i, (p, g, gv) in enumerate(zip(self.params, grads, self.gviews)):
                if g is None:
                    continue
                if g is not gv:
                    if g.shape != gv.shape:
                        raise RuntimeError(f"optimizer step: parameter {i} of shape {gv.shape} "
                                           f"has a gradient of shape {g.shape}")
                    np.copyto(gv, g, casting="unsafe")
                    p._grad = gv
                act[i] = True
            if not act.any():
                return None, None
            self.steps[act] += 1
        return self._runs(act)

    def _runs(self, act):
        idx = np.flatnonzero(act)
        cut = np.diff(idx) != 1
        for key in (self.steps, *self.extras.values()):
            k = key[idx]
            cut |= k[1:] != k[:-1]
        brk = np.flatnonzero(cut) + 1
        starts = np.concatenate(([0], brk))
        ends = np.concatenate((brk, [len(idx)]))
        seg = np.empty((len(starts), 2), np.int64)
        seg[:, 0] = self.offsets[idx[starts]]
        seg[:, 1] = self.offsets[idx[ends - 1] + 1]
        return seg, list(zip(idx[starts].tolist(), (idx[ends - 1] + 1).tolist()))

    # ------------------------------------------------------------------------- per-parameter state
    def get_param_state(self, i):
        """(step, {name: copy of the parameter's slice}, {extra: float})."""
        sl = self.slice(i)
        arrays = {k: a[sl].reshape(self.shapes[i]).copy() for k, a in self.state.items()}
        return int(self.steps[i]), arrays, {k: float(e[i]) for k, e in self.extras.items()}

    def set_param_state(self, i, step, arrays, extras, inits):
        """Write one parameter's state (arrays cast to this buffer's dtype); names missing
        from `arrays` reset to their init value from `inits`."""
        sl = self.slice(i)
        self.steps[i] = step
        for name, init in inits.items():
            a = self.state_array(name, init)
            if name in arrays:
                a[sl] = np.asarray(arrays[name]).reshape(-1)
            else:
                a[sl] = init
        for name, value in extras.items():
            self.extra(name)[i] = value
