"""Module: the base class of every layer and model, with PyTorch's registration rules,
traversals, train/eval switch, state dicts, hooks and repr.

Hooks (forward pre-hooks, forward hooks, full backward hooks and pre-hooks; see hooks.py) cost
nothing until one is registered: ``__call__`` checks one flag, ``_has_hooks``, and otherwise
calls ``forward`` directly.

Attributes assigned a Parameter, a Module or (for a registered name) a buffer Tensor go into
``_parameters`` / ``_modules`` / ``_buffers``; those dicts keep registration order, which fixes
the order of ``parameters()`` and of ``state_dict()`` keys (a module's own parameters, then its
persistent buffers, then each child's entries under ``<child name>.``), as PyTorch does.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from ..._device import check_device
from ..._device import device as _device
from ..._dtypes import as_dtype
from ..._tensor import Tensor
from ..parameter import Parameter
from .hooks import BackwardHook, RemovableHandle

_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _addindent(s, n):
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(" " * n + line for line in lines[1:])


def _as_array(value, key):
    """A state-dict value (ndarray, jitgrad Tensor, or anything with .numpy()) as an ndarray."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "numpy"):
        if hasattr(value, "detach"):
            value = value.detach()
        return np.asarray(value.numpy())
    if isinstance(value, (int, float, bool, np.generic)):
        return np.asarray(value)
    raise TypeError(f"load_state_dict: value for key {key!r} must be an ndarray, a Tensor or "
                    f"have .numpy(), got {type(value).__name__}")


