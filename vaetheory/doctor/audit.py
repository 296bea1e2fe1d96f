r"""Static audit: does a user's decoder (or loss) bound its Gaussian variance, and by what?

A Gaussian likelihood with a learned variance is unbounded: a decoder that reproduces one point
and shrinks its variance sends :math:`\log p(x)` to :math:`+\infty` (Mattei & Frellsen 2018,
arXiv:1802.04826; theory section 2). A floor :math:`\sigma^2\ge\xi` bounds it by
:math:`-\tfrac d2\log(2\pi\xi)` per point (:func:`vaetheory.densities.variance_floor_bound`).

:func:`audit_decoder` finds out, for a module vaetheory did not write, whether its variance has
such a floor, by two independent routes:

* **the structure** (the only route that can say ``bounded: true``): the module is traced with
  ``torch.fx`` in training and in evaluation mode (a module returning a ``Normal`` or
  ``Independent`` Normal through a wrapper that returns its scale) and an interval analysis
  (:mod:`vaetheory.doctor.structure`) bounds the variance over every input and every value of the
  trainable parameters. A positive lower end :math:`\xi` is a proof of the floor.
* **probing** (witnesses): on a float64 copy of the module, the smallest variance is recorded as the
  input is scaled (:data:`INPUT_SCALES`), as the parameters are moved along the direction that
  shrinks it (all together, each tensor alone, and all together at the lowest input found), and
  along :data:`DIRECTIONS` random directions in parameter space and in input space, both signs. A
  variance that reaches 0 in float64, or whose log still falls at the largest step of a shrinking
  direction, is a witness: ``bounded: false``. A probe below a proved floor makes ``bounded`` null
  (the routes disagree). Without a proof and without a witness ``bounded`` is null, and ``why``
  says "no structural proof (...); probes in N directions found no variance below X".
  Whether a proved floor bounds the *gradient* too is read off by comparing, just below the floor,
  the gradient autograd reports with the flat value (a straight-through clamp, as
  ``torch.nn.GaussianNLLLoss`` applies, has a gradient where the value is flat; a ``detach()``
  upstream of the variance also makes it ``"value"``).
* the graph also names the mechanism (a final ``exp`` of an unbounded layer, ``softplus`` plus a
  constant, a ``clamp``, a ``sigmoid`` range, the sigma-VAE's softclip, a learnable scalar
  log-variance parameter, a constant variance) for the text.

:func:`audit_loss` does the same for a loss function: ``torch.nn.GaussianNLLLoss(eps=...)``, a
hand-written Gaussian NLL, a loss with its own learnable log-variance (the Stable Diffusion
autoencoder's ``rec / exp(logvar) + logvar``), or MSE (no variance: a fixed variance).
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from vaetheory._validation import check_choice, check_int
from vaetheory.densities import LOG_2PI, variance_floor_bound
from vaetheory.results import Result

#: what the decoder's output is: a distribution, or a tuple (mean, second) with second a ...
DECODER_OUTPUTS = ("auto", "distribution", "variance", "log_variance", "std", "mean")
#: what the loss's third argument is (``"none"``: the loss takes (input, target) only)
LOSS_ARGUMENTS = ("variance", "log_variance", "std", "none")
#: the factors by which the decoder input is scaled in the probes
INPUT_SCALES = (1.0, 10.0, 100.0, 1e3, 1e4, -1.0, -10.0, -100.0, -1e3, -1e4)
#: the distances (in units of the normalised shrinking direction) the parameters are moved
PARAMETER_STEPS = (1.0, 10.0, 100.0, 1e3, 1e4, 1e5)
#: the distances (rows of unit norm) the input is moved along each random input direction
INPUT_STEPS = (1.0, 10.0, 100.0, 1e3, 1e4)
#: random directions probed by default, in parameter space and in input space each (both signs)
DIRECTIONS = 16
#: log of float64's smallest normal number: a log-variance below it is a variance of 0 in float64
LOG_TINY64 = math.log(torch.finfo(torch.float64).tiny)
#: two probed log-variances closer than this (relative) are "the same": a plateau. float64 rounding
#: of a log near 1..700 in magnitude is ~1e-13 relative; 1e-9 leaves room for the sums in a network
PLATEAU_RTOL = 1e-9
#: the graph's closed-form floor and the probed one agree within this relative tolerance (float64
#: exp/log/softplus of the same numbers; the probe reaches the floor to within exp(-1e4) or exactly)
FLOOR_RTOL = 1e-6


@dataclass(frozen=True)
class Audit(Result):
    r"""The verdict on a decoder or a loss: is its likelihood bounded, by what floor, bounding what.

    ``bounded``: true, false, or null when the audit cannot tell (``why`` says why).
    ``floor_variance``: the smallest variance it can produce (a VARIANCE), null if none.
    ``bounds``: ``"both"`` (value and gradient), ``"value"`` (the value used in the loss only; the
    gradient passes through), ``"gradient"``, ``"none"``, or null when unknown.
    ``bound_per_point``: :math:`-\tfrac d2\log(2\pi\xi)` nats for ``data_dim`` d (null without d or
    without a floor). ``loss_infimum``: for a loss, the smallest value it can return (in its own
    reduction, measured at zero residual and the floor); ``loss_reduction``: what one loss value
    averages over (``"element"``, ``"point"`` or ``"sum"``), measured by probing.
    ``sentence``: one sentence a user can paste.
    """

    subject: str
    mechanism: str
    bounded: bool | None
    why: str
    floor_variance: float | None
    bounds: str | None
    data_dim: int | None
    bound_per_point: float | None
    bound_per_dimension: float | None
    loss_infimum: float | None
    loss_reduction: str | None
    graph: str
    probes: tuple[dict, ...] = field(default_factory=tuple)
    sentence: str = ""

    def summary(self) -> str:
        """The verdict in a few lines."""
        verdict = {True: "bounded", False: "UNBOUNDED", None: "cannot tell"}[self.bounded]
        lines = [f"{self.subject}: {verdict} ({self.mechanism})", f"  why: {self.why}"]
        if self.floor_variance is not None:
            lines.append(f"  floor on the variance: xi = {self.floor_variance:.6g} (bounds: {self.bounds})")
        if self.bound_per_point is not None:
            lines.append(
                f"  log p(x) <= -(d/2) log(2 pi xi) = {self.bound_per_point:.6g} nats per point "
                f"(d = {self.data_dim}; {self.bound_per_dimension:.6g} per dimension)"
            )
        if self.loss_infimum is not None:
            lines.append(f"  smallest value of the loss: {self.loss_infimum:.6g} (per {self.loss_reduction})")
        lines.append(f"  graph: {self.graph}")
        lines.append(f"  {self.sentence}")
        return "\n".join(lines)


# -- reading a decoder's output ---------------------------------------------------------------


def _log_variance_of(out: Any, output: str) -> torch.Tensor:
    """The log VARIANCE the decoder output ``out`` describes, in float64 (log space throughout)."""
    from torch.distributions import Independent, Normal

    if output in ("auto", "distribution") and isinstance(out, Independent):
        out = out.base_dist
    if output in ("auto", "distribution") and isinstance(out, Normal):
        return 2.0 * torch.log(out.scale.double())
    if output == "distribution":
        raise ValueError(f"output='distribution' but the module returned {type(out).__name__}")
    if output == "auto":
        raise ValueError(
            "the module did not return a torch.distributions Normal or Independent Normal; pass output= "
            f"one of {', '.join(map(repr, DECODER_OUTPUTS[2:]))} to say what its (mean, second) tuple holds"
        )
    if not isinstance(out, (tuple, list)) or len(out) < 2:
        raise ValueError(
            f"output={output!r} needs the module to return a tuple (mean, {output}); got {out!r}"
        )
    second = out[1].double()
    if output == "variance":
        return torch.log(second)
    if output == "log_variance":
        return second
    return 2.0 * torch.log(second)  # std


def _as_tuple(example_input) -> tuple:
    return tuple(example_input) if isinstance(example_input, (tuple, list)) else (example_input,)


def _min_log_variance(module, inputs, output) -> torch.Tensor:
    from torch.distributions import Distribution

    # a probe drives the scale to 0 on purpose: the distribution's argument check must not refuse it
    previous = Distribution._validate_args
    Distribution.set_default_validate_args(False)
    try:
        return _log_variance_of(module(*inputs), output).amin()
    finally:
        Distribution.set_default_validate_args(previous)


# -- the graph -------------------------------------------------------------------------------


def _target_name(node) -> str:
    t = node.target
    return t if isinstance(t, str) else getattr(t, "__name__", str(t))


def _read_graph(gm, node, output: str) -> dict:
    """Name how the traced graph ``gm`` produces the variance output ``node`` (the mechanism, for the text).

    This walk follows the first tensor argument back from the output and only names what it meets; the
    verdict's structural proof is the interval analysis of :mod:`vaetheory.doctor.structure`.
    """
    modules = dict(gm.named_modules())
    chain: list[str] = []
    info: dict[str, Any] = {"ok": True, "kind": None, "constant": None}
    cur = node
    for _ in range(8):
        if not hasattr(cur, "op"):
            chain.append(f"constant {cur!r}")
            info["kind"] = info["kind"] or "fixed"
            break
        name = _target_name(cur)
        if cur.op == "call_module":
            sub = modules.get(cur.target)
            name = type(sub).__name__
        chain.append(name)
        tensor_args = [a for a in cur.args if hasattr(a, "op")]
        consts = [a for a in cur.args if isinstance(a, (int, float)) and not isinstance(a, bool)]
        lname = name.lower()
        if cur.op == "get_attr":
            param = gm.get_parameter(cur.target) if cur.target in dict(gm.named_parameters()) else None
            if param is not None and param.numel() == 1:
                info["kind"] = info["kind"] or "scalar_parameter"
            elif param is not None:
                info["kind"] = info["kind"] or "parameter"
            else:
                info["kind"] = info["kind"] or "fixed"
            break
        if cur.op == "placeholder":
            info["kind"] = info["kind"] or "input"
            break
        if lname in ("add", "iadd", "__add__") and consts and tensor_args:
            info.setdefault("added", float(consts[0]))
        if lname in ("clamp", "clamp_min", "clip", "maximum", "max"):
            lo = cur.kwargs.get("min", consts[0] if consts else None)
            info["kind"] = info["kind"] or "clamp"
            info["constant"] = None if lo is None else float(lo)
            info["clamp_on"] = "later"  # resolved below
            chain[-1] += f"(min={lo})"
        elif lname == "softplus" and info["kind"] is None:
            info["kind"] = "softplus_plus_eps" if "added" in info else "softplus"
            info["constant"] = info.get("added")
        elif lname == "sigmoid" and info["kind"] is None:
            info["kind"] = "sigmoid"
        elif lname == "exp" and info["kind"] is None:
            info["exp_at"] = len(chain) - 1
        elif name in ("Linear", "Conv1d", "Conv2d", "ConvTranspose2d", "Bilinear") and info["kind"] is None:
            info["kind"] = "exp_of_layer" if "exp_at" in info or output == "log_variance" else "layer"
            break
        if not tensor_args:
            break
        cur = tensor_args[0]
    if info["kind"] in ("scalar_parameter", "parameter") and not (
        "exp_at" in info or output == "log_variance"
    ):
        info["kind"] = "parameter_variance"
    if info["kind"] == "softplus" and "exp_at" in info:
        info["kind"] = "softclip"
    if info["kind"] == "clamp":
        # a clamp met before any exp clamps the variance itself; after an exp (walking back) the log variance
        info["clamp_log"] = "exp_at" in info or output == "log_variance"
    info["text"] = " <- ".join(chain)
    return info


_MECHANISM = {
    "exp_of_layer": "exp of an unbounded layer",
    "scalar_parameter": "learnable scalar log-variance parameter",
    "parameter": "learnable log-variance parameter",
    "parameter_variance": "learnable variance parameter",
    "softplus_plus_eps": "softplus + eps",
    "softplus": "softplus without eps",
    "clamp": "clamp",
    "sigmoid": "sigmoid range",
    "softclip": "softclip (sigma-VAE)",
    "fixed": "fixed variance",
    "input": "variance taken from the input",
    "layer": "raw layer output used as the variance",
}


#: graph kinds that name a floor mechanism (others are named only if they prove nothing)
_FLOOR_KINDS = ("softplus_plus_eps", "clamp", "sigmoid", "softclip", "fixed")


# -- probing ----------------------------------------------------------------------------------


def _float64_copy(module):
    twin = copy.deepcopy(module).double()
    twin.eval()
    return twin


def _shrink_path(twin, inputs, output, params, direction_of) -> list[float]:
    """min log-variance after moving ``params`` by each of PARAMETER_STEPS along the shrinking direction."""
    saved = [p.detach().clone() for p in params]
    for p in params:
        p.grad = None
    _min_log_variance(twin, inputs, output).backward()
    grads = [torch.zeros_like(p) if p.grad is None else p.grad.detach().clone() for p in params]
    norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
    values: list[float] = []
    if not norm > 0 or not math.isfinite(norm):
        return values
    directions = [direction_of(g) / norm for g in grads]
    with torch.no_grad():
        for t in PARAMETER_STEPS:
            for p, s, d in zip(params, saved, directions):
                p.copy_(s - t * d)
            values.append(float(_min_log_variance(twin, inputs, output)))
        for p, s in zip(params, saved):
            p.copy_(s)
    return values


def _plateau(values: list[float]) -> tuple[str, float]:
    """Classify a path of min log-variances: ('zero'|'falling'|'plateau'|'nan', last finite value)."""
    finite = [v for v in values if math.isfinite(v)]
    if any(v == -math.inf for v in values) or (finite and min(finite) < LOG_TINY64):
        return "zero", -math.inf
    if len(finite) < 2:
        return "nan", math.nan
    a, b = finite[-2], finite[-1]
    if abs(a - b) <= PLATEAU_RTOL * (1.0 + abs(b)):
        return "plateau", b
    return ("falling" if b < a else "plateau"), b


def audit_decoder(
    module: torch.nn.Module,
    example_input,
    *,
    data_dim: int | None = None,
    output: str = "auto",
    directions: int = DIRECTIONS,
    seed: int = 0,
) -> Audit:
    """Audit how ``module`` produces its Gaussian variance (module docstring).

    ``module(*example_input)`` (or ``module(example_input)``) returns a ``torch.distributions.Normal``,
    an ``Independent`` Normal, or a tuple ``(mean, second)`` where ``output`` says what ``second``
    is: ``"variance"``, ``"log_variance"`` or ``"std"``. ``output="mean"`` means the module returns
    the mean only (its variance is fixed by the loss: audit the loss with :func:`audit_loss`).
    ``data_dim`` (the number of data dimensions d) gives the bound per point. The module itself
    is not changed: it is probed on a float64 deep copy.
    """
    check_choice("output", output, DECODER_OUTPUTS)
    directions = check_int("directions", directions, low=0, high=10_000)
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    if data_dim is not None:
        data_dim = check_int("data_dim", data_dim, low=1)
    if not isinstance(module, torch.nn.Module):
        raise ValueError(f"module must be a torch.nn.Module; got {type(module).__name__}")
    if output == "mean":
        return _finish(
            "decoder",
            "mean only (variance fixed by the loss)",
            None,
            "the module returns a mean only: its variance is whatever the loss assumes; audit the loss "
            "with audit_loss",
            None,
            None,
            data_dim,
            "not read (output='mean')",
            (),
        )
    inputs = tuple(
        t.detach().double() if isinstance(t, torch.Tensor) and t.is_floating_point() else t
        for t in _as_tuple(example_input)
    )
    twin = _float64_copy(module)
    try:
        with torch.no_grad():
            base = float(_min_log_variance(twin, inputs, output))
    except ValueError:
        raise
    except Exception as exc:
        raise ValueError(f"module(example_input) failed: {type(exc).__name__}: {exc}") from None
    probes: list[dict] = [{"probe": "example input", "min_log_variance": base}]
    # input extremes
    input_lv: list[float] = []
    with torch.no_grad():
        for s in INPUT_SCALES:
            scaled = tuple(
                t * s if isinstance(t, torch.Tensor) and t.is_floating_point() else t for t in inputs
            )
            try:
                input_lv.append(float(_min_log_variance(twin, scaled, output)))
            except Exception:
                input_lv.append(math.nan)
    probes.append(
        {
            "probe": "input scaled by " + ", ".join(f"{s:g}" for s in INPUT_SCALES),
            "min_log_variance": input_lv,
        }
    )
    params = [p for p in twin.parameters() if p.requires_grad]
    paths: list[tuple[str, list[float]]] = []
    if params:
        paths.append(("all parameters", _shrink_path(twin, inputs, output, params, lambda g: g)))
        named = [(n, p) for n, p in twin.named_parameters() if p.requires_grad]
        for name, p in named:
            paths.append((f"parameter {name}", _shrink_path(twin, inputs, output, [p], lambda g: g)))
    generator = torch.Generator().manual_seed(seed)
    random_paths = _random_parameter_paths(twin, inputs, output, params, directions, generator)
    input_paths, lowest_inputs = _random_input_paths(twin, inputs, output, directions, generator)
    random_paths += input_paths
    if params and lowest_inputs is not None:
        # the parameters' shrinking direction at the input that gave the smallest variance: a variance
        # that needs both an input direction and a parameter direction to reach 0 is found here
        paths.append(
            (
                "all parameters at the lowest input found",
                _shrink_path(twin, lowest_inputs, output, params, lambda g: g),
            )
        )
    for name, values in paths:
        probes.append(
            {
                "probe": f"{name} moved by {', '.join(f'{t:g}' for t in PARAMETER_STEPS)}",
                "min_log_variance": values,
            }
        )
    probes.append(
        {
            "probe": f"{len(random_paths)} random directions ({directions} in parameter space and "
            f"{directions} in input space, both signs; seed {seed}): lowest min log-variance of each",
            "min_log_variance": [
                min([v for v in vs if not math.isnan(v)], default=math.nan) for _, vs in random_paths
            ],
        }
    )
    graph, proof = _structure(twin, len(inputs), output)
    return _verdict_decoder(
        twin, inputs, output, base, input_lv, paths, random_paths, graph, proof, probes, data_dim
    )


def _structure(twin, n_inputs: int, output: str) -> tuple[dict, dict]:
    """The mechanism (named from the eval-mode graph) and the interval proof over both modes' graphs."""
    from vaetheory.doctor.structure import prove_floor, trace_variance

    graph: dict = {"ok": False}
    floors: list[float | None] = []
    texts: list[str] = []
    detach = False
    for training in (False, True):
        try:
            gm, node, kind = trace_variance(twin, n_inputs, output, training=training)
        except Exception as exc:  # fx raises many types for untraceable code; the probes still run
            text = f"torch.fx could not trace the module ({type(exc).__name__}: {exc})"[:300]
            return {"ok": False, "text": text}, {"floor": None, "text": f"no structural proof: {text}"}
        proof = prove_floor(gm, node, kind)
        floors.append(proof.floor)
        texts.append(("training mode: " if training else "evaluation mode: ") + proof.text)
        detach = detach or proof.detach
        if not training:
            graph = _read_graph(gm, node, kind)
    floor = None if any(f is None for f in floors) else min(floors)
    if texts[0].removeprefix("evaluation mode: ") == texts[1].removeprefix("training mode: "):
        texts = [texts[0].replace("evaluation mode: ", "training and evaluation mode: ")]
    return graph, {"floor": floor, "text": "; ".join(texts), "detach": detach}


