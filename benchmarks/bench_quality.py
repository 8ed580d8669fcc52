"""Sample quality before and after training: FVD, KID and frame FD, with a real-vs-real floor.

For each data set (the `make demo` synthetic videos, and `../shared/data/real-clips`
when it is present) this trains the `make demo` configuration (`train --preset quick`,
keras_vidgan/presets.py) and compares N generated clips of T frames with N real clips
(`VideoFolder.sample_clips`) of videos the run did not train on where the data allows: for
the demo data (64 videos of seed 0, as `make-demo-data`), 64 fresh demo videos of another
seed; for the real clips (21 videos, too few to hold some out), the training videos.

- untrained: the models as initialised (step 0, the run's seed);
- trained: after the demo's training budget;
- real vs real: the demo's training videos against the held-out ones; for the real clips,
  clips of one half of the videos against clips of the other half
  (`VideoFolder.split_videos`, no video shared): how close two samples of the footage itself
  are at this N, the floor a generator can reach.

Calibration rows (what the metric responds to on this data, same N, T and size):
the real clips with their frames shuffled in time; the real clips' first frames held
still; the trained model's own first frames held still; the trained model's rollouts
from the real clips' first frames (image-to-video); with a moving average of G's
weights (`--g-ema`), the same noise through the live G instead.

Target: the trained model's FVD at most half the untrained one's.

Realism columns of every row (`keras_vidgan.metrics.realism_report`, no calibration of
its own: the calibration rows are it): C2ST, the held-out accuracy of a small clip
classifier told to separate the row's clips from the real ones (0.5 indistinguishable,
1.0 told apart; for real vs real, one half from the other; the shuffled and held rows
keep each clip and its altered copy in one fold); motion, the row's mean absolute
frame-to-frame change over the real clips'; drift, the frame Fréchet distance of frame
t = 15 (the last t < T of 1, 4, 8, 15) over that of frame t = 1, both against all real frames.
`--no-realism` leaves these columns out (FVD, KID and frame FD only).

FVD, KID and frame FD are biased at small N (Fréchet distances upwards): the
numbers here are for comparing rows of this table with each other, computed with
the same N, T and frame size, not with published FVDs (256 to 2048 clips, usually
at 64x64 or more). Costs on a 2-core CPU: I3D runs about 32 clips of 16 frames in
17 s, and each data set needs 9N clips.

Usage::

    python benchmarks/bench_quality.py            # N=128, T=16; writes results/bench_quality.json
    python benchmarks/bench_quality.py --quick    # smoke run: N=8, T=9, 2 + 2 steps;
                                                  # writes results/bench_quality_quick.json
    python benchmarks/bench_quality.py --skip-demo --g-filters 32 --d-filters 32 \
        --frame-steps 6000 --steps 6300           # a narrower, shorter variant, real clips only
    python benchmarks/bench_quality.py --skip-demo --seed 1 --warmup-dir warm/s1 \
        --steps 12900 --score-at 12300,12600 --trained-only
                                                  # video phases of 300, 600 and 900 steps

Comparing video phases: `--warmup-dir` keeps each run's frame warm-up (the first
`--frame-steps` steps; one folder per seed) and starts later runs from it. A resumed run
trains on the batches of an uninterrupted one, so the rows are the ones a run from step 0
gives (tests/test_benchmarks.py), and a variant of the video phase costs only its own
steps. `--score-at` scores the same run at earlier step counts on the way.
"""

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import shutil
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REAL_CLIPS = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "real-clips"))
TARGET_RATIO = 0.5
CALIBRATION_LABELS = {"real_shuffled": "real, shuffled in time", "real_still": "real frame 0, held",
                      "trained_still": "trained frame 0, held",
                      "trained_from_real": "trained, from real f0",
                      "trained_live": "trained, no EMA"}
sys.path.insert(0, ROOT)
from keras_vidgan import presets  # noqa: E402  (no TensorFlow import)

