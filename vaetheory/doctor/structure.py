r"""A structural proof of a decoder's variance floor: interval analysis of its ``torch.fx`` graph.

:func:`trace_variance` traces a user's decoder with ``torch.fx`` (a decoder returning a
``torch.distributions.Normal`` or ``Independent`` Normal is traced through a wrapper that returns the
distribution's ``(loc, scale)``: while tracing, the two constructors only record their arguments, so
the graph reaches the scale tensor). :func:`prove_floor` then propagates, node by node in graph order,
an interval :math:`[lo, hi]` that contains every value the node can take **for every input and every
value of the trainable parameters** (inputs and trainable parameters are :math:`(-\infty, \infty)`;
buffers, frozen parameters and constants are the values they hold now). The rules are the exact
images of monotone functions (exp, log, softplus, sigmoid, tanh, ReLU, clamp, ...) and interval
arithmetic (Moore 1966) for +, -, x, /, powers, abs; anything not recognised is
:math:`(-\infty, \infty)`, so the analysis can fail to prove a floor but never proves a wrong one
(up to the rounding of the final floating-point operations, a few ulps of the floor). In-place
operations on a value used elsewhere (aliasing the analysis does not model) void the proof.

A floor is proved when the lower end of the variance interval is positive: :math:`\sigma^2\ge lo`
(a variance), :math:`\sigma^2 \ge e^{lo}` (a log variance), :math:`\sigma^2\ge lo^2` (a standard
deviation, :math:`lo > 0`). The graph is traced in training and in evaluation mode (code that
branches on ``self.training`` gives two graphs) and the floor is the smaller of the two.

Interval arithmetic forgets that two operands are the same value (``v - v`` is :math:`[lo-hi,
hi-lo]`, not 0); the straight-through forms ``a + v - v.detach()`` and ``a + (v - v.detach())``
(whose value is ``a``) are recognised as such.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

INF = math.inf


@dataclass(frozen=True)
class Interval:
    """A closed interval of the extended reals containing every value a tensor can take."""

    lo: float
    hi: float

    def __post_init__(self):
        if math.isnan(self.lo) or math.isnan(self.hi) or self.lo > self.hi:
            object.__setattr__(self, "lo", -INF)
            object.__setattr__(self, "hi", INF)


TOP = Interval(-INF, INF)


def _point(c: float) -> Interval:
    return Interval(float(c), float(c))


def _mul_end(a: float, b: float) -> float:
    # interval ends: an infinite end is not attained, so 0 x inf contributes 0
    if a == 0.0 or b == 0.0:
        return 0.0
    return a * b


def _add(x: Interval, y: Interval) -> Interval:
    return Interval(x.lo + y.lo if not (x.lo == INF or y.lo == INF) else INF, x.hi + y.hi)


def _neg(x: Interval) -> Interval:
    return Interval(-x.hi, -x.lo)


def _mul(x: Interval, y: Interval) -> Interval:
    ends = [_mul_end(a, b) for a in (x.lo, x.hi) for b in (y.lo, y.hi)]
    return Interval(min(ends), max(ends))


def _div(x: Interval, y: Interval) -> Interval:
    if y.lo <= 0.0 <= y.hi:
        return TOP
    inv = Interval(1.0 / y.hi if y.hi != INF else 0.0, 1.0 / y.lo if y.lo != -INF else 0.0)
    return _mul(x, inv)


def _union(*xs: Interval) -> Interval:
    return Interval(min(x.lo for x in xs), max(x.hi for x in xs))


def _monotone(fn, x: Interval, lo_limit: float, hi_limit: float) -> Interval:
    """The image of an increasing function with limits lo_limit at -inf and hi_limit at +inf."""

    def at(v: float, limit_lo: float, limit_hi: float) -> float:
        if v == -INF:
            return limit_lo
        if v == INF:
            return limit_hi
        try:
            return float(fn(v))
        except OverflowError:
            return limit_hi

    return Interval(at(x.lo, lo_limit, hi_limit), at(x.hi, lo_limit, hi_limit))


def _softplus(beta: float):
    def f(v: float) -> float:
        z = beta * v
        return (max(z, 0.0) + math.log1p(math.exp(-abs(z)))) / beta

    return f


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


def _exp(v: float) -> float:
    return math.exp(v) if v < 709.0 else INF


def _log(x: Interval) -> Interval:
    if x.hi < 0:
        return TOP  # nan everywhere: no claim
    lo = -INF if x.lo <= 0 else math.log(x.lo)
    hi = -INF if x.hi == 0 else (INF if x.hi == INF else math.log(x.hi))
    return Interval(lo, hi)


def _sqrt(x: Interval) -> Interval:
    if x.lo < 0:
        return TOP  # nan for negative values: no claim
    return Interval(math.sqrt(x.lo), math.sqrt(x.hi) if x.hi != INF else INF)


def _abs(x: Interval) -> Interval:
    if x.lo >= 0:
        return x
    if x.hi <= 0:
        return _neg(x)
    return Interval(0.0, max(-x.lo, x.hi))


def _pow(x: Interval, p: Interval) -> Interval:
    if p.lo != p.hi or not math.isfinite(p.lo):
        return TOP
    e = p.lo
    if e == 0:
        return _point(1.0)
    if e == int(e) and abs(e) <= 64:
        k = int(e)
        if k > 0 and k % 2 == 0:
            a = _abs(x)
            return Interval(a.lo**k if a.lo != INF else INF, a.hi**k if a.hi != INF else INF)
        if k > 0:  # odd: increasing
            return _monotone(lambda v: v**k, x, -INF, INF)
    if x.lo > 0 and e > 0:
        return Interval(x.lo**e, x.hi**e if x.hi != INF else INF)
    if x.lo > 0 and e < 0:
        return Interval(x.hi**e if x.hi != INF else 0.0, x.lo**e)
    if x.lo >= 0 and e > 0 and e != int(e):
        return Interval(x.lo**e, x.hi**e if x.hi != INF else INF)
    return TOP


def _clamp(x: Interval, lo: Interval | None, hi: Interval | None) -> Interval:
    if lo is not None:
        x = Interval(max(x.lo, lo.lo), max(x.hi, lo.hi))
    if hi is not None:
        x = Interval(min(x.lo, hi.lo), min(x.hi, hi.hi))
    return x


#: shape or layout operations: every output element is an input element
_SAME = {
    "expand", "expand_as", "view", "view_as", "reshape", "reshape_as", "repeat", "repeat_interleave",
    "unsqueeze", "squeeze", "flatten", "unflatten", "transpose", "permute", "t", "contiguous", "clone",
    "detach", "float", "double", "to", "type_as", "narrow", "select", "flip", "roll", "movedim",
    "broadcast_to", "getitem", "chunk", "split", "unbind", "tensor_split", "tile", "amax", "amin",
    "mean", "nanmean", "cpu", "cuda", "alias", "squeeze_", "unsqueeze_",
}  # fmt: skip
_VIEWS = {"view", "view_as", "reshape", "expand", "expand_as", "transpose", "permute", "t", "squeeze",
          "unsqueeze", "flatten", "narrow", "select", "getitem", "detach", "chunk", "split", "unbind",
          "movedim", "broadcast_to", "alias", "contiguous", "unflatten"}  # fmt: skip
_INPLACE_OPERATORS = {"iadd", "isub", "imul", "itruediv", "ipow", "ifloordiv", "imod"}
#: leaf modules whose output can be anything (affine maps with free weights, normalisations, ...)
_SOFTPLUS_NAMES = {"softplus"}


def _name(node) -> str:
    t = node.target
    if isinstance(t, str):
        return t
    return getattr(t, "__name__", str(t))


class _Analysis:
    def __init__(self, gm: torch.fx.GraphModule):
        self.gm = gm
        self.env: dict[Any, Interval | None] = {}
        self.notes: list[str] = []
        self.void: str | None = None
        self.trainable = {n for n, p in gm.named_parameters() if p.requires_grad}
        self.modules = dict(gm.named_modules())

    # values of arguments
    def val(self, a) -> Interval | None:
        if isinstance(a, torch.fx.Node):
            return self.env.get(a)
        if isinstance(a, bool) or a is None:
            return None
        if isinstance(a, (int, float)):
            return _point(a)
        if isinstance(a, torch.Tensor) and a.is_floating_point() and a.numel():
            return self._tensor(a)
        if isinstance(a, (tuple, list)):
            parts = [self.val(b) for b in a]
            parts = [p for p in parts if p is not None]
            return _union(*parts) if parts else None
        return None

    def t(self, a) -> Interval:
        v = self.val(a)
        return TOP if v is None else v

    def _tensor(self, x: torch.Tensor) -> Interval:
        x = x.detach().double()
        if not bool(torch.isfinite(x).all()):
            return TOP
        return Interval(float(x.min()), float(x.max()))

    def arg(self, node, i: int, name: str, default=None):
        if len(node.args) > i:
            return node.args[i]
        return node.kwargs.get(name, default)

    def run(self) -> None:
        for node in self.gm.graph.nodes:
            self.env[node] = self.step(node)

    def step(self, node) -> Interval | None:
        op = node.op
        if op == "placeholder":
            return TOP
        if op == "output":
            return None
        if op == "get_attr":
            return self.get_attr(node)
        name = _name(node).lower()
        if op == "call_module":
            return self.module(node)
        if name in _INPLACE_OPERATORS or (name.endswith("_") and not name.startswith("_")):
            self.inplace(node, name)
        return self.function(node, name.rstrip("_") if not name.startswith("_") else name)

    def inplace(self, node, name: str) -> None:
        target = node.args[0] if node.args else None
        if not isinstance(target, torch.fx.Node):
            return
        aliased = len(target.users) > 1 or (target.op != "placeholder" and _name(target).lower() in _VIEWS)
        if target.op in ("placeholder", "get_attr") or aliased:
            self.void = (
                f"in-place {name} on {target.name}, which other operations see (aliasing the interval "
                "analysis does not model)"
            )

    def get_attr(self, node) -> Interval | None:
        obj: Any = self.gm
        for part in str(node.target).split("."):
            obj = getattr(obj, part)
        if isinstance(obj, torch.nn.Parameter) and obj.requires_grad:
            return TOP
        if isinstance(obj, torch.Tensor):
            if obj.is_floating_point():
                self.notes.append(f"{node.target} taken at its present value")
                return self._tensor(obj) if obj.numel() else None
            return None
        return self.val(obj)

    def module(self, node) -> Interval | None:
        sub = self.modules.get(node.target)
        x = self.t(node.args[0]) if node.args else TOP
        nn = torch.nn
        if isinstance(sub, (nn.Identity, nn.Flatten, nn.Unflatten)):
            return x
        if isinstance(sub, nn.Dropout | nn.Dropout1d | nn.Dropout2d | nn.Dropout3d | nn.AlphaDropout):
            p = float(getattr(sub, "p", 0.5))
            if isinstance(sub, nn.AlphaDropout) or p >= 1:
                return TOP
            return Interval(min(0.0, x.lo), max(0.0, x.hi) / (1.0 - p))
        if isinstance(sub, nn.Softplus):
            return _monotone(_softplus(float(sub.beta)), x, 0.0, INF)
        if isinstance(sub, nn.Sigmoid):
            return _monotone(_sigmoid, x, 0.0, 1.0)
        if isinstance(sub, nn.Tanh):
            return _monotone(math.tanh, x, -1.0, 1.0)
        if isinstance(sub, nn.ReLU):
            return Interval(max(x.lo, 0.0), max(x.hi, 0.0))
        if isinstance(sub, nn.ReLU6):
            return _clamp(x, _point(0.0), _point(6.0))
        if isinstance(sub, nn.Hardtanh):
            return _clamp(x, _point(sub.min_val), _point(sub.max_val))
        if isinstance(sub, nn.ELU):
            a = float(sub.alpha)
            return _monotone(lambda v: v if v > 0 else a * math.expm1(v), x, -a, INF)
        if isinstance(sub, nn.LeakyReLU) and sub.negative_slope >= 0:
            s = float(sub.negative_slope)
            return _monotone(lambda v: v if v > 0 else s * v, x, -INF if s > 0 else 0.0, INF)
        if isinstance(sub, nn.SiLU | nn.GELU):
            return Interval(0.0 if x.lo >= 0 else -0.2785, max(x.hi, 0.0))
        return TOP

    def function(self, node, name: str) -> Interval | None:
        a0 = node.args[0] if node.args else None
        if name in ("getattr", "size", "dim", "numel", "shape"):
            return None
        if name in _SAME:
            return self.val(a0)
        if name in ("half", "bfloat16"):
            x = self.t(a0)
            return Interval(min(x.lo, 0.0), x.hi)  # a small positive floor can round to 0
        if name in ("add", "radd", "iadd"):
            return self.add(node)
        if name in ("sub", "rsub", "isub", "subtract"):
            return self.sub(node, reverse=name == "rsub")
        if name in ("mul", "rmul", "imul", "multiply"):
            return _mul(self.t(a0), self.t(self.arg(node, 1, "other")))
        if name in ("truediv", "div", "rtruediv", "itruediv", "divide", "true_divide"):
            if node.kwargs.get("rounding_mode") is not None:
                return TOP
            x, y = self.t(a0), self.t(self.arg(node, 1, "other"))
            return _div(y, x) if name == "rtruediv" else _div(x, y)
        if name in ("neg", "negative"):
            return _neg(self.t(a0))
        if name == "pos":
            return self.t(a0)
        if name == "exp":
            return _monotone(_exp, self.t(a0), 0.0, INF)
        if name == "expm1":
            return _monotone(lambda v: math.expm1(v) if v < 709 else INF, self.t(a0), -1.0, INF)
        if name == "log":
            return _log(self.t(a0))
        if name == "log1p":
            return _log(_add(self.t(a0), _point(1.0)))
        if name == "sqrt":
            return _sqrt(self.t(a0))
        if name == "rsqrt":
            return _div(_point(1.0), _sqrt(self.t(a0)))
        if name == "reciprocal":
            return _div(_point(1.0), self.t(a0))
        if name == "square":
            return _pow(self.t(a0), _point(2.0))
        if name in ("pow", "ipow", "float_power"):
            return _pow(self.t(a0), self.t(self.arg(node, 1, "exponent")))
        if name == "rpow":
            return TOP
        if name in ("abs", "absolute"):
            return _abs(self.t(a0))
        if name in _SOFTPLUS_NAMES:
            beta = self.arg(node, 1, "beta", 1.0)
            if not isinstance(beta, (int, float)) or beta <= 0:
                return TOP
            return _monotone(_softplus(float(beta)), self.t(a0), 0.0, INF)
        if name in ("sigmoid", "expit"):
            return _monotone(_sigmoid, self.t(a0), 0.0, 1.0)
        if name == "tanh":
            return _monotone(math.tanh, self.t(a0), -1.0, 1.0)
        if name == "relu":
            x = self.t(a0)
            return Interval(max(x.lo, 0.0), max(x.hi, 0.0))
        if name == "elu":
            alpha = self.arg(node, 1, "alpha", 1.0)
            if not isinstance(alpha, (int, float)) or alpha < 0:
                return TOP
            a = float(alpha)
            return _monotone(lambda v: v if v > 0 else a * math.expm1(v), self.t(a0), -a, INF)
        if name in ("silu", "gelu"):
            x = self.t(a0)
            return Interval(0.0 if x.lo >= 0 else -0.2785, max(x.hi, 0.0))
        if name in ("clamp", "clip", "clamp_min", "clamp_max"):
            x = self.t(a0)
            if name == "clamp_min":
                return _clamp(x, self.val(self.arg(node, 1, "min")), None)
            if name == "clamp_max":
                return _clamp(x, None, self.val(self.arg(node, 1, "max")))
            return _clamp(x, self.val(self.arg(node, 1, "min")), self.val(self.arg(node, 2, "max")))
        if name in ("maximum", "fmax", "max", "minimum", "fmin", "min"):
            other = self.arg(node, 1, "other")
            if other is None:  # a reduction
                return self.t(a0) if len(node.args) <= 1 and not node.kwargs else TOP
            if isinstance(other, int) and not isinstance(other, bool) and name in ("max", "min"):
                return TOP  # max(x, dim): a (values, indices) tuple
            x, y = self.t(a0), self.t(other)
            if name in ("maximum", "fmax", "max"):
                return Interval(max(x.lo, y.lo), max(x.hi, y.hi))
            return Interval(min(x.lo, y.lo), min(x.hi, y.hi))
        if name == "where":
            if len(node.args) < 3:
                return TOP
            return _union(self.t(node.args[1]), self.t(node.args[2]))
        if name in ("cat", "concat", "concatenate", "stack", "hstack", "vstack"):
            return self.t(a0)
        if name in ("sum", "nansum"):
            x = self.t(a0)
            if x.lo >= 0:
                return Interval(0.0, INF)
            if x.hi <= 0:
                return Interval(-INF, 0.0)
            return TOP
        if name in ("ones_like", "new_ones", "ones"):
            return _point(1.0)
        if name in ("zeros_like", "new_zeros", "zeros"):
            return _point(0.0)
        if name in ("full_like", "new_full", "full"):
            value = self.arg(node, 1, "fill_value")
            v = self.val(value)
            return TOP if v is None else v
        if name == "addcmul":  # input + value * t1 * t2
            value = self.t(node.kwargs.get("value", 1.0))
            return _add(self.t(a0), _mul(value, _mul(self.t(node.args[1]), self.t(node.args[2]))))
        return TOP

    def _is_detach_of(self, node, target) -> bool:
        return (
            isinstance(node, torch.fx.Node)
            and node.op in ("call_method", "call_function")
            and _name(node) == "detach"
            and node.args
            and node.args[0] is target
        )

    def add(self, node) -> Interval:
        x, y = node.args[0], self.arg(node, 1, "other")
        alpha = node.kwargs.get("alpha", 1)
        # p + (v - v.detach()): the straight-through term is 0 in value
        for p, q in ((x, y), (y, x)):
            if self._straight_through_zero(q):
                return self.t(p)
        return _add(self.t(x), _mul(_point(alpha), self.t(y)))

    def _straight_through_zero(self, q) -> bool:
        return (
            isinstance(q, torch.fx.Node)
            and _name(q) in ("sub", "__sub__")
            and len(q.args) >= 2
            and self._is_detach_of(q.args[1], q.args[0])
        )

    def sub(self, node, *, reverse: bool) -> Interval:
        x, y = node.args[0], self.arg(node, 1, "other")
        if reverse:
            x, y = y, x
        alpha = node.kwargs.get("alpha", 1)
        # (p + v) - v.detach() or (v + p) - v.detach(): the value is p
        if (
            isinstance(x, torch.fx.Node)
            and _name(x) in ("add", "__add__")
            and len(x.args) >= 2
            and alpha == 1
        ):
            for v, p in ((x.args[0], x.args[1]), (x.args[1], x.args[0])):
                if self._is_detach_of(y, v) or y is v:
                    return self.t(p)
        if isinstance(x, torch.fx.Node) and (self._is_detach_of(y, x) or y is x) and alpha == 1:
            return _point(0.0)
        return _add(self.t(x), _neg(_mul(_point(alpha), self.t(y))))


# -- tracing ------------------------------------------------------------------------------------

_FORWARDS = {
    1: lambda self, a: self._out(self.inner(a)),
    2: lambda self, a, b: self._out(self.inner(a, b)),
    3: lambda self, a, b, c: self._out(self.inner(a, b, c)),
    4: lambda self, a, b, c, d: self._out(self.inner(a, b, c, d)),
}


def _make_wrapper(module, n_inputs: int):
    from torch.distributions import Independent, Normal

    class _Traced(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def _out(self, out):
            while isinstance(out, Independent):
                out = out.base_dist
            if isinstance(out, Normal):
                return out.loc, out.scale
            return out

    _Traced.forward = _FORWARDS[n_inputs]
    return _Traced(module)


def _recording_inits():
    """Constructors of Normal / Independent that only record their arguments (no checks, no shapes)."""
    from torch.distributions import Independent, Normal

    def normal_init(self, loc, scale, validate_args=None):
        self.loc, self.scale = loc, scale

    def independent_init(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, reinterpreted_batch_ndims

    return {Normal: normal_init, Independent: independent_init}


def trace_variance(module, n_inputs: int, output: str, *, training: bool):
    """Trace ``module`` (in training or evaluation mode) to ``(graph_module, second_node, kind)``.

    ``kind`` is what the second output is: ``output``, or ``"std"`` for a distribution's scale.
    Raises what torch.fx raises when the module cannot be traced.
    """
    import torch.fx

    if n_inputs not in _FORWARDS:
        raise ValueError(f"tracing supports 1 to {max(_FORWARDS)} inputs; got {n_inputs}")
    inits = _recording_inits()
    saved = {cls: cls.__init__ for cls in inits}
    was_training = module.training
    module.train(training)
    try:
        for cls, init in inits.items():
            cls.__init__ = init
        gm = torch.fx.symbolic_trace(_make_wrapper(module, n_inputs))
    finally:
        for cls, init in saved.items():
            cls.__init__ = init
        module.train(was_training)
    out = next(n for n in gm.graph.nodes if n.op == "output").args[0]
    if not isinstance(out, (tuple, list)) or len(out) < 2:
        raise TypeError("the traced output is not a distribution or a (mean, second) tuple")
    kind = output if output in ("variance", "log_variance", "std") else "std"
    return gm, out[1], kind


@dataclass(frozen=True)
class Proof:
    """What the interval analysis shows about the variance: ``floor`` (a VARIANCE) or None, and why."""

    floor: float | None
    interval: Interval | None
    kind: str
    text: str
    detach: bool = False


def _has_detach_ancestor(node) -> bool:
    seen, stack = set(), [node]
    while stack:
        n = stack.pop()
        if not isinstance(n, torch.fx.Node) or n in seen:
            continue
        seen.add(n)
        if _name(n) == "detach":
            return True
        stack.extend(a for a in n.all_input_nodes)
    return False


def prove_floor(gm, node, kind: str) -> Proof:
    """Propagate intervals through ``gm``; read the floor of the variance at ``node`` (module docstring)."""
    analysis = _Analysis(gm)
    analysis.run()
    iv = analysis.val(node)
    iv = TOP if iv is None else iv
    what = {"variance": "variance", "log_variance": "log-variance", "std": "standard deviation"}[kind]
    where = (
        f"{what} in [{iv.lo:.6g}, {iv.hi:.6g}] for every input and every value of the trainable parameters"
    )
    if analysis.notes:
        where += " (" + "; ".join(sorted(set(analysis.notes))[:3]) + ")"
    if analysis.void is not None:
        return Proof(None, iv, kind, f"no structural proof: {analysis.void}")
    floor = None
    if kind == "variance" and iv.lo > 0:
        floor = iv.lo
    elif kind == "log_variance" and iv.lo > -INF:
        floor = math.exp(iv.lo) if iv.lo > -745 else None
    elif kind == "std" and iv.lo > 0:
        floor = iv.lo * iv.lo if iv.lo != INF else None
    if floor is not None and floor <= 0:
        floor = None
    if floor is None:
        return Proof(None, iv, kind, f"no structural proof: interval analysis gives the {where}")
    return Proof(
        floor, iv, kind, f"interval analysis of the traced graph: {where}", _has_detach_ancestor(node)
    )


__all__ = ["TOP", "Interval", "Proof", "prove_floor", "trace_variance"]