def _safe_min(twin, inputs, output) -> float:
    try:
        with torch.no_grad():
            return float(_min_log_variance(twin, inputs, output))
    except Exception:  # a probe far out may make the module fail; it is then no evidence either way
        return math.nan


def _random_parameter_paths(twin, inputs, output, params, directions: int, generator) -> list:
    """min log-variance along random unit directions in parameter space (both signs), by PARAMETER_STEPS."""
    paths: list[tuple[str, list[float]]] = []
    if not params:
        return paths
    saved = [p.detach().clone() for p in params]
    try:
        for k in range(directions):
            d = [torch.randn(p.shape, generator=generator, dtype=torch.float64) for p in params]
            norm = math.sqrt(sum(float((x * x).sum()) for x in d))
            for sign in (1.0, -1.0):
                values = []
                for t in PARAMETER_STEPS:
                    with torch.no_grad():
                        for p, s0, di in zip(params, saved, d):
                            p.copy_(s0 + (sign * t / norm) * di)
                    values.append(_safe_min(twin, inputs, output))
                paths.append((f"random parameter direction {k}{'+' if sign > 0 else '-'}", values))
    finally:
        with torch.no_grad():
            for p, s0 in zip(params, saved):
                p.copy_(s0)
    return paths


def _random_input_paths(twin, inputs, output, directions: int, generator):
    """min log-variance along random directions in input space (rows of unit norm, both signs)."""
    paths: list[tuple[str, list[float]]] = []
    floating = [i for i, t in enumerate(inputs) if isinstance(t, torch.Tensor) and t.is_floating_point()]
    if not floating:
        return paths, None
    best, best_inputs = math.inf, None
    for k in range(directions):
        d = {}
        for i in floating:
            r = torch.randn(inputs[i].shape, generator=generator, dtype=torch.float64)
            rows = r.reshape(r.shape[0], -1) if r.dim() >= 2 else r.reshape(1, -1)
            d[i] = (rows / rows.norm(dim=1, keepdim=True).clamp_min(1e-300)).reshape(r.shape)
        for sign in (1.0, -1.0):
            values = []
            for t in INPUT_STEPS:
                moved = tuple(x + sign * t * d[i] if i in d else x for i, x in enumerate(inputs))
                v = _safe_min(twin, moved, output)
                values.append(v)
                # ties go to the farther input: once a term has vanished in the min, go on pushing it
                if v <= best:
                    best, best_inputs = v, moved
            paths.append((f"random input direction {k}{'+' if sign > 0 else '-'}", values))
    return paths, best_inputs


