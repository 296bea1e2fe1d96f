"""Devices (issue 17, GPU part), on the CPU: cpu explicit equals the default, cuda refused where it
cannot run, the hot path reads nothing back but one boolean and converts nothing, cross-device resume.
"""

from __future__ import annotations

import inspect
import json
import re
import textwrap

import numpy as np
import pytest
import torch
import yaml
from torch.utils._python_dispatch import TorchDispatchMode

from vaetheory.cli import main
from vaetheory.empirical import sweep as sweep_module
from vaetheory.empirical import training
from vaetheory.empirical.model import VAEConfig
from vaetheory.empirical.sweep import SweepRun, train_sequential, train_sweep
from vaetheory.empirical.training import TrainConfig, check_device, read_log, resume_seed, train

pytestmark = pytest.mark.usefixtures("one_torch_thread")

DATA = np.random.default_rng(0).uniform(size=(40, 6))


def _config(**kw) -> TrainConfig:
    base = {"variance": "floor", "floor_variance": 0.01, "latent": 2, "hidden": (8,), "steps": 30}
    return TrainConfig(**{**base, "batch_size": 16, "log_every": 5, "checkpoint_every": 10, **kw})


def _no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


# -- the same numbers on an explicit cpu ---------------------------------------------------------
@pytest.mark.parametrize("device", ["cpu", torch.device("cpu"), " cpu"])
def test_explicit_cpu_is_bit_identical_to_the_default(device):
    default = train(_config(), data=DATA, progress=False)
    explicit = train(_config(), data=DATA, progress=False, device=device)
    assert explicit.history == default.history  # exact float equality: the same operations
    assert explicit.bound_check == default.bound_check
    assert explicit.device == default.device == "cpu"
    assert explicit.generator_reseeded_at is None
    for (name, p), q in zip(default.model.state_dict().items(), explicit.model.state_dict().values()):
        assert torch.equal(p, q), name


def test_sweep_on_explicit_cpu_is_bit_identical_to_the_default():
    config = VAEConfig(data_dim=6, latent_dim=2, hidden=(8,), variance="floor", floor_variance=0.01)
    runs = [SweepRun(config, seed=s) for s in (0, 1)]
    for fn in (train_sweep, train_sequential):
        a = fn(runs, DATA, steps=6, batch_size=8)
        b = fn(runs, DATA, steps=6, batch_size=8, device="cpu")
        assert np.array_equal(a.neg_elbo, b.neg_elbo)
        for sa, sb in zip(a.state_dicts, b.state_dicts):
            assert all(torch.equal(sa[k], sb[k]) and sb[k].device.type == "cpu" for k in sa)


# -- refusals ------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["meta", "mps", "gpu", "", "cuda:x", 3, None])
def test_unknown_and_meta_devices_are_refused_naming_the_argument(bad):
    with pytest.raises(ValueError, match=r"--device must be cpu or cuda"):
        check_device(bad, name="--device")
    with pytest.raises(ValueError, match=r"^device must be cpu or cuda"):
        train(_config(), data=DATA, progress=False, device=bad)


def test_cuda_is_refused_without_cuda(monkeypatch):
    _no_cuda(monkeypatch)
    for device in ("cuda", "cuda:0", torch.device("cuda")):
        with pytest.raises(ValueError, match=r"torch.cuda.is_available\(\) is False.*accepted here: cpu"):
            train(_config(), data=DATA, progress=False, device=device)
    config = VAEConfig(data_dim=6, latent_dim=2, hidden=(8,))
    with pytest.raises(ValueError, match=r"^device cuda: no CUDA device"):
        train_sweep([SweepRun(config, seed=0)], DATA, steps=2, device="cuda")


def test_a_cuda_index_past_the_devices_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(
        ValueError, match=r"--device cuda:1: this machine has 1 CUDA device\(s\), cuda:0..cuda:0"
    ):
        check_device("cuda:1", name="--device")
    assert check_device("cuda", name="--device") == torch.device("cuda")  # parsed; nothing allocated


def test_train_cli_refuses_cuda_with_exit_2_before_writing(monkeypatch, tmp_path, capsys):
    _no_cuda(monkeypatch)
    out = tmp_path / "run"
    code = main(["train", "--steps", "2", "--points", "20", "--out", str(out), "--device", "cuda"])
    err = capsys.readouterr().err
    assert code == 2
    assert "vaetheory train: error: --device cuda: no CUDA device is available" in err
    assert "Traceback" not in err
    assert not out.exists()  # refused before the run directory was created
    assert main(["train", "--steps", "2", "--out", str(out), "--device", "meta"]) == 2
    assert "--device must be cpu or cuda" in capsys.readouterr().err