# The `make demo` settings: `train --preset quick` (tests/test_benchmarks.py checks the
# Makefile uses it); `--frame-steps`/`--steps` etc. measure other budgets, e.g. the
# quality preset's.
DEMO = {k: v for k, v in presets.preset_values("quick").items() if k != "sample_every"}
DEMO_VIDEOS = 64  # make-demo-data --videos
# The demo data's held-out reference: fresh videos of another seed (make-demo-data --seed).
DEMO_REFERENCE_SEED = 1000
# Settings that leave a run's frame warm-up unchanged (`--warmup-dir` may share it).
AFTER_WARMUP = ("steps", "temporal_weight", "num_frames", "checkpoint_every", "sample_every",
                "log_every", "eval_every")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


def _log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (N=8, T=9, 2 + 2 steps)")
    parser.add_argument("--samples", type=int, help="clips per set, N (default 128; quick 8)")
    parser.add_argument("--frames", type=int, help="frames per clip, T >= 9 for FVD (default 16; quick 9)")
    parser.add_argument("--steps", type=int, help=f"training steps (default {DEMO['steps']}; quick 4)")
    parser.add_argument("--frame-steps", type=int,
                        help=f"of which frame warm-up steps (default {DEMO['frame_steps']}; quick 2)")
    parser.add_argument("--augment", default=DEMO["augment"],
                        help=f"DiffAugment policy of the run (default {DEMO['augment']})")
    parser.add_argument("--residual", default=DEMO["residual"],
                        help="the run's next-frame model: add, advect, kernels, composite or latent "
                        f"(default {DEMO['residual']})")
    parser.add_argument("--g-filters", type=int, default=DEMO["g_filters"],
                        help=f"generator width of the run (default {DEMO['g_filters']})")
    parser.add_argument("--d-filters", type=int, default=DEMO["d_filters"],
                        help=f"critics' width of the run (default {DEMO['d_filters']})")
    parser.add_argument("--g-upsample", default=DEMO.get("g_upsample", "transpose"),
                        help="how the run's generators double their size, transpose or resize")
    parser.add_argument("--temporal-critic", default=DEMO.get("temporal_critic", "pairs"),
                        help="what the run's temporal critic judges: pairs, gaps or clip "
                        "(default pairs)")
    parser.add_argument("--motion-scale", type=int, default=DEMO.get("motion_scale", 1),
                        help="resolution of the run's motion field: 1/N of the frame's (default 1)")
    parser.add_argument("--g-ema", type=float, default=DEMO["g_ema"],
                        help="decay of the run's moving average of G's weights, 0 for none "
                        f"(default {DEMO['g_ema']})")
    parser.add_argument("--precision", default=DEMO.get("precision", "float32"),
                        help="compute precision of the run: float32, mixed_bfloat16 or auto "
                        "(default: the preset's)")
    parser.add_argument("--demo-videos", type=int, default=DEMO_VIDEOS,
                        help=f"videos in the demo set (default {DEMO_VIDEOS}, as make demo)")
    parser.add_argument("--demo-size", type=int, default=DEMO["frame_size"],
                        help=f"frame size for the demo data (default {DEMO['frame_size']}, as make demo)")
    parser.add_argument("--real-size", type=int, default=32, help="frame size for real-clips (default 32)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the run, the noise and the clips")
    parser.add_argument("--batch-size", type=int, default=8, help="videos per I3D forward pass (default 8)")
    parser.add_argument("--no-fvd", action="store_true", help="frame FD only (no I3D)")
    parser.add_argument("--skip-real", action="store_true", help="only the demo data")
    parser.add_argument("--skip-demo", action="store_true", help="only the real clips")
    parser.add_argument("--real-clips", default=REAL_CLIPS,
                        help="folder of real videos (default ../shared/data/real-clips beside the project)")
    parser.add_argument("--warmup-dir",
                        help="keep each run's frame warm-up here (one folder per data set) and "
                        "start from it when it is there: a resumed run trains on the batches of "
                        "an uninterrupted one, so the rows do not change; use one folder per seed")
    parser.add_argument("--score-at", default="",
                        help="comma-separated earlier step counts of the same run at which to "
                        "score the trained model too (e.g. 12300,12600 with --steps 12900)")
    parser.add_argument("--trained-only", action="store_true",
                        help="score only the untrained and trained models (and G's frames held, "
                        "the live G): no real-vs-real or real calibration rows")
    parser.add_argument("--no-realism", action="store_true",
                        help="no realism columns (C2ST, motion, drift): FVD, KID and frame FD only")
    parser.add_argument("--c2st-steps", type=int,
                        help="training steps per fold of every C2ST (default 100; quick 5)")
    parser.add_argument("--strips",
                        help="folder for a PNG film strip of 8 trained clips per data set "
                        "(one clip per row, frames left to right), to look at")
    parser.add_argument("--out", help="JSON results (default benchmarks/results/bench_quality[_quick].json)")
    args = parser.parse_args(argv)
    quick = {"samples": 8, "frames": 9, "steps": 4, "frame_steps": 2, "c2st_steps": 5}
    full = {"samples": 128, "frames": 16, "steps": DEMO["steps"], "frame_steps": DEMO["frame_steps"],
            "c2st_steps": 100}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.score_at = sorted({int(step) for step in args.score_at.split(",") if step.strip()})
    if any(not args.frame_steps < step < args.steps for step in args.score_at):
        parser.error(f"--score-at steps must lie between --frame-steps ({args.frame_steps}) "
                     f"and --steps ({args.steps}), received: {args.score_at}")
    name = "bench_quality_quick.json" if args.quick else "bench_quality.json"
    args.out = args.out or os.path.join(HERE, "results", name)
    return args