def _verdict_decoder(
    twin, inputs, output, base, input_lv, paths, random_paths, graph, proof, probes, data_dim
) -> Audit:
    """bounded: true only with a structural proof the probes do not contradict; false on a witness."""
    kind = graph.get("kind") if graph.get("ok") else None
    graph_text = graph["text"] + "; " + proof["text"]
    every = [("the example input", [base]), ("the input scaled", input_lv), *paths, *random_paths]
    finite = [v for _, vs in every for v in vs if math.isfinite(v)]
    lowest = min(finite) if finite else math.nan
    zero = next((n for n, vs in every if vs and _plateau(vs)[0] == "zero"), None)
    falling = next((n for n, vs in paths if vs and _plateau(vs)[0] == "falling"), None)
    n_dirs = len(paths) + len(random_paths) + len(INPUT_SCALES)
    xi = proof["floor"]
    if xi is not None:
        mechanism = _MECHANISM.get(kind, "not recognised in the graph")
        if kind not in _FLOOR_KINDS:
            mechanism = "a floor proved by interval analysis of the graph"
        # the proof holds in real arithmetic; float64 rounding of the last operations is a few ulps of xi
        if zero is not None or (math.isfinite(lowest) and lowest < math.log(xi) + math.log1p(-FLOOR_RTOL)):
            reached = "0" if zero is not None else f"{math.exp(lowest):.6g}"
            return _finish(
                "decoder",
                mechanism,
                None,
                f"the graph proves variance >= {xi:.6g} but a probe ({zero or 'a direction'}) reached "
                f"{reached}: the two routes disagree",
                None,
                None,
                data_dim,
                graph_text,
                probes,
            )
        bounds = _bounds_of_decoder(twin, inputs, output, xi)
        why = (
            f"the traced graph proves the variance >= xi = {xi:.6g} for every input and parameter value "
            f"(interval analysis), and probes in {n_dirs} directions found nothing below it"
        )
        if math.isfinite(lowest) and lowest > math.log(xi) + math.log1p(FLOOR_RTOL):
            why += (
                f" (the lowest they reached is {math.exp(lowest):.6g}: the proved floor may not be attained)"
            )
        if proof.get("detach") and bounds == "both":
            bounds = "value"
            why += "; a detach() upstream of the variance: the gradient may bypass the floor"
        return _finish("decoder", mechanism, True, why, xi, bounds, data_dim, graph_text, probes)
    mechanism = _MECHANISM.get(kind, "not recognised in the graph")
    if zero is not None:
        return _finish(
            "decoder",
            mechanism,
            False,
            f"moving {zero} sends the variance to 0 in float64 (no floor): the likelihood is unbounded "
            "(theory section 2)",
            None,
            "none",
            data_dim,
            graph_text,
            probes,
        )
    if falling is not None:
        last = next(v for n, v in paths if n == falling)
        return _finish(
            "decoder",
            mechanism,
            False,
            f"moving {falling} along the shrinking direction lowers the log-variance without a plateau "
            f"(to {last[-1]:.6g} at the largest step, {PARAMETER_STEPS[-1]:g}) and the graph proves no "
            "floor: no floor was found",
            None,
            "none",
            data_dim,
            graph_text,
            probes,
        )
    found = f"{math.exp(lowest):.6g}" if math.isfinite(lowest) else "a finite value"
    return _finish(
        "decoder",
        mechanism,
        None,
        f"no structural proof ({proof['text'].removeprefix('no structural proof: ')}); probes in {n_dirs} "
        f"directions found no variance below {found}, which does not show that none exists",
        None,
        None,
        data_dim,
        graph_text,
        probes,
    )