def test_sweep_cli_refuses_cuda_with_exit_2(monkeypatch, tmp_path, capsys):
    _no_cuda(monkeypatch)
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        yaml.safe_dump({"base": {"variance": "floor", "steps": 2, "points": 20}, "grid": {"floor": [0.1]}})
    )
    code = main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--device", "cuda"])
    assert code == 2
    assert "--device cuda: no CUDA device is available" in capsys.readouterr().err


def test_train_cli_on_explicit_cpu(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--variance", "floor", "--floor", "0.01", "--steps", "10", "--points", "30"]
    args += ["--hidden", "8", "--log-every", "5", "--no-progress", "--out"]
    assert main([*args, str(out), "--device", "cpu"]) == 0
    assert main([*args, str(tmp_path / "default")]) == 0
    assert read_log(out) == read_log(tmp_path / "default")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["device"] == "cpu" and summary["generator_reseeded_at"] is None


# -- the hot path --------------------------------------------------------------------------------
class _Recorder(TorchDispatchMode):
    """Every aten op run inside: read-backs (``_local_scalar_dense``: ``.item()``, ``float()``,
    ``bool()``, ``int()`` of a tensor) with their argument, and float64 results."""

    def __init__(self):
        super().__init__()
        self.read_backs: list[torch.Tensor] = []
        self.float64: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func is torch.ops.aten._local_scalar_dense.default:
            self.read_backs.append(args[0])
        for t in out if isinstance(out, (tuple, list)) else [out]:
            if isinstance(t, torch.Tensor) and t.dtype == torch.float64:
                self.float64.append(str(func))
        return out


POLICIES = [
    {"variance": "floor", "floor_variance": 0.01, "floor_method": method}
    for method in ("clamp", "softclip", "softplus", "gaussian_nll")
] + [
    {"variance": "learned", "floor_variance": None},
    {"variance": "fixed", "floor_variance": None, "sigma": 0.5},
    {"variance": "shared", "floor_variance": None},
    {"variance": "calibrated", "floor_variance": None},
]


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p["variance"] + "-" + p.get("floor_method", ""))
def test_an_unlogged_step_reads_back_one_boolean_and_makes_no_float64(monkeypatch, policy):
    """Run the real loop, recording every op of each unlogged step (train_step and the peak update).

    Adam (foreach, not capturable) reads its step counters with .item(); they are CPU tensors on
    every device (torch keeps them on the host), so they are no device sync and are left out by
    identity. Everything else read back is a sync on a GPU: exactly one boolean may remain.
    """
    recorded = []
    step_fn, update_fn = training.train_step, training._Peak.update

    def recording_step(t, step, *, log):
        if log:
            return step_fn(t, step, log=log)
        recorder = _Recorder()
        with recorder:
            result = step_fn(t, step, log=log)
        recorded.append((recorder, t.optimizer))
        return result

    def recording_update(self, step, point_elbo, index):
        recorder = _Recorder()
        with recorder:
            update_fn(self, step, point_elbo, index)
        recorded.append((recorder, None))

    monkeypatch.setattr(training, "train_step", recording_step)
    monkeypatch.setattr(training._Peak, "update", recording_update)
    result = train(_config(steps=12, log_every=6, **policy), data=DATA, progress=False)
    assert result.stopped_reason is None and result.bound_check.held is not False  # a real run
    steps = [(r, opt) for r, opt in recorded if opt is not None]
    updates = [r for r, opt in recorded if opt is None]
    assert len(steps) == 10 and len(updates) == 12  # 12 steps, 2 of them logged
    for recorder, optimizer in steps:
        counters = [s["step"] for s in optimizer.state.values()]
        assert all(c.device.type == "cpu" for c in counters)
        device_reads = [a for a in recorder.read_backs if not any(a is c for c in counters)]
        assert [a.dtype for a in device_reads] == [torch.bool]
        assert recorder.float64 == []
    for recorder in updates:
        assert recorder.read_backs == [] and recorder.float64 == []


_HOST_CONVERSIONS = re.compile(r"\.cpu\(|\.numpy\(|\.double\(|float64|\.item\(|\.tolist\(|\.to\(\"cpu\"|np\.")


def _source(fn) -> str:
    return textwrap.dedent(inspect.getsource(fn))


