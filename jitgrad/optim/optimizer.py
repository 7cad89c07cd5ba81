"""Optimizer: parameter groups over flat buffers, zero_grad, step, state dicts (PyTorch's layout).

Every group's parameters are re-homed, per dtype, into one FlatBuffer when the group is added,
so a step is one fused kernel call per (group, dtype) whatever the number of tensors. step()
checks that each parameter's ``.data`` is still the view it was given (users may rebind it, or a
module may change dtype); if not, the group is re-homed into fresh buffers, carrying its state
over (cast to the new dtype).
"""
from operator import is_

import numpy as np

from .._grad_mode import enable_grad
from .._threads import one_thread_below, restore_threads
from .._tensor import Tensor
from ._flat import FlatBuffer


# Without the shared BLAS pool (jitgrad/_blas_pool.py) a second numba thread finds no free core
# right after a GEMM (OpenBLAS's threads spin): Adam over 262k parameters there took 237 us on one
# thread and 268 us on two, 1066 against 1089 at 1M; an update below this size then runs on one.
SERIAL_BELOW = 1 << 19


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


class _Layout:
    __slots__ = ("params", "buffers", "where")

    def __init__(self, params):
        self.params = list(params)
        by_dtype = {}
        for p in self.params:
            by_dtype.setdefault(p.data.dtype, []).append(p)
        self.buffers = [FlatBuffer(ps, dt) for dt, ps in by_dtype.items()]
        self.where = {id(p): (b, i) for b in self.buffers for i, p in enumerate(b.params)}

    def intact(self, params):
        return (len(params) == len(self.params) and all(map(is_, params, self.params))
                and all(b.intact() for b in self.buffers))