def _bounds_of_decoder(twin, inputs, output, xi: float) -> str:
    """'both' unless the floor is a straight-through clamp (a gradient where the value is flat): 'value'.

    Along the shrinking direction, the step at which the variance first sits on the floor is found by
    bisection; there, a smooth floor (softplus, softclip, sigmoid) has a gradient that has decayed to
    ~0 and a hard clamp has none, while a straight-through clamp still passes the gradient of the
    unclamped variance, of the order of the gradient at the example input.
    """
    params = [p for p in twin.parameters() if p.requires_grad]
    saved = [p.detach().clone() for p in params]
    grads = _gradient(twin, inputs, output, params)
    norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
    if not norm > 0:
        return "both"
    log_xi = math.log(xi)

    def at(t: float) -> torch.Tensor:
        with torch.no_grad():
            for p, s, g in zip(params, saved, grads):
                p.copy_(s - t * g / norm)
        return _min_log_variance(twin, inputs, output)

    def on_floor(t: float) -> bool:
        with torch.no_grad():
            return abs(float(at(t)) - log_xi) <= PLATEAU_RTOL * (1 + abs(log_xi))

    verdict = "both"
    try:
        hi = next((t for t in PARAMETER_STEPS if on_floor(t)), None)
        if hi is not None and not on_floor(0.0):
            lo = 0.0
            for _ in range(80):
                mid = 0.5 * (lo + hi)
                lo, hi = (lo, mid) if on_floor(mid) else (mid, hi)
            # a little past the entry (0.01 in log-variance at the initial rate): a hard clamp's boundary
            # point itself still passes the gradient, the inside of the clamp does not
            past = hi + 0.01 / norm
            if not on_floor(past):
                return "both"
            here = _gradient(twin, inputs, output, params, t_value=past, at=at)
            g_here = math.sqrt(sum(float((g * g).sum()) for g in here))
            # 1e-3 of the gradient at the example input: a smooth floor's gradient at the point where the
            # value rounds onto the floor is ~1e-9 of it (softplus(x) ~ e^x ~ 1e-9 xi), a clamp's is 0,
            # a straight-through clamp's is of order 1 times it
            if g_here > 1e-3 * norm:
                verdict = "value"
    finally:
        with torch.no_grad():
            for p, s in zip(params, saved):
                p.copy_(s)
    return verdict