def test_the_step_functions_have_no_host_conversion_in_their_source():
    """Statically: nothing in the per-step code moves to the host or to float64 (also unexecuted branches)."""
    for fn in (training.train_step, training._Peak.update, training._loop, sweep_module._draw):
        assert _HOST_CONVERSIONS.findall(_source(fn)) == [], fn.__qualname__
    # the sweep's loop: everything before the final read-back of the losses
    loop = _source(sweep_module._adam_loop)
    body = loop[loop.index("for _ in range(steps):") : loop.index("return torch.stack(losses)")]
    assert _HOST_CONVERSIONS.findall(body) == []
    # and the final read-back is the one there is: once, after the loop
    assert loop.count(".cpu()") == 1
    sweep_source = _source(train_sweep)
    step_losses = sweep_source[sweep_source.index("def step_losses") : sweep_source.index("bar = ")]
    assert _HOST_CONVERSIONS.findall(step_losses) == []
    # the step must also draw on the generator's device (a CPU draw would be copied to the GPU)
    assert "device=t.X.device" in _source(training.train_step)
    assert _source(sweep_module._draw).count("device=gen.device") == 2


def test_the_pattern_catches_what_it_looks_for():
    """The static test can fail: each conversion it forbids is found in a line that has it."""
    for line in ("x.cpu()", "x.numpy()", "g.double()", "torch.float64", "loss.item()", "v.tolist()"):
        assert _HOST_CONVERSIONS.search(line), line


# -- checkpoints and resume across devices -------------------------------------------------------
def test_checkpoints_hold_cpu_tensors_and_record_the_generator_device(tmp_path):
    train(_config(), data=DATA, out_dir=tmp_path, progress=False)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert state["generator_device"] == "cpu"

    def tensors(tree):
        if isinstance(tree, torch.Tensor):
            yield tree
        elif isinstance(tree, dict):
            for v in tree.values():
                yield from tensors(v)

    assert all(t.device.type == "cpu" for t in tensors(state))


def test_a_checkpoint_from_another_device_type_resumes_with_the_generator_reseeded(tmp_path):
    """A GPU run's checkpoint, made here by relabelling a CPU one as a CUDA generator's (its state
    is 16 bytes, seed and offset: it cannot be set on a CPU generator). The run resumes on the CPU
    with the same model and Adam state, the generator reseeded from (seed, step), and says so."""
    straight = train(_config(), data=DATA, out_dir=tmp_path / "straight", progress=False)
    for name in ("a", "b"):
        train(_config(steps=10), data=DATA, out_dir=tmp_path / name, progress=False)
        path = tmp_path / name / "checkpoint.pt"
        state = torch.load(path, weights_only=True)
        state["generator_device"] = "cuda"
        state["generator"] = torch.zeros(16, dtype=torch.uint8)
        torch.save(state, path)
    a = train(_config(), data=DATA, out_dir=tmp_path / "a", resume=True, progress=False)
    b = train(_config(), data=DATA, out_dir=tmp_path / "b", resume=True, progress=False)
    assert a.generator_reseeded_at == 10 and straight.generator_reseeded_at is None
    assert a.history == b.history  # the reseeding is deterministic
    assert a.history[:2] == straight.history[:2]  # steps 5 and 10: before the resume, as run
    assert a.history[2:] != straight.history[2:]  # other minibatches and noise after it
    assert [e["step"] for e in a.history] == [e["step"] for e in straight.history]
    assert [list(e) for e in a.history] == [list(e) for e in straight.history]
    summaries = [json.loads((tmp_path / n / "summary.json").read_text()) for n in ("a", "straight")]
    assert list(summaries[0]) == list(summaries[1])  # the same keys, in order
    assert summaries[0]["generator_reseeded_at"] == 10
    assert a.bound_check.held is True


def test_resume_seed_depends_on_seed_and_step_and_fits_a_generator():
    seeds = {resume_seed(s, k) for s in (0, 1, 2**63 - 1) for k in (1, 10, 10**9)}
    assert len(seeds) == 9
    assert all(0 <= s < 2**63 for s in seeds)
    torch.Generator().manual_seed(max(seeds))


def test_reproduce_cli_refuses_cuda_with_exit_2_before_writing(monkeypatch, tmp_path, capsys):
    _no_cuda(monkeypatch)
    out = tmp_path / "study"
    assert main(["reproduce", "thesis-ch5", "--quick", "--out", str(out), "--device", "cuda"]) == 2
    assert "vaetheory reproduce: error: --device cuda: no CUDA device is available" in capsys.readouterr().err
    assert not out.exists()
    from vaetheory.studies.thesis_ch5 import reproduce_thesis_chapter

    with pytest.raises(ValueError, match=r"^device must be cpu or cuda"):
        reproduce_thesis_chapter(out, device="meta")
    assert not out.exists()