def _row(results, **extra):
    keys = ("fvd", "kid", "kid_std", "frame_fd", "num_real", "num_fake", "num_frames")
    return {**{k: results[k] for k in keys}, **extra}


def _realism(clips, real, args, paired=False):
    """The realism columns of a row: C2ST, motion ratio, drift (module docstring)."""
    from keras_vidgan import metrics

    if args.no_realism:
        return {"c2st": None, "c2st_std": None, "motion_ratio": None, "drift_ratio": None}
    report = metrics.realism_report(clips, real, seed=args.seed, calibrate=False, paired=paired,
                                    steps=args.c2st_steps)
    c2st, motion, drift = report["c2st"], report["motion"], report["drift"]
    return {"c2st": c2st.get("accuracy"), "c2st_std": c2st.get("std"),
            "motion_ratio": motion and motion["ratio"], "drift_ratio": drift and drift["ratio"],
            "realism": report}


def _real_vs_real(folder, n, num_frames, seed, fvd, batch_size, args, reference=None):
    """Clips of the even-numbered videos vs clips of the odd-numbered ones.

    With a held-out `reference` folder: the training videos' clips against its clips.
    """
    from keras_vidgan import evaluate

    first, second = (folder, reference) if reference is not None else folder.split_videos()
    available = min(len(half.clip_starts(num_frames)) for half in (first, second))
    n_half = min(n, available)
    clips = [half.sample_clips(n_half, num_frames, seed) for half in (first, second)]
    feats = [evaluate.video_features(half, fvd, batch_size) for half in clips]
    note = "" if n_half == n else f"only {n_half} distinct clips per half: N differs from the other rows"
    return _row(evaluate.compare_features(*feats, seed), videos=[first.num_videos, second.num_videos],
                note=note, **_realism(clips[1], clips[0], args))


def _calibration_sets(real, fake, trainer, args):
    """Sets that tell what the metric responds to on this data (module docstring)."""
    rng = np.random.default_rng(args.seed)
    sets = {
        "real_shuffled": np.stack([clip[rng.permutation(len(clip))] for clip in real]),
        "real_still": np.repeat(real[:, :1], args.frames, axis=1),
        "trained_still": np.repeat(fake[:, :1], args.frames, axis=1),
    }
    if not trainer.latent_motion:  # a latent-motion model cannot start from an image
        sets["trained_from_real"] = trainer.generate(
            args.samples, seed=args.seed + 1, num_frames=args.frames, first_frame=real[:, 0])
    if trainer.ema_generator is not None:
        sets["trained_live"] = _live_videos(trainer, args)
    return sets


def _live_videos(trainer, args):
    """The benchmark's noise through the live G's weights (not their moving average)."""
    from keras_vidgan import sampling

    noise = sampling.sample_noise(args.samples, trainer.z_dim, args.seed)
    return sampling.video_from_noise(
        trainer.generator, trainer.residual_generator, noise, args.frames).numpy()


