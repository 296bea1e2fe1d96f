"""``vaetheory train --variance POLICY ... --out DIR [--resume]``: train a VAE, record the blow-up."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    from vaetheory.cli._common import int_list

    parser = subparsers.add_parser(
        "train",
        help="train a VAE with a named decoder-variance policy; log, checkpoint, resume, plot",
        description=(
            "Train a VAE (MLP encoder/decoder) on scikit-learn's digits scaled to [0, 1] (binarised for "
            "--likelihood bernoulli) with a named decoder-variance policy, logging per step the ELBO, the "
            "largest per-point log-likelihood estimate, the smallest decoder variance and its training "
            "point (DIR/log.jsonl), checkpoints (DIR/checkpoint.pt, loaded with weights_only=True) and the "
            "run's figure (DIR/training.pdf/png/json). A floor xi bounds log p(x) by -(d/2) log(2 pi xi) "
            "per point (theory section 2); the run checks its peak one-sample per-point ELBO against it "
            "at every step and prints the verdict. DIR is locked for the run; a DIR holding a run needs "
            "--resume or --overwrite. Exit status 1 if the run broke down numerically or exceeded its bound."
        ),
    )
    parser.add_argument(
        "--variance",
        "--policy",
        default="learned",
        metavar="POLICY",
        help="the decoder-variance policy: learned (default), floor, fixed, shared, calibrated "
        "(--policy is the same option under the name that says what it takes)",
    )
    parser.add_argument(
        "--floor", type=float, default=None, metavar="XI", help="floor on the decoder VARIANCE"
    )
    parser.add_argument(
        "--floor-std", type=float, default=None, metavar="S", help="floor on the decoder STD (xi = S^2)"
    )
    parser.add_argument(
        "--floor-method",
        default=None,
        metavar="M",
        help=(
            "how the floor is applied (--variance floor only): clamp (default), softclip (sigma-VAE), "
            "softplus, gaussian_nll (value-only clamp)"
        ),
    )
    parser.add_argument(
        "--sigma", type=float, default=None, metavar="S", help="fixed decoder STD (policy fixed)"
    )
    parser.add_argument("--beta", type=float, default=1.0, metavar="B", help="KL weight (default 1)")
    parser.add_argument(
        "--likelihood", default="gaussian", metavar="L", help="gaussian (default) or bernoulli"
    )
    parser.add_argument(
        "--data",
        default="digits",
        metavar="DATA",
        help="digits (default; scikit-learn's 8x8 digits DIVIDED BY 16, pixels in [0, 1], unlike "
        "`vaetheory linear --data digits`, which uses the raw 0..16 pixels) or a .npy/.csv file (as given)",
    )
    parser.add_argument("--points", type=int, default=None, metavar="N", help="use only the first N points")
    parser.add_argument("--latent", type=int, default=2, metavar="Q", help="latent size (default 2)")
    parser.add_argument(
        "--hidden", type=int_list, default=[128], metavar="W,...", help="hidden widths (default 128)"
    )
    parser.add_argument("--steps", type=int, default=1000, metavar="N", help="training steps (default 1000)")
    parser.add_argument(
        "--batch-size", type=int, default=128, metavar="B", help="minibatch size (default 128)"
    )
    parser.add_argument(
        "--lr", type=float, default=1e-3, metavar="LR", help="Adam learning rate (default 1e-3)"
    )
    parser.add_argument(
        "--log-every", type=int, default=10, metavar="N", help="log every N steps (default 10)"
    )
    parser.add_argument(
        "--checkpoint-every",
        type=int,
        default=100,
        metavar="N",
        help="checkpoint every N steps (default 100)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, metavar="S", help="random seed in [0, 2**63 - 1] (default 0)"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in DIR from DIR/checkpoint.pt (same options; --steps >= its step)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run DIR holds (without --resume or --overwrite such a DIR is refused)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--device",
        default="cpu",
        metavar="D",
        help=(
            "where to train: cpu (default) or cuda (cuda:N), where torch.cuda.is_available(); the "
            "checkpoints hold CPU tensors, so a run resumes on either"
        ),
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help=(
            "torch CPU threads, 1 to the number of CPUs (default: torch's choice; 1 is fastest for small "
            "networks on shared cores)"
        ),
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    import torch

    from vaetheory._validation import check_int
    from vaetheory.densities import std_floor_to_variance
    from vaetheory.empirical.policies import POLICY_REGISTRY, policy_class
    from vaetheory.empirical.training import TrainConfig, check_device, open_training_dir, train

    device = check_device(args.device, name="--device")  # before anything is opened or written
    if args.threads is not None:
        torch.set_num_threads(check_int("--threads", args.threads, low=1, high=os.cpu_count() or 1))
    if args.floor is not None and args.floor_std is not None:
        raise ValueError("give --floor (a variance) or --floor-std (a std), not both")
    floor = args.floor
    if args.floor_std is not None:
        floor = std_floor_to_variance(args.floor_std)
    variance = args.variance
    policy = policy_class(variance)  # what the registered policy reads decides which options apply
    floored = sorted(n for n, c in POLICY_REGISTRY.items() if "floor_variance" in c.uses)
    if floor is not None and "floor_variance" not in policy.uses:
        raise ValueError(
            f"--floor/--floor-std need --variance floor (or another policy with a floor xi: "
            f"{', '.join(floored)}); got --variance {variance}"
        )
    if args.floor_method is not None and not policy.floored:
        raise ValueError(
            f"--floor-method applies only to --variance floor (with --floor or --floor-std); got --variance "
            f"{variance}"
        )
    if args.likelihood == "bernoulli" and variance != "learned":
        raise ValueError(
            f"--variance applies to --likelihood gaussian only (a Bernoulli decoder has no variance); got "
            f"--variance {variance}"
        )
    config = TrainConfig(
        variance=variance,
        floor_variance=floor,
        floor_method=args.floor_method or "clamp",
        sigma=args.sigma,
        beta=args.beta,
        likelihood=args.likelihood,
        data=args.data,
        latent=args.latent,
        hidden=tuple(args.hidden),
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        log_every=args.log_every,
        checkpoint_every=args.checkpoint_every,
        n_points=args.points,
    )
    from vaetheory.figures.empirical import run_label, run_series, training_figure

    figure_files = ("training.pdf", "training.png", "training.json")
    # the directory stays locked until the figure is written too
    with open_training_dir(
        args.out, resume=args.resume, overwrite=args.overwrite, extra_files=figure_files
    ) as run_dir:
        result = train(config, out_dir=run_dir, progress=not args.no_progress, device=device)
        written = training_figure(
            Path(args.out) / "training",
            [run_series(result, run_label(config))],
            result.provenance,
            title=f"{run_label(config)}: {config.data}, latent {config.latent}, seed {config.seed}",
        )
    last = result.history[-1] if result.history else None
    on = "" if device.type == "cpu" else f" on {device}"
    print(f"vaetheory train: {run_label(config, math=False)} on {config.data}, {result.steps_done} steps{on}")
    if result.generator_reseeded_at is not None:
        print(
            f"  resumed on another device type at step {result.generator_reseeded_at}: the generator was "
            "reseeded from (seed, step), so later minibatches and noise differ from an uninterrupted run's"
        )
    if last is not None:
        print(f"  last logged step {last['step']}: ELBO {last['elbo']:.6g} nats/point (batch mean)")
        print(
            f"  largest per-point log-lik. estimate {last['max_point_loglik']:.6g} (training point "
            f"{last['argmax_point']})"
        )
        if last["min_variance"] is not None:
            print(
                f"  smallest decoder variance {last['min_variance']:.3g} "
                f"(training point {last['argmin_point']})"
            )
    check = result.bound_check
    if check is not None and check.peak is not None:
        print(
            f"  largest over the run: {check.peak:.6g} at step {check.step} (training point {check.point}; "
            "one-sample per-point ELBO, every step)"
        )
    if result.bound is not None:
        print(f"  bound per point: {result.bound:.6g} nats (-(d/2) log(2 pi xi); 0 for Bernoulli)")
    if check is not None:
        print(f"  {check.verdict()}")
    if result.stopped_reason is not None:
        print(f"  STOPPED: {result.stopped_reason}")
    print(
        f"  wrote {Path(args.out) / 'log.jsonl'}, checkpoint.pt, config.json, summary.json, "
        + ", ".join(p.name for p in written)
    )
    if check is not None and check.held is False:
        return 1
    return 1 if result.stopped_reason is not None else 0
