r"""The training-time doctor: attach to any loop, get the six answers with numbers.

The six questions users ask about a Gaussian likelihood with a learned variance, and how
:class:`Doctor` answers each from what :meth:`Doctor.observe` is given:

1. **Negative loss.** A Gaussian NLL is a density, not a probability: it is negative whenever the
   variance is small. With a floor :math:`\xi` the loss (negative log-likelihood or negative ELBO,
   per point, constants included) is at least :math:`\tfrac d2\log(2\pi\xi)` =
   ``-variance_floor_bound(d, xi)`` (theory section 2); a loss below that means the floor is not in
   effect. Without a floor the loss has no lower bound and a loss that keeps falling is the variance
   shrinking (question 2), not convergence.
2. **Falling log-variance.** The least-squares slope of the smallest log-variance over the last
   ``window`` observations, and the step at which, at that rate, it reaches the log of the smallest
   normal number of ``dtype`` (float32: :math:`\log(1.18\times10^{-38})=-87.3`), below which exp
   underflows and log-densities become non-finite.
3. **NaN; which floor.** The same prediction, a floor that stops it (the data's quantisation
   variance :math:`\Delta^2/12` when the observed data take few distinct values, else
   :data:`DEFAULT_FLOOR` times the data's mean per-dimension variance) and that floor's bound via
   :func:`vaetheory.empirical.policies.floor_report` (softplus: bounds value and gradient).
4. **What eps / the parameterisation bounds.** The :class:`~vaetheory.doctor.audit.Audit` of the
   decoder or loss when given, else the declared floor's
   :func:`~vaetheory.empirical.policies.floor_report`.
5. **Mean neglect.** The mean's squared error :math:`\overline{(x-\mu)^2}` against a fixed-variance
   reference (``reference_mse``) or the run's own best over its first ``early_observations``;
   a ratio above ``mean_neglect_ratio`` is reported with beta-NLL (Seitzer et al. 2022) and the
   "faithful" fit (Stirn et al. 2023) as remedies the literature proposes for it.
6. **Posterior collapse.** KL per latent dimension (nats, mean over the batch), active units
   (Burda et al. 2016: :math:`\operatorname{Var}_x\,\mathbb E_q[z_u]>0.01` from ``latent_mean``; else
   KL above :data:`KL_ACTIVE_NATS`), and the linear-VAE criterion (theory section 3): a latent
   direction can stay active only if a data eigenvalue exceeds :math:`\beta\bar\sigma^2`, so a mean
   decoder variance above the data's eigenvalues explains collapse and one below does not.

Everything is float64 numpy; tensors are detached and copied. No torch import is needed to use
the doctor on logged numbers (``vaetheory doctor LOG``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vaetheory._validation import check_choice, check_int, check_positive
from vaetheory.densities import LOG_2PI, variance_floor_bound
from vaetheory.results import Result, to_jsonable

#: log of the smallest NORMAL number of each dtype: below it exp() underflows (denormals, then 0)
LOG_TINY = {
    "float16": math.log(float(np.finfo(np.float16).tiny)),
    "bfloat16": math.log(float(np.finfo(np.float32).tiny)),  # bfloat16 has float32's exponent range
    "float32": math.log(float(np.finfo(np.float32).tiny)),
    "float64": math.log(float(np.finfo(np.float64).tiny)),
}
#: the floor suggested for continuous data, as a fraction of the data's mean per-dimension variance
DEFAULT_FLOOR = 1e-6
#: a latent unit with KL below this (nats) carries no information (when latent means are not given)
KL_ACTIVE_NATS = 0.01
#: Burda et al.'s activity threshold on Var_x E_q[z_u]
ACTIVE_UNIT_THRESHOLD = 0.01
#: float32 rounds a floor xi to within 2^-24 relative; four ulps of room keep a variance that sits
#: exactly on its float32-rounded floor from being called "below the floor"
FLOOR_RTOL32 = 4.0 * float(np.finfo(np.float32).eps)
#: a loss more than this (relative, + 1 absolute) below its infimum is a violation, not rounding: a
#: float32 loss summed over d terms is accurate to ~d * 6e-8 relative; 1e-4 covers d up to ~1000
LOSS_RTOL = 1e-4
#: a fall of less than this (nats of log-variance) over the trend window is "levelled off"
LEVEL_NATS = 0.5
LOSS_PER = ("point", "element")


class DoctorWarning(UserWarning):
    """A finding of :class:`Doctor` (the message names the step and, where there is one, the point)."""


@dataclass(frozen=True)
class Finding(Result):
    """One warning: ``kind``, the ``step``, the ``point`` (batch row or training index, or null), numbers."""

    kind: str
    step: int
    point: int | None
    value: float | None
    threshold: float | None
    message: str


def _array(value) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().double().numpy()
    return np.asarray(value, dtype=np.float64)


@dataclass
class _Obs:
    step: int
    loss: float | None = None
    min_log_variance: float | None = None
    min_point: int | None = None
    mean_variance: float | None = None
    mse: float | None = None
    worst_point: int | None = None
    max_point_loglik: float | None = None
    max_point: int | None = None
    kl_per_dim: list[float] | None = None
    active: int | None = None
    eigen_active: int | None = None


@dataclass(frozen=True)
class DoctorReport(Result):
    """The six answers (``answers``: question number -> text), their numbers, and the warnings."""

    answers: dict
    numbers: dict
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    def to_text(self) -> str:
        titles = {
            "1": "Is my negative loss normal?",
            "2": "Is my log-variance running away?",
            "3": "Will it end in NaN, and which floor stops it?",
            "4": "What does my eps / parameterisation bound?",
            "5": "Is my mean fit worse (mean neglect)?",
            "6": "Is the learned variance causing posterior collapse?",
        }
        lines = ["vaetheory doctor"]
        for key, title in titles.items():
            lines.append(f"{key}. {title}")
            lines.extend("   " + part for part in self.answers[key].split("\n"))
        lines.append(f"warnings: {len(self.findings)}")
        lines.extend("  - " + f.message for f in self.findings)
        return "\n".join(lines)

    def save_figure(self, stem) -> list:
        """Draw the report (loss against its bound, smallest log-variance and its extrapolated breakdown,
        KL per latent dimension) to ``stem.{pdf,png,json}``; needs matplotlib. Returns the paths."""
        from vaetheory.figures.doctor import doctor_figure

        return doctor_figure(stem, self)


class Doctor:
    r"""Watch any training loop: call :meth:`observe` each step (or every few), then :meth:`report`.

    Parameters
    ----------
    data_dim:
        d, the number of data dimensions of one point (taken from ``x`` when not given).
    floor_variance, floor_method:
        the floor (a VARIANCE) your model applies and how (one of
        :data:`vaetheory.empirical.policies.FLOOR_METHODS`), if you know it.
    audit:
        an :class:`~vaetheory.doctor.audit.Audit` from :func:`audit_decoder` / :func:`audit_loss`; its
        floor, data dimension and loss infimum are used when the arguments above are not given.
    loss_per, loss_includes_constant, loss_infimum:
        what the ``loss`` passed to :meth:`observe` is: the mean over the batch of a per-``"point"``
        loss (summed over dimensions; default) or a mean over all ``"element"``\ s (as
        ``GaussianNLLLoss``'s default ``reduction='mean'``), with or without the
        :math:`\tfrac12\log 2\pi` per dimension (``GaussianNLLLoss(full=False)`` drops it). Or give
        ``loss_infimum``, the smallest value your loss can take, directly.
    dtype:
        the training precision, for the breakdown prediction (``"float32"``, ``"float16"``,
        ``"bfloat16"``, ``"float64"``).
    reference_mse, early_observations, mean_neglect_ratio:
        question 5: the MSE of a fixed-variance fit, or else the best MSE over the first
        ``early_observations`` observations, and the ratio above which the mean counts as neglected.
    window:
        the number of most recent observations the trends are fitted to.
    beta:
        the KL weight, for the linear-VAE collapse criterion.
    warn:
        emit :class:`DoctorWarning` for each new finding (they are kept in :attr:`findings` anyway).

    Three lines in a loop::

        doctor = Doctor(data_dim=784)
        ...  doctor.observe(step, loss=loss, mean=mu, variance=var, x=x, kl_per_dim=kl)
        print(doctor.report().to_text())
    """

    def __init__(
        self,
        *,
        data_dim: int | None = None,
        floor_variance: float | None = None,
        floor_method: str | None = None,
        audit=None,
        loss_per: str = "point",
        loss_includes_constant: bool = True,
        loss_infimum: float | None = None,
        dtype: str = "float32",
        reference_mse: float | None = None,
        early_observations: int = 10,
        mean_neglect_ratio: float = 1.25,
        window: int = 20,
        beta: float = 1.0,
        warn: bool = True,
    ):
        self.data_dim = None if data_dim is None else check_int("data_dim", data_dim, low=1)
        self.floor_variance = (
            None if floor_variance is None else check_positive("floor_variance", floor_variance)
        )
        if floor_method is not None:
            from vaetheory.empirical.policies import check_floor_method

            floor_method = check_floor_method(floor_method)
        self.floor_method = floor_method
        self.audit = audit
        if audit is not None:
            if self.floor_variance is None and audit.floor_variance is not None:
                self.floor_variance = float(audit.floor_variance)
            if self.data_dim is None and audit.data_dim is not None:
                self.data_dim = int(audit.data_dim)
            if loss_infimum is None and audit.loss_infimum is not None:
                loss_infimum = float(audit.loss_infimum)
        self.loss_per = check_choice("loss_per", loss_per, LOSS_PER)
        self.loss_includes_constant = bool(loss_includes_constant)
        self._loss_infimum = None if loss_infimum is None else float(loss_infimum)
        self.dtype = check_choice("dtype", dtype, tuple(LOG_TINY))
        self.reference_mse = None if reference_mse is None else check_positive("reference_mse", reference_mse)
        self.early_observations = check_int("early_observations", early_observations, low=1)
        self.mean_neglect_ratio = check_positive("mean_neglect_ratio", mean_neglect_ratio)
        self.window = check_int("window", window, low=3)
        self.beta = check_positive("beta", beta)
        self.warn = bool(warn)
        self.findings: list[Finding] = []
        self._kinds: set[str] = set()
        self._obs: list[_Obs] = []
        self._levels: set[float] = (
            set()
        )  # distinct data values seen (up to a cap), for the quantisation floor
        self._levels_capped = False
        self._seen = 0
        self._data_var: list[float] = []
        self._bound_per_point: float | None = None  # from a log's own "bound" column

    # -- numbers the answers rest on -------------------------------------------------------------

    def loss_infimum(self) -> float | None:
        """The smallest value the loss can take under the floor (in the loss's units), or None."""
        if self._loss_infimum is not None:
            return self._loss_infimum
        if self.floor_variance is None:
            if self._bound_per_point is not None and self.loss_per == "point":
                return -self._bound_per_point
            return None
        per_dim = 0.5 * math.log(self.floor_variance) + (
            0.5 * LOG_2PI if self.loss_includes_constant else 0.0
        )
        if self.loss_per == "element":
            return per_dim
        if self.data_dim is None:
            return None
        return self.data_dim * per_dim

    def bound_per_point(self) -> float | None:
        r""":math:`-\tfrac d2\log(2\pi\xi)` for the declared floor and ``data_dim``, or None."""
        if self.floor_variance is not None and self.data_dim is not None:
            return variance_floor_bound(self.data_dim, self.floor_variance)
        return self._bound_per_point

    def _floor_value_only(self) -> bool:
        """The declared floor bounds only the value used in the loss (GaussianNLLLoss's eps)."""
        return self.floor_method == "gaussian_nll" or (
            self.audit is not None and self.audit.bounds == "value"
        )

    def _floor_in_effect(self) -> bool:
        """A floor that stops the variance the model produces (not a value-only clamp) above dtype's range."""
        return (
            self.floor_variance is not None
            and not self._floor_value_only()
            and math.log(self.floor_variance) > LOG_TINY[self.dtype]
        )

    # -- observing -------------------------------------------------------------------------------

    def observe(
        self,
        step: int,
        *,
        loss=None,
        mean=None,
        variance=None,
        log_variance=None,
        x=None,
        kl_per_dim=None,
        latent_mean=None,
        point_index=None,
        min_variance=None,
        min_log_variance=None,
        point: int | None = None,
        max_point_loglik=None,
        max_point: int | None = None,
        mse=None,
        bound_per_point=None,
    ) -> list[Finding]:
        """Record one step; returns this step's new findings.

        Tensors or arrays: ``mean``, ``variance`` (or ``log_variance``) and ``x`` are ``[n, ...]`` (rows
        are points; the rest is flattened into the d data dimensions); ``kl_per_dim`` ``[q]`` or
        ``[n, q]`` (nats); ``latent_mean`` ``[n, q]`` encoder means; ``point_index`` ``[n]`` the training
        indices of the rows (default: the row). Logged scalars instead of tensors: ``min_variance`` or
        ``min_log_variance`` with the ``point`` it belongs to, ``max_point_loglik`` with
        ``max_point``, ``mse``, and ``bound_per_point`` (a bound the trainer logged).
        """
        step = check_int("step", step)
        obs = _Obs(step=step)
        found: list[Finding] = []
        index = None if point_index is None else _array(point_index).astype(np.int64).reshape(-1)

        def name(row: int) -> int:
            return int(index[row]) if index is not None and row < index.shape[0] else int(row)

        if bound_per_point is not None and math.isfinite(float(bound_per_point)):
            self._bound_per_point = float(bound_per_point)
        if loss is not None:
            obs.loss = float(_array(loss).reshape(-1).mean())
            if not math.isfinite(obs.loss):
                found.append(
                    self._finding(
                        "nonfinite_loss",
                        step,
                        None,
                        obs.loss,
                        None,
                        f"step {step}: the loss is {obs.loss!r} (see questions 2 and 3)",
                    )
                )
        lv = None
        if log_variance is not None:
            lv = _array(log_variance)
        elif variance is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                lv = np.log(_array(variance))
        if lv is not None:
            lv = lv.reshape(lv.shape[0], -1) if lv.ndim >= 2 else lv.reshape(1, -1)
            if self.data_dim is None and lv.shape[1] > 1:
                self.data_dim = int(lv.shape[1])
            per_point = np.nan_to_num(lv, nan=-np.inf).min(axis=1)
            row = int(np.argmin(per_point))
            obs.min_log_variance, obs.min_point = float(per_point[row]), name(row)
            with np.errstate(over="ignore"):
                obs.mean_variance = float(np.exp(lv).mean())
        elif min_log_variance is not None or min_variance is not None:
            if min_log_variance is not None:
                obs.min_log_variance = float(min_log_variance)
            else:
                v = float(min_variance)
                obs.min_log_variance = math.log(v) if v > 0 else (-math.inf if v == 0 else math.nan)
            obs.min_point = None if point is None else int(point)
        if x is not None:
            xa = _array(x)
            xa = xa.reshape(xa.shape[0], -1)
            if self.data_dim is None:
                self.data_dim = int(xa.shape[1])
            self._note_levels(xa)
            if xa.shape[0] >= 2:
                self._data_var.append(float(xa.var(axis=0).mean()))
            if mean is not None:
                ma = _array(mean).reshape(xa.shape[0], -1)
                se = ((xa - ma) ** 2).mean(axis=1)
                obs.mse = float(se.mean())
                obs.worst_point = name(int(np.argmax(se)))
            if obs.mean_variance is not None and xa.shape[0] >= 2:
                eig = np.linalg.eigvalsh(
                    np.cov(xa, rowvar=False, bias=True).reshape(xa.shape[1], xa.shape[1])
                )
                obs.eigen_active = int(np.sum(eig > self.beta * obs.mean_variance))
        elif mse is not None:
            obs.mse = float(mse)
        if max_point_loglik is not None:
            obs.max_point_loglik = float(max_point_loglik)
            obs.max_point = None if max_point is None else int(max_point)
        if kl_per_dim is not None:
            kl = _array(kl_per_dim)
            kl = kl.reshape(-1, kl.shape[-1]).mean(axis=0) if kl.ndim >= 2 else kl.reshape(-1)
            obs.kl_per_dim = [float(k) for k in kl]
        if latent_mean is not None:
            lm = _array(latent_mean)
            lm = lm.reshape(lm.shape[0], -1)
            if lm.shape[0] >= 2:
                obs.active = int(np.sum(lm.var(axis=0) > ACTIVE_UNIT_THRESHOLD))
        elif obs.kl_per_dim is not None:
            obs.active = int(sum(k > KL_ACTIVE_NATS for k in obs.kl_per_dim))
        self._obs.append(obs)
        found.extend(self._check(obs))
        for f in found:
            if f.kind not in self._kinds:
                self._kinds.add(f.kind)
                self.findings.append(f)
                if self.warn:
                    warnings.warn(f.message, DoctorWarning, stacklevel=2)
        return found

    def _note_levels(self, xa: np.ndarray) -> None:
        if self._levels_capped:
            return
        finite = xa[np.isfinite(xa)]
        self._seen += int(finite.size)
        values = np.unique(finite)
        self._levels.update(values[:5000].tolist())
        if len(self._levels) > 4096:
            self._levels_capped = True
            self._levels.clear()

    def _finding(self, kind, step, point, value, threshold, message) -> Finding:
        return Finding(kind=kind, step=step, point=point, value=value, threshold=threshold, message=message)

    # -- trends ----------------------------------------------------------------------------------

    def _trend(self) -> dict | None:
        pts = [
            (o.step, o.min_log_variance)
            for o in self._obs
            if o.min_log_variance is not None and math.isfinite(o.min_log_variance)
        ]
        if len(pts) < 3:
            return None
        pts = pts[-self.window :]
        steps = np.array([p[0] for p in pts], dtype=np.float64)
        values = np.array([p[1] for p in pts], dtype=np.float64)
        if np.ptp(steps) == 0:
            return None
        slope, _intercept = np.polyfit(steps, values, 1)
        fall = float(values[0] - values[-1])
        return {
            "slope_per_step": float(slope),
            "fall_over_window": fall,
            "from_step": int(steps[0]),
            "to_step": int(steps[-1]),
            "last": float(values[-1]),
        }

    def _breakdown(self, trend) -> int | None:
        if trend is None or not trend["slope_per_step"] < 0 or trend["fall_over_window"] < LEVEL_NATS:
            return None
        if self._floor_in_effect():
            return None
        to_go = LOG_TINY[self.dtype] - trend["last"]
        if to_go >= 0:
            return trend["to_step"]
        return math.ceil(trend["to_step"] + to_go / trend["slope_per_step"])

    def suggested_floor(self) -> tuple[float, str]:
        """A floor on the variance that would stop the fall, and where it comes from."""
        # quantised data: few distinct values, each seen many times (not merely a small continuous sample)
        if not self._levels_capped and 2 <= len(self._levels) <= 256 and self._seen >= 2 * len(self._levels):
            levels = np.array(sorted(self._levels))
            gaps = np.diff(levels)
            delta = float(np.min(gaps))
            # quantised: every gap a whole multiple of the smallest (a grid, as 8-bit pixels), to 1e-6
            on_grid = delta > 0 and bool(np.all(np.abs(gaps / delta - np.round(gaps / delta)) <= 1e-6))
            if on_grid:
                return delta**2 / 12.0, (
                    f"the data take {len(levels)} distinct values with smallest gap Delta = {delta:.4g}: "
                    f"quantisation noise has variance Delta^2/12"
                )
        if self._data_var:
            scale = float(np.median(self._data_var))
            if scale > 0:
                return DEFAULT_FLOOR * scale, (
                    f"{DEFAULT_FLOOR:g} x the data's mean per-dimension variance ({scale:.4g})"
                )
        return (
            DEFAULT_FLOOR,
            f"{DEFAULT_FLOOR:g} (torch.nn.GaussianNLLLoss's default eps scale; no data seen)",
        )

    def _check(self, o: _Obs) -> list[Finding]:
        out: list[Finding] = []
        step = o.step
        inf = self.loss_infimum()
        xi_text = "(logged bound)" if self.floor_variance is None else f"{self.floor_variance:.3g}"
        if o.loss is not None and inf is not None and math.isfinite(o.loss):
            if o.loss < inf - LOSS_RTOL * (1.0 + abs(inf)):
                out.append(
                    self._finding(
                        "loss_below_infimum",
                        step,
                        None,
                        o.loss,
                        inf,
                        f"step {step}: loss {o.loss:.6g} is below {inf:.6g}, the smallest value the "
                        f"floor xi = {xi_text} allows "
                        "(-(d/2) log(2 pi xi) per point): the floor is not in effect, or the loss's scale "
                        "(loss_per, loss_includes_constant) is not what was declared",
                    )
                )
        bound = self.bound_per_point()
        if (
            o.max_point_loglik is not None
            and bound is not None
            and o.max_point_loglik > bound * (1 + 1e-6) + 1e-6
        ):
            out.append(
                self._finding(
                    "point_above_bound",
                    step,
                    o.max_point,
                    o.max_point_loglik,
                    bound,
                    f"step {step}: training point {o.max_point} has log-likelihood "
                    f"{o.max_point_loglik:.6g} above "
                    f"the floor's bound {bound:.6g} nats per point: the floor is not in effect",
                )
            )
        if o.min_log_variance is not None:
            if not math.isfinite(o.min_log_variance):
                out.append(
                    self._finding(
                        "nonfinite_variance",
                        step,
                        o.min_point,
                        o.min_log_variance,
                        None,
                        f"step {step}: the decoder variance of point {o.min_point} is "
                        f"{'0' if o.min_log_variance == -math.inf else 'not finite'} (log "
                        f"{o.min_log_variance})",
                    )
                )
            elif self.floor_variance is not None and o.min_log_variance < math.log(
                self.floor_variance
            ) + math.log1p(-FLOOR_RTOL32):
                out.append(
                    self._finding(
                        "variance_below_floor",
                        step,
                        o.min_point,
                        math.exp(o.min_log_variance),
                        self.floor_variance,
                        f"step {step}: decoder variance {math.exp(o.min_log_variance):.4g} of point "
                        f"{o.min_point} is "
                        f"below the declared floor {self.floor_variance:.4g}",
                    )
                )
            trend = self._trend()
            when = self._breakdown(trend)
            if when is not None:
                xi, _ = self.suggested_floor()
                out.append(
                    self._finding(
                        "variance_falling",
                        step,
                        o.min_point,
                        trend["slope_per_step"],
                        LOG_TINY[self.dtype],
                        f"step {step}: the smallest log-variance (point {o.min_point}) falls "
                        f"{-trend['slope_per_step']:.3g} per step (now {trend['last']:.4g}); at that "
                        f"rate it reaches "
                        f"{self.dtype}'s smallest normal number (log {LOG_TINY[self.dtype]:.4g}) at "
                        f"step {when}. "
                        f"A floor xi = {xi:.3g} would stop it"
                        + (
                            f" (bound {variance_floor_bound(self.data_dim, xi):.6g} nats per point)"
                            if self.data_dim
                            else ""
                        ),
                    )
                )
        if o.mse is not None:
            ref, _ = self._mse_reference()
            recent = [p.mse for p in self._obs[-self.window :] if p.mse is not None]
            # the recent window must not overlap the early observations the reference comes from (early
            # training has a high MSE that would inflate the recent mean)
            enough = len(self._mse_series()) >= self.early_observations + self.window
            if self.reference_mse is not None:
                enough = len(self._mse_series()) >= min(self.window, self.early_observations)
            if ref is not None and enough and recent:
                current = float(np.mean(recent))
                if current > self.mean_neglect_ratio * ref:
                    out.append(
                        self._finding(
                            "mean_neglect",
                            step,
                            o.worst_point,
                            current,
                            ref,
                            f"step {step}: the mean's squared error {current:.4g} is "
                            f"{current / ref:.3g} x its "
                            f"reference {ref:.4g}; worst point {o.worst_point}: the learned variance "
                            f"lets the mean "
                            "fit get worse (try beta-NLL, beta = 0.5, or a faithful fit)",
                        )
                    )
        # not in the first early_observations: a freshly initialised encoder sits on the prior (KL ~ 0)
        late = len(self._obs) > self.early_observations
        if late and o.kl_per_dim is not None and o.kl_per_dim and max(o.kl_per_dim) < KL_ACTIVE_NATS:
            out.append(
                self._finding(
                    "posterior_collapse",
                    step,
                    None,
                    max(o.kl_per_dim),
                    KL_ACTIVE_NATS,
                    f"step {step}: every latent dimension has KL < {KL_ACTIVE_NATS} nats (largest "
                    f"{max(o.kl_per_dim):.3g}): the posterior has collapsed",
                )
            )
        return out

    def _mse_series(self) -> list[tuple[int, float]]:
        return [(o.step, o.mse) for o in self._obs if o.mse is not None and math.isfinite(o.mse)]

    def _mse_reference(self) -> tuple[float | None, str]:
        if self.reference_mse is not None:
            return self.reference_mse, "the fixed-variance reference you gave"
        series = self._mse_series()[: self.early_observations]
        if len(series) < self.early_observations:
            return None, f"fewer than {self.early_observations} MSE observations"
        best = min(series, key=lambda p: p[1])
        return best[
            1
        ], f"the run's best over its first {self.early_observations} observations (step {best[0]})"

    # -- the report ------------------------------------------------------------------------------

    def report(self) -> DoctorReport:
        """The six answers with their numbers (``.to_text()``, ``.to_dict()``, ``.to_json()``)."""
        from vaetheory.provenance import provenance

        answers: dict[str, str] = {}
        numbers: dict[str, Any] = {
            "observations": len(self._obs),
            "data_dim": self.data_dim,
            "floor_variance": self.floor_variance,
            "dtype": self.dtype,
        }
        losses = [(o.step, o.loss) for o in self._obs if o.loss is not None]
        inf = self.loss_infimum()
        bound = self.bound_per_point()
        numbers["loss_infimum"] = inf
        numbers["bound_per_point"] = bound
        trend = self._trend()
        # 1
        if not losses:
            answers["1"] = "no loss observed."
        else:
            low_step, low = min(losses, key=lambda p: p[1])
            last_step, last = losses[-1]
            numbers.update(
                loss_last=last, loss_last_step=last_step, loss_lowest=low, loss_lowest_step=low_step
            )
            tail = losses[-self.window :]
            slope = (
                float(np.polyfit([p[0] for p in tail], [p[1] for p in tail], 1)[0])
                if len(tail) >= 3 and len({p[0] for p in tail}) > 1
                else None
            )
            numbers["loss_slope_per_step"] = slope
            text = f"loss {last:.6g} at step {last_step} (lowest {low:.6g} at step {low_step})"
            if slope is not None:
                text += f"; trend {slope:.3g} per step over the last {len(tail)} observations"
            if inf is not None:
                margin = last - inf
                numbers["loss_margin"] = margin
                if self.floor_variance is not None:
                    why = (
                        f"With the floor xi = {self.floor_variance} the loss cannot go below {inf:.6g} "
                        "(-(d/2) log(2 pi xi) per point, theory section 2)"
                    )
                elif self._loss_infimum is not None:
                    why = f"The loss cannot go below {inf:.6g} (the smallest value its audit measured)"
                else:
                    why = (
                        f"With the logged bound the loss cannot go below {inf:.6g} "
                        "(-(d/2) log(2 pi xi) per point, theory section 2)"
                    )
                text += f".\n{why}: a negative loss is normal down to there; you are {margin:.4g} above it."
                if low < inf - LOSS_RTOL * (1.0 + abs(inf)):
                    text += f" Your lowest loss is BELOW it by {inf - low:.4g}: the floor is not in effect."
            else:
                text += (
                    ".\nNo floor is declared: a Gaussian NLL with a learned variance has no lower bound. A "
                    "negative loss is normal (it is a density); one that keeps falling is the variance "
                    "shrinking (question 2), not convergence: judge convergence by the mean's error "
                    "(question 5)."
                )
            answers["1"] = text
        # 2
        numbers["min_log_variance_trend"] = trend
        when = self._breakdown(trend)
        numbers["breakdown_step"] = when
        lvs = [o for o in self._obs if o.min_log_variance is not None]
        if not lvs:
            answers["2"] = (
                "no variance observed (pass variance= or log_variance=, or min_variance= from a log)."
            )
        else:
            lastv = lvs[-1]
            text = (
                f"smallest log-variance {lastv.min_log_variance:.4g} (variance "
                f"{math.exp(lastv.min_log_variance):.3g})"
                f" at step {lastv.step}, point {lastv.min_point}"
            )
            if trend is not None:
                text += (
                    f"; slope {trend['slope_per_step']:.3g} per step over steps {trend['from_step']}-"
                    f"{trend['to_step']} (fell {trend['fall_over_window']:.3g})"
                )
                if trend["fall_over_window"] < LEVEL_NATS:
                    text += f": not falling (fell less than {LEVEL_NATS} over the window)."
                elif self._floor_in_effect():
                    text += f": falling, but the floor {self.floor_variance:.3g} stops it."
                else:
                    text += ": FALLING with no floor under it."
            answers["2"] = text
        # 3
        xi, source = self.suggested_floor()
        numbers["suggested_floor"] = xi
        if when is not None:
            text = (
                f"at the present rate the smallest log-variance reaches {self.dtype}'s smallest normal "
                f"number "
                f"(log {LOG_TINY[self.dtype]:.4g}) at step {when}; after that exp underflows and the loss "
                "or its gradient becomes non-finite."
            )
        elif self._floor_in_effect():
            text = (
                f"no: the floor xi = {self.floor_variance:.3g} keeps the variance above "
                f"{self.dtype}'s range limit."
            )
        else:
            text = "no breakdown predicted from the observed trend."
        if not self._floor_in_effect():
            from vaetheory.empirical.policies import floor_report

            rep = floor_report("softplus", xi, self.data_dim or 1)
            numbers["suggested_floor_bound_per_point"] = rep.bound_per_point if self.data_dim else None
            text += (
                f"\nA floor that stops it: xi = {xi:.3g} ({source}), e.g. variance = softplus(raw) + xi "
                f"(bounds value and gradient): bound {rep.bound_per_dimension:.4g} nats per dimension"
                + (f", {rep.bound_per_point:.6g} per point (d = {self.data_dim})." if self.data_dim else ".")
            )
        answers["3"] = text
        # 4
        if self.audit is not None:
            answers["4"] = self.audit.sentence
            numbers["audit"] = {
                "mechanism": self.audit.mechanism,
                "bounded": self.audit.bounded,
                "bounds": self.audit.bounds,
                "floor_variance": self.audit.floor_variance,
            }
        elif self.floor_variance is not None and self.floor_method is not None:
            from vaetheory.empirical.policies import floor_report

            answers["4"] = floor_report(self.floor_method, self.floor_variance, self.data_dim or 1).summary()
        elif self.floor_variance is not None:
            answers["4"] = (
                f"a floor xi = {self.floor_variance:.4g} on the variance bounds log p(x) by "
                f"{variance_floor_bound(1, self.floor_variance):.6g} nats per dimension"
                + (f", {bound:.6g} per point." if bound is not None else ".")
            )
        else:
            answers["4"] = (
                "nothing declared: pass audit=audit_decoder(decoder, z, data_dim=d) (or audit_loss) to "
                "find out what your eps, clamp, softplus or log-variance parameter bounds."
            )
        # 5
        ref, ref_source = self._mse_reference()
        series = self._mse_series()
        numbers["mse_reference"] = ref
        if not series:
            answers["5"] = "no mean observed (pass mean= and x=, or mse= from a log)."
        else:
            recent = [p[1] for p in series[-self.window :]]
            current = float(np.mean(recent))
            numbers["mse_recent"] = current
            text = f"mean squared error {current:.4g} (mean of the last {len(recent)} observations)"
            if ref is not None:
                ratio = current / ref
                numbers["mse_ratio"] = ratio
                text += f" against {ref:.4g} ({ref_source}): ratio {ratio:.3g}"
                if ratio > self.mean_neglect_ratio:
                    text += (
                        f" > {self.mean_neglect_ratio}: MEAN NEGLECT. A learned variance down-weights the "
                        "points it is unsure of, so the mean fits them worse. Remedies proposed for it: "
                        "beta-NLL (Seitzer et al. 2022; weight each point's NLL by stopgrad(var)^beta, "
                        "beta = "
                        "0.5) or a faithful fit (Stirn et al. 2023; mean trained as with unit variance)."
                    )
                else:
                    text += f" <= {self.mean_neglect_ratio}: no sign of mean neglect."
            else:
                text += f"; no reference yet ({ref_source})."
            answers["5"] = text
        # 6
        kls = [o for o in self._obs if o.kl_per_dim is not None]
        if not kls:
            answers["6"] = "no KL observed (pass kl_per_dim=, and latent_mean= for active units)."
        else:
            o = kls[-1]
            numbers["kl_per_dim"] = o.kl_per_dim
            numbers["active_units"] = o.active
            q = len(o.kl_per_dim)
            text = (
                f"KL per latent dimension at step {o.step}: "
                + ", ".join(f"{k:.3g}" for k in o.kl_per_dim)
                + f" nats; active units {o.active} of {q}"
            )
            e = next((p for p in reversed(self._obs) if p.eigen_active is not None), None)
            if e is not None:
                numbers["linear_vae_max_active"] = min(q, e.eigen_active)
                numbers["mean_decoder_variance"] = e.mean_variance
                cap = min(q, e.eigen_active)
                text += (
                    f".\nLinear-VAE criterion (theory section 3): with mean decoder variance "
                    f"{e.mean_variance:.3g} and beta = {self.beta:g}, {e.eigen_active} data eigenvalues "
                    f"exceed "
                    f"beta sigma^2, so at most {cap} of {q} directions can stay active"
                )
                if o.active is not None and o.active < q:
                    text += (
                        ": the learned variance explains the collapse."
                        if o.active >= cap
                        else ": fewer are active than the variance allows, so the variance does not "
                        "explain it "
                        "(look at the encoder, the KL weight or the optimiser)."
                    )
                else:
                    text += "."
            answers["6"] = text
        # the observed series, for the figure (vaetheory.figures.doctor): one entry per observation
        numbers["log_tiny"] = LOG_TINY[self.dtype]
        numbers["series"] = {
            "step": [o.step for o in self._obs],
            "loss": [o.loss for o in self._obs],
            "min_log_variance": [o.min_log_variance for o in self._obs],
            "mse": [o.mse for o in self._obs],
        }
        numbers["provenance"] = provenance(parameters={"dtype": self.dtype, "window": self.window})
        return DoctorReport(answers=answers, numbers=to_jsonable(numbers), findings=tuple(self.findings))


__all__ = ["LOG_TINY", "Doctor", "DoctorReport", "DoctorWarning", "Finding"]