def _warm_up_config(config):
    return config.replace(steps=config.frame_steps, checkpoint_every=config.frame_steps)


def _check_warm_up(config, warmup_dir, data_key):
    """Refuses a kept warm-up of other settings or data (before any scoring)."""
    from keras_vidgan.config import RunConfig

    if not (warmup_dir and config.frame_steps and os.path.isdir(warmup_dir)):
        return
    saved = {**dataclasses.asdict(RunConfig.load(warmup_dir)), "data": data_key}
    key_file = os.path.join(warmup_dir, "data_key")
    if os.path.exists(key_file):  # else no key was kept: the settings decide
        with open(key_file) as f:
            saved["data"] = f.read()
    asked = {**dataclasses.asdict(_warm_up_config(config)), "data": data_key}
    other = {k: (saved[k], v) for k, v in asked.items()
             if k not in AFTER_WARMUP and saved.get(k, v) != v}
    if other:
        raise SystemExit(f"{warmup_dir} holds a warm-up with other settings (saved, "
                         f"asked): {other}; delete it or pass another --warmup-dir")


def _warm_up(config, warmup_dir, data_key):
    """Trains (or finds) the run's first `frame_steps` steps in `warmup_dir`.

    `data_key` names the data: the demo videos are made afresh in a temporary folder.
    """
    from keras_vidgan import runs

    _check_warm_up(config, warmup_dir, data_key)
    warm = _warm_up_config(config)
    warm.save(warmup_dir)  # the same data, maybe at another path (demo videos)
    with open(os.path.join(warmup_dir, "data_key"), "w") as f:
        f.write(data_key)
    _log(f"frame warm-up in {warmup_dir}")
    runs.train_run(warm, warmup_dir, quiet=True, log=lambda message: None, cache_dir=False)


def _train(config, run_dir, warmup_dir, data_key):
    """Trains (or continues) the run; with `warmup_dir`, from the frame warm-up there."""
    from keras_vidgan import runs

    checkpoints = os.path.join(run_dir, "checkpoints")
    if warmup_dir and config.frame_steps and not os.path.isdir(checkpoints):
        _warm_up(config, warmup_dir, data_key)
        shutil.copytree(os.path.join(warmup_dir, "checkpoints"), checkpoints)
    if os.path.isdir(run_dir):
        config.save(run_dir)  # this run's settings (steps); its checkpoints are restored
    return runs.train_run(config, run_dir, quiet=True, log=lambda message: None, cache_dir=False)[0]