class Optimizer:
    """Base class. Subclasses set ``_extras`` (per-parameter scalars and their initial values),
    implement ``_state_inits(group)`` ({flat state name: initial value}) and
    ``_update(group, buf, seg, runs)`` (one kernel call; see FlatBuffer.plan)."""

    _extras = {}
    _export_step = True
    _eager_state = False  # state exists before the first step (Adagrad)

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.param_groups = []
        self._layouts = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got a Tensor")
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)
        self.state = _StateView(self)

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params"]
        return "\n".join(lines) + "\n)"

    # ------------------------------------------------------------------------- groups
    def add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params "
                                f"is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
            if p.data.dtype.kind != "f":
                raise TypeError(f"optimizer can only optimize floating-point Tensors, got "
                                f"dtype {p.data.dtype}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)
        self._layouts.append(self._build(group, None))

    def _build(self, group, old):
        """Re-home the group's parameters into fresh buffers, keeping state from `old`."""
        saved = {}
        if old is not None:
            for p in old.params:
                buf, i = old.where[id(p)]
                step, arrays, extras = buf.get_param_state(i)
                if step or self._eager_state:
                    if arrays and next(iter(arrays.values())).shape != p.data.shape:
                        raise RuntimeError(
                            f"{type(self).__name__}: a parameter's shape changed from "
                            f"{buf.shapes[i]} to {p.data.shape} after it was given optimizer "
                            f"state; create a new optimizer (or load a matching state dict)")
                    saved[id(p)] = (step, arrays, extras)
        layout = _Layout(group["params"])
        inits = self._state_inits(group)
        for buf in layout.buffers:
            for name, init in inits.items():
                buf.state_array(name, init)
            for name, init in self._extras.items():
                buf.extra(name, init)
            for i, p in enumerate(buf.params):
                if id(p) in saved:
                    buf.set_param_state(i, *saved[id(p)], inits)
        return layout

    def _layout(self, gi):
        group, layout = self.param_groups[gi], self._layouts[gi]
        if not layout.intact(group["params"]):
            layout = self._layouts[gi] = self._build(group, layout)
        return layout

    # ------------------------------------------------------------------------- gradients
    def grad_buffers(self):
        """The flat gradient arrays backward writes into: one per parameter group and dtype,
        in group order, each C-contiguous and 1-D (parameter i of the buffer occupies a
        contiguous slice, in the group's parameter order).

        Protocol (jitgrad/autograd/grad_store.py): after ``backward()``, a parameter's slice
        holds its gradient whenever ``p.grad`` is None before backward (the engine writes there
        and makes ``p.grad`` a view of it) or already is that view (accumulation). After
        ``zero_grad()`` (set_to_none) the slices keep stale values until the next backward
        writes them; ``zero_grad(set_to_none=False)`` fills them with zeros. Changing a buffer
        in place (clipping, an all-reduce) changes the gradients ``step()`` uses. The arrays
        are replaced if the group is re-homed (a parameter's ``.data`` rebound or its dtype
        changed): call this again after such a change rather than keeping the list."""
        return [buf.grad for gi in range(len(self.param_groups))
                for buf in self._layout(gi).buffers]

    def zero_grad(self, set_to_none=True):
        """Reset gradients: to None (default; storage kept for the next backward) or to zero
        (one fill of each flat gradient buffer)."""
        for gi, group in enumerate(self.param_groups):
            if set_to_none:
                for p in group["params"]:
                    p.grad = None
                continue
            for buf in self._layout(gi).buffers:
                buf.grad.fill(0)
                for p, gv in zip(buf.params, buf.gviews):
                    if p.grad is not None and p.grad is not gv:
                        p.grad[...] = 0

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for gi, group in enumerate(self.param_groups):
            for buf in self._layout(gi).buffers:
                seg, runs = buf.plan()
                if seg is not None:
                    nt = one_thread_below(buf.data.size, SERIAL_BELOW)
                    try:
                        self._update(group, buf, seg, runs)
                    finally:
                        restore_threads(nt)
        return loss

    # ------------------------------------------------------------------------- state dicts
    def _entry(self, group, buf, i):
        step, arrays, extras = buf.get_param_state(i)
        entry = {"step": float(step)} if self._export_step else {}
        entry.update(extras)
        entry.update((k, arrays[k]) for k in self._state_inits(group))
        return entry

    def state_dict(self):
        state, groups, k = {}, [], 0
        for gi, group in enumerate(self.param_groups):
            layout = self._layout(gi)
            idx = []
            for p in group["params"]:
                buf, i = layout.where[id(p)]
                if (buf.steps[i] or self._eager_state) and self._has_state(group):
                    state[k] = self._entry(group, buf, i)
                idx.append(k)
                k += 1
            g = {key: v for key, v in group.items() if key != "params"}
            g["params"] = idx
            groups.append(g)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a state dict from :meth:`state_dict` (or PyTorch's layout). Everything (keys,
        group sizes, hyper-parameter types, every entry's step, scalars, array shapes and
        dtypes) is validated first: on error nothing has changed."""
        name = type(self).__name__
        if not isinstance(state_dict, dict):
            raise TypeError(f"{name}.load_state_dict: expected a dict, got "
                            f"{type(state_dict).__name__}")
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise ValueError(f"{name}.load_state_dict: the state dict lacks the '{key}' key "
                                 f"(it has {sorted(map(str, state_dict))})")
        groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(groups, (list, tuple)) or not all(isinstance(g, dict) and "params" in g
                                                           for g in groups):
            raise ValueError(f"{name}.load_state_dict: 'param_groups' must be a list of dicts "
                             f"with a 'params' entry")
        if not isinstance(saved_state, dict):
            raise ValueError(f"{name}.load_state_dict: 'state' must be a dict, got "
                             f"{type(saved_state).__name__}")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(groups)} parameter groups, the "
                             f"optimizer has {len(self.param_groups)}")
        index = {}
        for gi, (saved, group) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"loaded state dict contains a parameter group {gi} of "
                                 f"{len(saved['params'])} parameters that doesn't match the "
                                 f"size of the optimizer's group ({len(group['params'])})")
            for key, v in saved.items():
                _check_hyper(name, gi, key, v, group.get(key))
            for k, p in zip(saved["params"], group["params"]):
                index[k] = (gi, p)
        state = {}
        for k, entry in saved_state.items():
            if k not in index:
                raise ValueError(f"loaded state dict has state for parameter {k}, which is in "
                                 f"no parameter group")
            if not isinstance(entry, dict):
                raise ValueError(f"loaded state for parameter {k} must be a dict, got "
                                 f"{type(entry).__name__}")
            gi, p = index[k]
            inits = self._state_inits({**self.param_groups[gi], **groups[gi]})
            arrays = {}
            for sname in inits:
                if sname not in entry:
                    raise ValueError(f"loaded state for parameter {k} lacks '{sname}'")
                a = _real_array(entry[sname], f"loaded state '{sname}' for parameter {k}")
                if a.shape != p.data.shape:
                    raise ValueError(f"loaded state '{sname}' for parameter {k} has shape "
                                     f"{a.shape}, the parameter has shape {p.data.shape}")
                arrays[sname] = a
            step = _step_value(entry.get("step", 1), k)
            extras = {n: _scalar(entry.get(n, v), f"loaded state '{n}' for parameter {k}")
                      for n, v in self._extras.items()}
            state[id(p)] = (step, arrays, extras)
        # validated: now change things
        for gi, (saved, group) in enumerate(zip(groups, self.param_groups)):
            group.update((key, v) for key, v in saved.items() if key != "params")
            layout = self._layout(gi)
            inits = self._state_inits(group)
            for p in group["params"]:
                buf, i = layout.where[id(p)]
                entry = state.get(id(p))
                if entry is None:
                    buf.set_param_state(i, 0, {}, dict(self._extras), inits)
                else:
                    buf.set_param_state(i, *entry, inits)

    def _has_state(self, group):
        return True

    def _update(self, group, buf, seg, runs):
        raise NotImplementedError


def _as_array(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _real_array(x, what):
    """x as a real (bool/int/float) ndarray, else ValueError naming `what`."""
    try:
        a = _as_array(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{what} is not an array ({type(exc).__name__}: {exc})") from None
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{what} must be a real numeric array, got dtype {a.dtype}")
    return a


def _scalar(x, what):
    a = _real_array(x, what)
    if a.size != 1:
        raise ValueError(f"{what} must be a number, got an array of shape {a.shape}")
    return float(a.reshape(-1)[0])


def _step_value(x, k):
    """A saved step count: a finite, non-negative whole number."""
    v = _scalar(x, f"loaded 'step' for parameter {k}")
    if not np.isfinite(v) or v < 0 or v != int(v):
        raise ValueError(f"loaded 'step' for parameter {k} must be a non-negative whole "
                         f"number, got {x!r}")
    return int(v)


def _check_hyper(opt, gi, key, value, current):
    """A loaded group entry must have the kind of value the optimizer's group holds there."""
    def real(v):
        return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    if key == "params" or current is None:
        return
    if isinstance(current, bool):
        ok = isinstance(value, (bool, np.bool_))
    elif real(current):
        ok = real(value)
    elif isinstance(current, tuple):
        ok = isinstance(value, (tuple, list)) and len(value) == len(current) and all(
            map(real, value))
    else:
        return
    if not ok:
        raise ValueError(f"{opt}.load_state_dict: param_groups[{gi}]['{key}'] must be like "
                         f"{current!r}, got {value!r}")


class _StateView:
    """``optimizer.state[p]``: the parameter's state as a dict whose arrays are views into the
    flat state buffers (valid until the group is re-homed)."""

    def __init__(self, opt):
        self._opt = opt

    def _find(self, p):
        for gi, layout in enumerate(self._opt._layouts):
            hit = layout.where.get(id(p))
            if hit is not None:
                buf, i = hit
                opt = self._opt
                if buf.params[i] is p and (buf.steps[i] or opt._eager_state) and \
                        opt._has_state(opt.param_groups[gi]):
                    return gi, buf, i
        return None

    def __getitem__(self, p):
        hit = self._find(p)
        if hit is None:
            raise KeyError("parameter has no optimizer state")
        gi, buf, i = hit
        group, sl = self._opt.param_groups[gi], buf.slice(i)
        entry = {"step": float(buf.steps[i])} if self._opt._export_step else {}
        entry.update((k, float(e[i])) for k, e in buf.extras.items())
        entry.update((k, buf.state[k][sl].reshape(buf.shapes[i]))
                     for k in self._opt._state_inits(group))
        return entry

    def __contains__(self, p):
        return self._find(p) is not None

    def __iter__(self):
        for group in self._opt.param_groups:
            for p in group["params"]:
                if p in self:
                    yield p

    def __len__(self):
        return sum(1 for _ in self)

    def keys(self):
        return list(iter(self))

    def items(self):
        return [(p, self[p]) for p in self]

    def values(self):
        return [self[p] for p in self]