def _gradient(twin, inputs, output, params, *, t_value=None, at=None) -> list[torch.Tensor]:
    for p in params:
        p.grad = None
    lv = at(t_value) if at is not None else _min_log_variance(twin, inputs, output)
    lv.backward()
    return [torch.zeros_like(p) if p.grad is None else p.grad.detach().clone() for p in params]


def _finish(
    subject,
    mechanism,
    bounded,
    why,
    xi,
    bounds,
    data_dim,
    graph,
    probes,
    *,
    loss_infimum=None,
    loss_reduction=None,
) -> Audit:
    per_point = per_dim = None
    if xi is not None and xi > 0:
        per_dim = variance_floor_bound(1, xi)
        if data_dim is not None:
            per_point = variance_floor_bound(data_dim, xi)
    sentence = _sentence(subject, mechanism, bounded, xi, bounds, data_dim, per_point, per_dim, why)
    return Audit(
        subject=subject,
        mechanism=mechanism,
        bounded=bounded,
        why=why,
        floor_variance=xi,
        bounds=bounds,
        data_dim=data_dim,
        bound_per_point=per_point,
        bound_per_dimension=per_dim,
        loss_infimum=loss_infimum,
        loss_reduction=loss_reduction,
        graph=graph,
        probes=tuple(probes),
        sentence=sentence,
    )