class Module:
    """Base class for all layers and models: subclass, assign submodules and Parameters in
    ``__init__``, and define ``forward``."""

    training: bool
    _has_hooks = False  # the one check __call__ makes; set while any hook is registered

    def __init__(self):
        d = self.__dict__
        d["training"] = True
        d["_has_hooks"] = False
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent"] = set()
        d["_modules"] = {}

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  f'"forward" function')

    def __call__(self, *args, **kwargs):
        if self._has_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    # ----------------------------------------------------------------- hooks
    def _hook_store(self, name):
        d = self.__dict__
        store = d.get(name)
        if store is None:
            store = d[name] = OrderedDict() if not name.endswith("kwargs") and \
                not name.endswith("always_called") else set()
        return store

    def _add_hook(self, name, hook, prepend, flags=()):
        store = self._hook_store(name)
        extra = [self._hook_store(f) for f in flags]
        handle = RemovableHandle(self, store, *extra)
        store[handle.id] = hook
        if prepend:
            store.move_to_end(handle.id, last=False)
        for s in extra:
            s.add(handle.id)
        self.__dict__["_has_hooks"] = True
        return handle

    def _update_hook_flag(self):
        d = self.__dict__
        d["_has_hooks"] = any(d.get(k) for k in ("_forward_pre_hooks", "_forward_hooks",
                                                 "_backward_hooks", "_backward_pre_hooks"))

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call ``hook(module, args)`` (``hook(module, args, kwargs)`` with `with_kwargs`)
        before forward; a non-None result replaces the input (a tuple, or a single value that
        becomes a 1-tuple; with kwargs, an ``(args, kwargs)`` pair). `prepend` runs it before
        the hooks already registered. Returns a handle with ``remove()``."""
        return self._add_hook("_forward_pre_hooks", hook, prepend,
                              ("_forward_pre_hooks_with_kwargs",) if with_kwargs else ())

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        """Call ``hook(module, args, output)`` (``hook(module, args, kwargs, output)`` with
        `with_kwargs`) after forward; a non-None result replaces the output. `always_call`
        runs it even when forward raises. Returns a handle with ``remove()``."""
        flags = (("_forward_hooks_with_kwargs",) if with_kwargs else ()) + \
            (("_forward_hooks_always_called",) if always_call else ())
        return self._add_hook("_forward_hooks", hook, prepend, flags)

    def register_full_backward_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_input, grad_output)`` once the gradients with respect to the
        module's inputs are computed: tuples with one entry per positional input / output
        (None for non-tensors and for tensors that need no gradient). A non-None result (one
        entry per input) replaces grad_input. Returns a handle with ``remove()``."""
        return self._add_hook("_backward_hooks", hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_output)`` when the gradients with respect to the module's
        outputs are computed; a non-None result replaces grad_output."""
        return self._add_hook("_backward_pre_hooks", hook, prepend)

    def _call_with_hooks(self, args, kwargs):
        d = self.__dict__
        pre = d.get("_forward_pre_hooks")
        if pre:
            with_kw = d.get("_forward_pre_hooks_with_kwargs") or ()
            for hid, hook in list(pre.items()):
                if hid in with_kw:
                    r = hook(self, args, kwargs)
                    if r is not None:
                        if not (isinstance(r, tuple) and len(r) == 2):
                            raise RuntimeError(f"forward pre-hook must return None or a tuple "
                                               f"of (new_args, new_kwargs), but got {r}.")
                        args, kwargs = r
                else:
                    r = hook(self, args)
                    if r is not None:
                        args = r if isinstance(r, tuple) else (r,)
        bw = None
        if d.get("_backward_hooks") or d.get("_backward_pre_hooks"):
            bw = BackwardHook(self, list((d.get("_backward_hooks") or {}).values()),
                              list((d.get("_backward_pre_hooks") or {}).values()))
            args = bw.setup_input_hook(args)
        hooks = d.get("_forward_hooks")
        called = set()
        try:
            result = self.forward(*args, **kwargs)
            if hooks:
                with_kw = d.get("_forward_hooks_with_kwargs") or ()
                for hid, hook in list(hooks.items()):
                    called.add(hid)
                    r = hook(self, args, kwargs, result) if hid in with_kw else \
                        hook(self, args, result)
                    if r is not None:
                        result = r
        except Exception:
            always = d.get("_forward_hooks_always_called")
            if hooks and always:
                with_kw = d.get("_forward_hooks_with_kwargs") or ()
                for hid, hook in list(hooks.items()):
                    if hid in always and hid not in called:
                        try:
                            if hid in with_kw:
                                hook(self, args, kwargs, None)
                            else:
                                hook(self, args, None)
                        except Exception:
                            pass
            raise
        if bw is not None:
            result = bw.setup_output_hook(result)
        return result

    # ----------------------------------------------------------------- registration
    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name)
            params[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter "
                                f"'{name}' (jitgrad.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if "_modules" not in d:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name)
            d["_modules"][name] = value
        elif "_modules" in d and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (jitgrad.nn.Module or None expected)")
            d["_modules"][name] = None
        elif "_buffers" in d and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(jitgrad.Tensor or None expected)")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name):
        d = self.__dict__
        d.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            d[key].pop(name, None)
        d["_non_persistent"].discard(name)

    def __getattr__(self, name):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            store = d.get(key)
            if store is not None and name in store:
                return store[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if name in d[key]:
                del d[key][name]
                d["_non_persistent"].discard(name)
                return
        object.__delattr__(self, name)

    def _check_name(self, name, kind):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f'{kind} name can\'t be empty or contain ".", got: {name!r}')
        if name in self.__dict__ and not any(name in self.__dict__[k] for k in
                                             ("_parameters", "_buffers", "_modules")):
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name, param):
        """Add a Parameter (or None) under `name`."""
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (jitgrad.nn.Parameter or None required)")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer: state that is not a parameter (running statistics); persistent buffers
        appear in state_dict."""
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                            f"'{name}' (jitgrad.Tensor or None required)")
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        """Add a child module (or None) under `name`."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        self._forget(name)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The submodule at dotted path `target` ('' is self)."""
        mod = self
        for item in target.split(".") if target else ():
            sub = mod._modules.get(item)
            if sub is None:
                raise AttributeError(f"{type(mod).__name__} has no submodule `{item}`")
            mod = sub
        return mod

    # ----------------------------------------------------------------- traversals
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(name, module) for self and every descendant, depth first in registration order."""
        if memo is None:
            memo = set()
        stack = [(prefix, self)]
        while stack:
            name, mod = stack.pop()
            if remove_duplicate:
                if id(mod) in memo:
                    continue
                memo.add(id(mod))
            yield name, mod
            kids = [(name + ("." if name else "") + k, m) for k, m in mod._modules.items()
                    if m is not None]
            stack.extend(reversed(kids))

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, store, prefix, recurse, remove_duplicate):
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        seen = set()
        for mod_prefix, mod in mods:
            for k, v in mod.__dict__[store].items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield mod_prefix + ("." if mod_prefix else "") + k, v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(name, Parameter) pairs, each shared Parameter once (PyTorch order)."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ----------------------------------------------------------------- modes and grads
    def train(self, mode=True):
        """Set training mode on this module and every descendant (dropout, batch norm)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's gradient: to None (default), or fill it with zeros."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad[...] = 0

    def apply(self, fn):
        """Call fn on every child (recursively) and then on self; returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ----------------------------------------------------------------- dtype
    def to(self, *args, **kwargs):
        """Convert floating-point parameters and buffers to `dtype` in place (their arrays
        are replaced: optimizers built before must be rebuilt or notice). Devices other than
        'cpu' are not supported."""
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, (str, _device)):
                device = a
            elif isinstance(a, Tensor):
                dtype = a.data.dtype
            else:
                dtype = a
        check_device("Module.to", device)
        if dtype is None:
            return self
        dtype = as_dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got "
                            f"desired dtype={dtype}")
        for t in list(self.parameters()) + list(self.buffers()):
            if t.data.dtype.kind == "f" and t.data.dtype != dtype:
                t.data = t.data.astype(dtype)
                t._version[0] += 1
                if t.grad is not None:
                    t._grad = t._grad.astype(dtype)
        return self

    def cpu(self):
        """Parameters and buffers already live on the CPU: returns self."""
        return self

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def half(self):
        """Refused: jitgrad computes in float32 and float64 only (no float16 kernels)."""
        raise TypeError(f"{type(self).__name__}.half(): jitgrad has no float16 (its kernels "
                        f"compute in float32 and float64); use .float() or .double()")

    def bfloat16(self):
        """Refused: jitgrad computes in float32 and float64 only (no bfloat16 kernels)."""
        raise TypeError(f"{type(self).__name__}.bfloat16(): jitgrad has no bfloat16 (its "
                        f"kernels compute in float32 and float64); use .float() or .double()")

    def type(self, dst_type):
        """Cast every parameter and buffer (integer buffers too, as PyTorch's Module.type) to
        `dst_type`: float32 / float64 as a dtype or a name ('float64', 'torch.DoubleTensor',
        'torch.FloatTensor')."""
        names = {"torch.FloatTensor": np.float32, "torch.DoubleTensor": np.float64,
                 "torch.HalfTensor": np.float16, "torch.BFloat16Tensor": "bfloat16"}
        if isinstance(dst_type, str) and dst_type in names:
            dst_type = names[dst_type]
        if (dst_type == "bfloat16" or str(dst_type) in ("float16", "bfloat16")
                or dst_type is np.float16):
            raise TypeError(f"{type(self).__name__}.type(): jitgrad has no float16 / bfloat16 "
                            f"(its kernels compute in float32 and float64)")
        dtype = as_dtype(dst_type)
        if dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}.type(): only float32 and float64 are "
                            f"supported (parameters must stay floating point), got {dtype}")
        for t in list(self.parameters()) + list(self.buffers()):
            if t.data.dtype != dtype:
                t.data = t.data.astype(dtype)
                t._version[0] += 1
                if t.grad is not None:
                    t._grad = t._grad.astype(dtype)
        return self

    # ----------------------------------------------------------------- state dicts
    def _state_items(self, prefix="", keep_vars=False):
        """(key, tensor) for every parameter and persistent buffer, PyTorch's key order."""
        stack = [(prefix, self)]
        while stack:
            pre, mod = stack.pop()
            d = mod.__dict__
            for k, p in d["_parameters"].items():
                if p is not None:
                    yield pre + k, p
            for k, b in d["_buffers"].items():
                if b is not None and k not in d["_non_persistent"]:
                    yield pre + k, b
            kids = [(pre + k + ".", m) for k, m in d["_modules"].items() if m is not None]
            stack.extend(reversed(kids))

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """OrderedDict of every parameter and persistent buffer by dotted name, as NumPy arrays
        sharing memory with the module (Tensors themselves with keep_vars=True)."""
        out = OrderedDict() if destination is None else destination
        for k, t in self._state_items(prefix):
            out[k] = t if keep_vars else t.data
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy `state_dict` values (ndarrays, Tensors, or objects with ``.numpy()``, e.g. a
        PyTorch state dict) into this module's parameters and buffers, casting dtypes.

        Every key, shape and dtype is checked first: missing or unexpected keys (strict), shape
        mismatches and non-real dtypes (complex, str, object: always) raise one RuntimeError
        listing all of them, with the module left
        untouched. Values are copied into the existing arrays, so references stay valid.
        Returns ``(missing_keys, unexpected_keys)``."""
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        own = OrderedDict(self._state_items())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict.keys() if k not in own]
        errors = []
        if strict:
            if missing:
                errors.append("Missing key(s) in state_dict: " +
                              ", ".join(f'"{k}"' for k in missing) + ". ")
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: " +
                              ", ".join(f'"{k}"' for k in unexpected) + ". ")
        todo = []
        for k, t in own.items():
            if k not in state_dict:
                continue
            src = _as_array(state_dict[k], k)
            if src.shape != t.data.shape:
                errors.append(f"size mismatch for {k}: copying a param with shape {src.shape} "
                              f"from checkpoint, the shape in current model is "
                              f"{t.data.shape}.")
                continue
            if src.dtype.kind not in "biuf":
                errors.append(f"dtype mismatch for {k}: cannot copy a value of dtype "
                              f"{src.dtype} into a parameter of dtype {t.data.dtype} (only real "
                              f"numeric values load; complex is refused, not truncated).")
                continue
            todo.append((t, src))
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        for t, src in todo:
            t.data[...] = src
            t._version[0] += 1
        return _IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------- repr
    def extra_repr(self):
        """Extra text inside this module's repr parentheses (override in layers)."""
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(m), 2))
        main = type(self).__name__ + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __dir__(self):
        extra = list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(set(super().__dir__()) | set(extra))