def _save_strip(path, clips, rows=8):
    """Clips as a PNG: one per row, its frames left to right, upscaled to 64 px."""
    from keras_vidgan import video_io

    clips = video_io.upscale(np.asarray(clips[:rows]), max(1, 64 // clips.shape[2]))
    frames = clips.reshape(-1, *clips.shape[2:])
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    video_io.save_grid(path, frames, columns=clips.shape[1])
    _log(f"film strip: {path}")


def bench_dataset(name, data_dir, frame_size, args, workdir, reference_dir=None):
    """Untrained, trained, calibration and real-vs-real rows for one data set.

    The rows score clips against real clips of `reference_dir` (videos the run did
    not train on) when given, else of the training videos.
    """
    from keras_vidgan import data, evaluate, precision, runs
    from keras_vidgan.config import RunConfig

    fvd = not args.no_fvd
    config = RunConfig(
        **{**DEMO, "frame_size": frame_size, "steps": args.steps, "frame_steps": args.frame_steps,
           "augment": args.augment, "residual": args.residual, "g_filters": args.g_filters,
           "d_filters": args.d_filters, "g_ema": args.g_ema, "precision": args.precision,
           "g_upsample": args.g_upsample, "motion_scale": args.motion_scale,
           "temporal_critic": args.temporal_critic},
        data=data_dir,
        num_frames=args.frames, seed=args.seed, sample_every=0, checkpoint_every=args.steps,
    )
    # "auto" resolved here, as a run resolves it, so that a kept warm-up compares equal.
    chosen, reason = precision.resolve(config.precision)
    config = config.replace(precision=chosen, precision_reason=reason)
    folder = runs.load_data(config, cache_dir=False)
    _log(f"{name}: {folder.num_videos} videos, {len(folder.frames)} frames at {frame_size}x{frame_size}")
    warmup = os.path.join(args.warmup_dir, name) if args.warmup_dir else None
    data_key = folder.fingerprint(config.batch_size, config.clip_len, config.seed)
    _check_warm_up(config, warmup, data_key)
    reference = (data.load_video_folder(reference_dir, frame_size=frame_size, cache_dir=False)
                 if reference_dir else None)
    real = (reference or folder).sample_clips(args.samples, args.frames, args.seed)
    _log(f"{name}: features of {len(real)} real clips"
         + (f" of {reference.num_videos} held-out videos" if reference else ""))
    real_feats = evaluate.video_features(real, fvd, args.batch_size)

    def score(clips, paired=False, **extra):
        fake_feats = evaluate.video_features(clips, fvd, args.batch_size)
        return _row(evaluate.compare_features(real_feats, fake_feats, args.seed), **extra,
                    **_realism(clips, real, args, paired))

    def videos(trainer):
        return trainer.generate(args.samples, seed=args.seed, num_frames=args.frames)

    _log(f"{name}: untrained model")
    rows = {"untrained": score(videos(runs.make_trainer(config)), step=0)}
    _log(f"{name}: training {args.steps} steps")
    train_seconds = 0.0
    run_dir = os.path.join(workdir, name, "run")
    for steps in [*args.score_at, args.steps]:  # a run resumed on its data: no change in rows
        started = time.perf_counter()
        with contextlib.redirect_stdout(sys.stderr):  # progress lines: keep stdout for the table
            trainer = _train(config.replace(steps=steps), run_dir, warmup, data_key)
        train_seconds += time.perf_counter() - started
        if steps != args.steps:
            _log(f"{name}: scoring at step {steps}")
            rows[f"trained_{steps}"] = score(videos(trainer), step=steps)
            if trainer.ema_generator is not None:
                rows[f"trained_live_{steps}"] = score(_live_videos(trainer, args), step=steps)
    _log(f"{name}: trained in {train_seconds:.0f} s; scoring")
    fake = videos(trainer)
    rows["trained"] = score(fake, step=int(trainer.step.numpy()))
    if args.strips:
        _save_strip(os.path.join(args.strips, f"{name}_s{args.seed}.png"), fake)
    _log(f"{name}: calibration rows")
    calibration = _calibration_sets(real, fake, trainer, args)
    if args.trained_only:
        calibration = {k: v for k, v in calibration.items() if k in ("trained_still", "trained_live")}
    rows.update({key: score(clips, paired=key.startswith("real_"))  # real[i] altered
                 for key, clips in calibration.items()})
    if not args.trained_only:
        _log(f"{name}: real vs real")
        rows["real_vs_real"] = _real_vs_real(folder, args.samples, args.frames, args.seed, fvd,
                                             args.batch_size, args, reference)
    return {
        "data": data_dir if name != "demo" else f"make_demo_videos(n={args.demo_videos}, frames=48, size=64)",
        "reference": (f"make_demo_videos(n={args.demo_videos}, seed={DEMO_REFERENCE_SEED})"
                      if reference_dir else "the training videos"),
        "frame_size": frame_size,
        "num_videos": folder.num_videos,
        "train_seconds": round(train_seconds, 1),
        "config": dataclasses.asdict(config),
        "rows": rows,
        **_ratios(rows),
    }


def _ratios(rows):
    out = {}
    for key in ("fvd", "frame_fd"):
        untrained, trained = rows["untrained"][key], rows["trained"][key]
        if untrained is not None and untrained > 0:
            out[f"{key}_ratio"] = round(trained / untrained, 4)
    metric = "fvd_ratio" if "fvd_ratio" in out else "frame_fd_ratio"
    out["target"] = f"trained <= {TARGET_RATIO} x untrained ({metric.replace('_ratio', '')})"
    out["target_met"] = bool(out.get(metric, 1.0) <= TARGET_RATIO)
    return out


def _fmt(value, spec):
    return "-" if value is None else format(value, spec)


def table(report):
    """The results as a printable table."""
    header = (f"{'data':<11} {'model':<22} {'N':>4} {'T':>3} {'size':>4} {'FVD':>9} "
              f"{'KID':>8} {'frame FD':>9} {'C2ST':>5} {'motion':>6} {'drift':>5}")
    lines = [header, "-" * len(header)]
    for name, result in report["datasets"].items():
        if "skipped" in result:
            lines.append(f"{name:<11} skipped: {result['skipped']}")
            continue
        labels = {"untrained": "untrained (step 0)",
                  "trained": f"trained ({result['rows']['trained']['step']} steps)",
                  "real_vs_real": ("real vs real (held out)" if result.get("reference", "").startswith("make")
                                   else "real vs real (halves)"),
                  **CALIBRATION_LABELS}
        for key in result["rows"]:
            if key.startswith("trained_") and key[-1].isdigit():  # --score-at
                labels[key] = f"{labels['trained_live'] if '_live_' in key else 'trained'} " \
                              f"@{key.rsplit('_', 1)[1]}"
        for key, label in labels.items():
            if key not in result["rows"]:
                continue
            row = result["rows"][key]
            lines.append(
                f"{name:<11} {label:<22} {row['num_fake']:>4} {row['num_frames']:>3} "
                f"{result['frame_size']:>4} {_fmt(row['fvd'], '9.1f')} {_fmt(row['kid'], '8.3f')} "
                f"{_fmt(row['frame_fd'], '9.2f')} {_fmt(row.get('c2st'), '5.2f')} "
                f"{_fmt(row.get('motion_ratio'), '6.2f')} {_fmt(row.get('drift_ratio'), '5.2f')}"
            )
        ratios = ", ".join(f"{k.replace('_ratio', '')} {result[k]:.2f}x"
                           for k in ("fvd_ratio", "frame_fd_ratio") if k in result)
        verdict = "met" if result["target_met"] else "NOT met"
        lines.append(f"{'':<11} trained/untrained: {ratios}; target {result['target']}: {verdict}")
    lines.append("N clips per set (real-vs-real: N from each half). Fréchet distances are biased "
                 "upwards at small N: compare rows with the same N, T and size only.")
    lines.append("C2ST: 5-fold held-out accuracy of a clip classifier against the real clips "
                 "(0.5 = indistinguishable; the real rows calibrate it); motion: mean frame "
                 "change / the real clips'; drift: frame FD at the last t of 1, 4, 8, 15 / at t = 1.")
    return "\n".join(lines)


def _environment():
    import keras
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "cpus": os.cpu_count(), "machine": platform.machine()}


def main(argv=None):
    args = _parse(argv)
    from keras_vidgan import data, evaluate

    if not args.no_fvd:
        evaluate.check_fvd_frames(args.frames)
        evaluate.require_i3d_weights()
    started = time.perf_counter()
    report = {"settings": {k: v for k, v in vars(args).items() if k != "out"},
              "make_demo_config": DEMO, "datasets": {}}
    with tempfile.TemporaryDirectory(prefix="bench_quality-") as workdir:
        if args.skip_demo:
            report["datasets"]["demo"] = {"skipped": "--skip-demo"}
        else:
            demo_dir, reference_dir = (os.path.join(workdir, k) for k in ("videos", "reference"))
            data.make_demo_videos(demo_dir, n=args.demo_videos)  # as `make demo`
            data.make_demo_videos(reference_dir, n=args.demo_videos, seed=DEMO_REFERENCE_SEED)
            report["datasets"]["demo"] = bench_dataset("demo", demo_dir, args.demo_size, args,
                                                       workdir, reference_dir)
        if args.skip_real:
            report["datasets"]["real-clips"] = {"skipped": "--skip-real"}
        elif not os.path.isdir(args.real_clips):
            report["datasets"]["real-clips"] = {
                "skipped": f"{args.real_clips} is absent (it lives beside the project)"}
        else:
            report["datasets"]["real-clips"] = bench_dataset(
                "real-clips", args.real_clips, args.real_size, args, workdir
            )
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["environment"] = _environment()
    report["notes"] = [evaluate.BIAS_NOTE,
                       "FVD and KID on I3D Kinetics-400 logits (frames resized to 224x224); "
                       "frame FD on offline per-frame proxy features (not FID)."]
    print(table(report))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    print(f"wrote {args.out} ({report['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