def _sentence(subject, mechanism, bounded, xi, bounds, d, per_point, per_dim, why) -> str:
    if bounded is None:
        return f"vaetheory could not tell whether this {subject}'s Gaussian likelihood is bounded: {why}."
    if not bounded:
        return (
            f"This {subject} ({mechanism}) puts no floor under the Gaussian variance, so its likelihood is "
            "unbounded: a decoder that reproduces one training point and shrinks its variance sends log p(x) "
            "to +infinity (Mattei & Frellsen 2018); a floor xi bounds it by -(d/2) log(2 pi xi) per point."
        )
    what = {
        "both": "the value and the gradient",
        "value": "only the value used in the loss (the gradient "
        "passes through, so the underlying variance can keep shrinking)",
        "gradient": "the gradient",
    }.get(bounds, "the value")
    if xi is None:
        return f"This {subject} ({mechanism}) is bounded: {why}."
    where = (
        f"{per_point:.4g} nats per point for d = {d} ({per_dim:.4g} per dimension)"
        if per_point is not None
        else f"{per_dim:.4g} nats per data dimension"
    )
    return (
        f"This {subject} ({mechanism}) floors the Gaussian variance at xi = {xi:.3g}, which bounds {what}: "
        f"log p(x) <= -(d/2) log(2 pi xi) = {where} (Mattei & Frellsen 2018; vaetheory)."
    )


# -- losses -------------------------------------------------------------------------------------


