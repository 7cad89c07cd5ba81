"""L-BFGS (torch.optim.LBFGS, after minFunc): limited-memory quasi-Newton steps with an optional
strong-Wolfe line search; ``step(closure)`` re-evaluates the model as often as it needs.

The algorithm is torch's, line by line, as NumPy vector algebra over the group's flat buffers:
the parameter vector *is* the flat data buffer every parameter is a view of (a step is
``x += t * d`` on it, one in-place axpy kernel like the two-loop recursion's updates), and the
flat gradient is one copy of the flat gradient buffer. Scalars
(``ys``, ``ro``, ``H_diag``, ``gtd``, ``t``) are NumPy scalars of the parameters' dtype, as
torch's are 0-d tensors. All state lives on the first parameter (``func_evals``, ``n_iter``,
``d``, ``t``, ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``, ``prev_flat_grad``,
``prev_loss``, ``al``), as in torch.
"""
import numpy as np

from .._grad_mode import enable_grad
from ..kernels import optim as K
from ._check import check
from .optimizer import Optimizer


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimiser of the cubic through (x1, f1, g1), (x2, f2, g2), clipped to bounds."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """Line search along d for a step t meeting the strong Wolfe conditions: bracket, then
    zoom by cubic interpolation. Returns (f_new, g_new, t, function evaluations)."""
    d_norm = np.abs(d).max()
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = g_new.dot(d)

    # bracket an interval containing a point satisfying the Wolfe criteria
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        # interpolate
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        # next step
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

    # reached max number of iterations?
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom phase: refine the bracket until a point satisfies the criteria
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        # a trial too close to the bracket's ends (twice in a row, or on them) moves to
        # 0.1 * bracket length away from the nearest end
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # Armijo condition not satisfied or not lower than lowest point
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True   # Wolfe conditions satisfied
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # old high becomes new low
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            # new point becomes new low
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


_ARRAYS = ("d", "prev_flat_grad")
_ARRAY_LISTS = ("old_dirs", "old_stps")
_SCALARS = ("t", "H_diag")
_SCALAR_LISTS = ("ro", "al")


class LBFGS(Optimizer):
    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        check(lr=lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn expected None or 'strong_wolfe', got "
                             f"{line_search_fn!r}")
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size, line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]
        self._buffer()
        self.state = {}

    def _state_inits(self, group):
        return {}

    def _buffer(self):
        """The one flat buffer of the (single) group: every parameter must share a dtype."""
        buffers = self._layout(0).buffers
        if len(buffers) != 1:
            raise TypeError(f"LBFGS: all parameters must have one dtype, got "
                            f"{', '.join(str(b.dtype) for b in buffers)}")
        return buffers[0]

    # ------------------------------------------------------------------------- flat vectors
    @staticmethod
    def _gather_flat_grad(buf):
        """A copy of the flat gradient (zeros for parameters without a gradient)."""
        grads = [p.grad for p in buf.params]
        if all(g is gv for g, gv in zip(grads, buf.gviews)):
            return buf.grad.copy()
        flat = np.zeros(buf.data.size, buf.dtype)
        for i, g in enumerate(grads):
            if g is not None:
                flat[buf.slice(i)] = np.asarray(g).reshape(-1)
        return flat

    def _directional_evaluate(self, closure, buf, x, t, d):
        _axpy(buf.data, t, d)
        with enable_grad():
            loss = float(closure())
        flat_grad = self._gather_flat_grad(buf)
        buf.data[...] = x
        return loss, flat_grad

    # ------------------------------------------------------------------------- the step
    def step(self, closure):
        if len(self.param_groups) != 1:
            raise ValueError(f"LBFGS: expected exactly one param_group, but got "
                             f"{len(self.param_groups)}")
        if closure is None:
            raise TypeError("LBFGS.step() requires a closure that reevaluates the model and "
                            "returns the loss")
        group = self.param_groups[0]
        lr = group["lr"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        if line_search_fn not in (None, "strong_wolfe"):
            raise RuntimeError("only 'strong_wolfe' is supported")

        state = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        buf = self._buffer()   # after the closure: it may have rebound parameters
        x = buf.data
        _cast(state, buf.dtype)

        flat_grad = self._gather_flat_grad(buf)
        opt_cond = np.abs(flat_grad).max() <= tolerance_grad
        if opt_cond:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag = state.get("H_diag")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # ---- descent direction
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                # update the memory
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:   # shift history by one
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)   # scale of the initial Hessian approximation
                # two-loop recursion: d = -H g
                num_old = len(old_dirs)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    _axpy(q, -al[i], old_dirs[i])
                d = r = q * H_diag
                for i in range(num_old):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    _axpy(r, al[i] - be_i, old_stps[i])

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss

            # ---- step length
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:   # directional derivative below tolerance
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                x_init = x.copy()

                def obj_func(x_, t_, d_):
                    return self._directional_evaluate(closure, buf, x_, t_, d_)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                _axpy(x, t, d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                _axpy(x, t, d)   # fixed step
                if n_iter != max_iter:   # re-evaluate except on the last iteration
                    with enable_grad():
                        loss = float(closure())
                    flat_grad = self._gather_flat_grad(buf)
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # ---- stopping conditions
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tolerance_change:   # lack of progress
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    # ------------------------------------------------------------------------- state dicts
    def state_dict(self):
        group = self.param_groups[0]
        g = {k: v for k, v in group.items() if k != "params"}
        g["params"] = list(range(len(group["params"])))
        st = self.state.get(self._params[0])
        return {"state": {} if not st else {0: _copy(st)}, "param_groups": [g]}

    def load_state_dict(self, state_dict):
        groups = state_dict["param_groups"]
        if len(groups) != 1:
            raise ValueError(f"loaded state dict has {len(groups)} parameter groups, the "
                             f"optimizer has 1")
        if len(groups[0]["params"]) != len(self._params):
            raise ValueError(f"loaded state dict contains a parameter group 0 of "
                             f"{len(groups[0]['params'])} parameters that doesn't match the "
                             f"size of the optimizer's group ({len(self._params)})")
        entries = state_dict["state"]
        first = groups[0]["params"][0] if groups[0]["params"] else None
        extra = set(entries) - {first}
        if extra:
            raise ValueError(f"loaded LBFGS state dict has state for parameters "
                             f"{sorted(extra)}; LBFGS keeps all of it on the first parameter")
        buf = self._buffer()
        st = _copy(entries[first]) if first in entries else {}
        for name in _ARRAYS + _ARRAY_LISTS:
            arrays = st.get(name)
            for a in (arrays if name in _ARRAY_LISTS else [arrays]) or []:
                if a is not None and np.shape(a) != (buf.data.size,):
                    raise ValueError(f"loaded LBFGS state '{name}' has shape {np.shape(a)}, "
                                     f"the parameters have {buf.data.size} elements")
        _cast(st, buf.dtype)
        self.param_groups[0].update((k, v) for k, v in groups[0].items() if k != "params")
        self.state = {self._params[0]: st} if st else {}


def _axpy(y, a, x):
    """y += a * x in place, the scalar cast to y's dtype (torch's add_(x, alpha=a))."""
    K.axpy(y, y.dtype.type(a), x)


def _copy(st):
    out = {}
    for k, v in st.items():
        if isinstance(v, list):
            out[k] = [a.copy() if isinstance(a, np.ndarray) else a for a in v]
        elif isinstance(v, np.ndarray):
            out[k] = v.copy()
        else:
            out[k] = v
    return out


def _cast(st, dtype):
    """Cast the state's vectors and scalars to the parameters' dtype (after a dtype change or
    a load), as torch's load_state_dict casts state to its parameter's dtype."""
    for name in _ARRAYS:
        if st.get(name) is not None:
            st[name] = np.ascontiguousarray(st[name], dtype)
    for name in _ARRAY_LISTS:
        if st.get(name) is not None:
            st[name] = [np.ascontiguousarray(a, dtype) for a in st[name]]
    for name in _SCALARS:
        v = st.get(name)
        if isinstance(v, (np.generic, np.ndarray)):
            st[name] = dtype.type(v)
    for name in _SCALAR_LISTS:
        if st.get(name) is not None:
            st[name] = [dtype.type(v) if isinstance(v, (np.generic, np.ndarray)) else v
                        for v in st[name]]