def _loss_argument(loss_fn, argument: str | None) -> str:
    if argument is not None:
        return check_choice("argument", argument, LOSS_ARGUMENTS)
    if isinstance(loss_fn, torch.nn.GaussianNLLLoss):
        return "variance"
    try:
        fn = loss_fn.forward if isinstance(loss_fn, torch.nn.Module) else loss_fn
        n = len(
            [p for p in inspect.signature(fn).parameters.values() if p.default is inspect.Parameter.empty]
        )
    except (TypeError, ValueError):
        n = 3
    return "variance" if n >= 3 else "none"


def audit_loss(
    loss_fn: Callable,
    *,
    data_dim: int | None = None,
    argument: str | None = None,
) -> Audit:
    r"""Audit a loss ``loss_fn(input, target[, third])`` the same way (module docstring).

    ``argument`` says what the third argument is (``"variance"``, ``"log_variance"``, ``"std"``)
    or ``"none"`` for a loss of (input, target) only (MSE, or a loss module with its own learnable
    log-variance, like the Stable Diffusion autoencoder's). By default: ``"variance"`` for
    ``torch.nn.GaussianNLLLoss`` and for callables with three required arguments, else ``"none"``.
    The loss is evaluated in float64 at zero residual (where a Gaussian NLL is smallest) for
    variances from 1 down to 1e-300 and, for a loss module with parameters, along the direction
    of its parameters that lowers it. ``loss_infimum`` is its smallest value on a batch of one point
    of ``data_dim`` dimensions (times the batch size for ``reduction='sum'``); ``loss_reduction``
    what one value averages over, measured from how the loss scales with batch and dimension.
    """
    arg = _loss_argument(loss_fn, argument)
    d = 1 if data_dim is None else check_int("data_dim", data_dim, low=1)
    if data_dim is not None:
        data_dim = d
    fn = copy.deepcopy(loss_fn).double() if isinstance(loss_fn, torch.nn.Module) else loss_fn

    def call(n: int, dim: int, var: float, residual: float = 0.0) -> torch.Tensor:
        target = torch.zeros(n, dim, dtype=torch.float64)
        mean = target + residual
        if arg == "none":
            return fn(mean, target)
        v = torch.full((n, dim), var, dtype=torch.float64, requires_grad=True)
        third = {"variance": v, "log_variance": None, "std": None}[arg]
        if arg == "log_variance":
            third = torch.full((n, dim), math.log(var), dtype=torch.float64, requires_grad=True)
        elif arg == "std":
            third = torch.full((n, dim), math.sqrt(var), dtype=torch.float64, requires_grad=True)
        out = fn(mean, target, third)
        call.third = third
        return out

    try:
        call(1, d, 1.0)
    except Exception as exc:
        raise ValueError(
            f"loss_fn(input, target{'' if arg == 'none' else ', ' + arg}) failed: {type(exc).__name__}: {exc}"
        ) from None
    reduction = _reduction(call, d)
    probes: list[dict] = [{"probe": "loss reduction", "value": reduction}]
    params = [p for p in fn.parameters() if p.requires_grad] if isinstance(fn, torch.nn.Module) else []
    name = type(loss_fn).__name__
    if arg == "none" and not params:
        zero = float(call(1, d, 1.0, 0.0))
        a, b = float(call(1, d, 1.0, 0.5)), float(call(1, d, 1.0, 1.0))
        probes.append({"probe": "residual 0, 0.5, 1", "value": [zero, a, b]})
        quadratic = math.isclose(b - zero, 4.0 * (a - zero), rel_tol=1e-9)
        return _finish(
            "loss",
            f"{name}: {'squared error' if quadratic else 'no variance argument'} (fixed variance)",
            True,
            "the loss has no variance argument and no parameters: it is "
            + (
                "a squared error, the Gaussian NLL of a fixed variance"
                if quadratic
                else "not a function of a variance"
            )
            + f"; it is smallest at zero residual ({zero:.6g})",
            None,
            "both",
            data_dim,
            "not read (a loss)",
            probes,
            loss_infimum=zero,
            loss_reduction=reduction,
        )
    if arg == "none":
        # a loss with its own learnable variance parameters: drive them along the direction that lowers it
        values = []
        saved = [p.detach().clone() for p in params]
        for p in params:
            p.grad = None
        call(1, d, 1.0, 0.0).backward()
        grads = [torch.zeros_like(p) if p.grad is None else p.grad.detach().clone() for p in params]
        norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
        with torch.no_grad():
            for t in PARAMETER_STEPS if norm > 0 else ():
                for p, s, g in zip(params, saved, grads):
                    p.copy_(s - t * g / norm)
                values.append(float(call(1, d, 1.0, 0.0)))
            for p, s in zip(params, saved):
                p.copy_(s)
        probes.append(
            {"probe": f"parameters moved by {', '.join(f'{t:g}' for t in PARAMETER_STEPS)}", "value": values}
        )
        finite = [v for v in values if math.isfinite(v)]
        if len(finite) >= 2 and finite[-1] < finite[-2] - PLATEAU_RTOL * (1 + abs(finite[-2])):
            return _finish(
                "loss",
                f"{name}: learnable log-variance parameter",
                False,
                f"at zero residual, moving the loss's own parameters along the direction that lowers it "
                f"takes "
                f"the loss to {finite[-1]:.6g} at the largest step without a plateau: no floor",
                None,
                "none",
                data_dim,
                "not read (a loss)",
                probes,
                loss_reduction=reduction,
            )
        if any(v == -math.inf for v in values):
            return _finish(
                "loss",
                f"{name}: learnable variance parameter",
                False,
                "the loss reaches -inf at zero residual as its parameters move: no floor",
                None,
                "none",
                data_dim,
                "not read (a loss)",
                probes,
                loss_reduction=reduction,
            )
        return _finish(
            "loss",
            name,
            None,
            "the loss's parameters do not lower it to a plateau the probes can tell from a floor",
            None,
            None,
            data_dim,
            "not read (a loss)",
            probes,
            loss_reduction=reduction,
        )
    # a variance argument: scan the variance at zero residual
    logs = [-0.5 * k for k in range(0, 1382)]  # log10 variance 0 .. -690.5 -> down to ~1e-300 in e-base
    lvs = [math.log(10.0) * x for x in logs if math.log(10.0) * x > LOG_TINY64 + 1.0]
    values = []
    with torch.no_grad():
        for lv in lvs:
            values.append(float(call(1, d, math.exp(lv))))
    probes.append(
        {
            "probe": f"variance from 1 down to {math.exp(lvs[-1]):.3g} at zero residual",
            "value": [values[0], values[len(values) // 2], values[-1]],
        }
    )
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) < len(values):
        return _finish(
            "loss",
            name,
            False,
            "the loss becomes non-finite as the variance goes to 0 at zero residual",
            None,
            "none",
            data_dim,
            "not read (a loss)",
            probes,
            loss_reduction=reduction,
        )
    low = values[-1]
    if not abs(values[-1] - values[-2]) <= PLATEAU_RTOL * (1 + abs(low)):
        return _finish(
            "loss",
            f"{name}: Gaussian NLL without a floor",
            False,
            f"at zero residual the loss falls without a plateau as the variance goes to 0 "
            f"({values[0]:.6g} at "
            f"variance 1, {low:.6g} at {math.exp(lvs[-1]):.3g}): no floor, unbounded",
            None,
            "none",
            data_dim,
            "not read (a loss)",
            probes,
            loss_reduction=reduction,
        )
    # bisection on log variance for the largest variance at which the loss already equals its plateau
    lo, hi = lvs[-1], 0.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        with torch.no_grad():
            v = float(call(1, d, math.exp(mid)))
        if abs(v - low) <= PLATEAU_RTOL * (1 + abs(low)):
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12:
            break
    xi = math.exp(lo)
    eps = getattr(loss_fn, "eps", None)
    if isinstance(eps, float) and math.isclose(eps, xi, rel_tol=1e-6):
        # bisection on the plateau locates eps to ~1e-8 relative (the loss's rounding); the attribute is exact
        xi = eps
    # gradient just below the floor: straight-through (value-only) or a real clamp (zero gradient)
    below = call(1, d, xi / 100.0)
    below.backward()
    g = call.third.grad
    grad_below = 0.0 if g is None else float(g.abs().max())
    bounds = "value" if grad_below > 0 else "both"
    probes.append({"probe": f"gradient of the loss w.r.t. the {arg} at {xi / 100:.3g}", "value": grad_below})
    is_nll = isinstance(loss_fn, torch.nn.GaussianNLLLoss)
    mechanism = (
        f"{name}(eps={loss_fn.eps:g}) clamp under no_grad" if is_nll else f"{name}: floored Gaussian NLL"
    )
    why = f"at zero residual the loss stops at {low:.6g} once the variance is below xi = {xi:.6g}" + (
        "; below it the gradient still pushes the variance down (the clamp is applied under no_grad): "
        "the value is bounded, the parameter is not"
        if bounds == "value"
        else "; below it the gradient is 0"
    )
    return _finish(
        "loss",
        mechanism,
        True,
        why,
        xi,
        bounds,
        data_dim,
        "not read (a loss)",
        probes,
        loss_infimum=low,
        loss_reduction=reduction,
    )


def _reduction(call, d: int) -> str:
    """What one loss value averages over: the change between two variances, scaled by batch and dim."""
    try:

        def delta(n, dim):
            if getattr(call, "none", False):
                return None
            with torch.no_grad():
                return float(call(n, dim, 1.0, 1.0)) - float(call(n, dim, 1.0, 0.0))

        one = delta(1, 1)
        two_points = delta(2, 1)
        two_dims = delta(1, 2)
    except Exception:
        return "unknown"
    if not one:
        return "unknown"
    p, q = two_points / one, two_dims / one
    if math.isclose(p, 1, rel_tol=1e-9) and math.isclose(q, 1, rel_tol=1e-9):
        return "element"
    if math.isclose(p, 1, rel_tol=1e-9) and math.isclose(q, 2, rel_tol=1e-9):
        return "point"
    if math.isclose(p, 2, rel_tol=1e-9) and math.isclose(q, 2, rel_tol=1e-9):
        return "sum"
    return "unknown"


__all__ = ["DECODER_OUTPUTS", "LOG_2PI", "LOSS_ARGUMENTS", "Audit", "audit_decoder", "audit_loss"]
