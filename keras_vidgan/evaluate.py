"""Sample quality of a trained run or an export: FVD, KID and frame FD against real clips.

    keras-vidgan evaluate --run RUN_DIR [--data DIR] [--samples N] [--frames T] [--seed S] [--no-fvd]
    keras-vidgan evaluate --export EXPORT_DIR --data DIR [...]

- Real clips: `num_frames` consecutive frames of one video, from the data folder
  loaded with the run's preprocessing (frame size, frame step, fps, resize), spread
  evenly over all the clips training draws from (a long video gives more, as in
  training), deterministically for a seed (`VideoFolder.sample_clips`).
- Generated clips: `n` videos of `num_frames` frames. Video mode: from noise (G
  draws frame 0, the residual generator rolls it out). Frame mode: a latent walk
  of G (`Trainer.generate(n, seed, num_frames=T)`). An export is run in-process
  through its `serving_default` signature with the same noise, so a run and its
  export give the same numbers up to uint8 rounding.
- Metrics (`evaluate_videos`): FVD and KID on the I3D Kinetics-400 logits
  (`keras_vidgan.metrics`), and the frame Fréchet distance on cheap per-frame
  features (an offline proxy that sees single frames, not motion). Realism
  (`metrics.realism_report`, off with `--no-realism`): the classifier two-sample test
  (C2ST) beside its calibration on the real clips (real vs real on disjoint videos,
  shuffled in time, frame 0 held), the motion ratio and the frame drift over t.

I3D needs at least 9 frames per clip (`keras_vidgan.i3d.MIN_FRAMES`); shorter clips
are refused for FVD/KID rather than padded (repeating frames would add a standstill
that no real clip has and bias the number), so use `--frames 9` or more (16 is the
usual protocol), or `--no-fvd` for the frame FD alone, which works for any length.

Fréchet distances are biased upwards at small sample sizes (and KID is noisy): a
number is only comparable with numbers computed with the same sample count, clip
length and frame size. Published FVDs use 256 to 2048 clips of 16 frames.

`EvaluationCallback` evaluates during training and writes `eval/fvd`, `eval/kid`
and `eval/frame_fd` to TensorBoard.
"""

import os
import time

import keras
import numpy as np
import tensorflow as tf

from keras_vidgan import i3d as i3d_lib
from keras_vidgan import metrics

__all__ = [
    "BIAS_NOTE",
    "DEFAULT_SAMPLES",
    "EvaluationCallback",
    "callback_for_run",
    "check_fvd_frames",
    "compare_features",
    "evaluate_videos",
    "format_results",
    "format_classes",
    "fvd_available",
    "summary_line",
    "require_i3d_weights",
    "video_features",
]

DEFAULT_SAMPLES = 128
_KID_SUBSETS = 100
_KID_MAX_SUBSET = 1000  # Binkowski et al.; small sets use random halves
BIAS_NOTE = (
    "Fréchet distances are biased upwards at small sample counts and KID is noisy: "
    "compare only numbers computed with the same samples, frames and frame size."
)


def _quiet(message):
    del message


# --------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------


def check_fvd_frames(num_frames):
    """Raises a ValueError saying what to do when clips are too short for I3D."""
    if num_frames < i3d_lib.MIN_FRAMES:
        raise ValueError(
            f"Expected clips of at least {i3d_lib.MIN_FRAMES} frames for FVD (I3D's "
            f"temporal minimum), received: {num_frames} frames. Use --frames "
            f"{i3d_lib.MIN_FRAMES} or more (16 is the usual protocol), or --no-fvd for "
            "the frame Fréchet distance alone (any number of frames)."
        )


def require_i3d_weights():
    """The cached I3D weights' path, or a FileNotFoundError saying how to get them."""
    try:
        return i3d_lib.i3d_weights_path()
    except FileNotFoundError as err:
        raise FileNotFoundError(
            f"{err} Or pass --no-fvd (fvd=False) for the frame Fréchet distance alone."
        ) from None


def _check_positive(**values):
    for name, value in values.items():
        if value is None or int(value) < 1:
            raise ValueError(f"Expected {name} >= 1, received: {value}")


# --------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------


def _as_videos(videos, name):
    videos = np.asarray(videos)
    if videos.ndim != 5 or videos.shape[0] < 2:
        raise ValueError(
            f"Expected `{name}` of shape (batch >= 2, frames, height, width, channels), "
            f"received: shape={videos.shape}"
        )
    return videos


def video_features(videos, fvd=True, batch_size=16):
    """The features `evaluate_videos` compares, computed once (e.g. for real clips).

    Args:
        videos: `(batch, frames, H, W, C)`, float in [-1, 1] or uint8.
        fvd: bool. Also the I3D logits (frames >= 9).
        batch_size: int. Videos per I3D forward pass.

    Returns:
        Dict: `num_videos`, `num_frames`, `frame` (per-frame features), and `i3d`
        (`(batch, 400)` logits, or None without FVD).
    """
    videos = _as_videos(videos, "videos")
    if fvd:
        check_fvd_frames(videos.shape[1])
    return {
        "num_videos": int(videos.shape[0]),
        "num_frames": int(videos.shape[1]),
        "frame": metrics.frame_features(videos),
        "i3d": metrics.i3d_features(videos, batch_size=batch_size) if fvd else None,
    }


def compare_features(real, fake, seed=0):
    """Metrics between two results of `video_features` (see `evaluate_videos`)."""
    if real["num_frames"] != fake["num_frames"]:
        raise ValueError(
            "Expected real and generated clips of the same length, received: "
            f"{real['num_frames']} and {fake['num_frames']} frames"
        )
    results = {
        "num_real": real["num_videos"],
        "num_fake": fake["num_videos"],
        "num_frames": real["num_frames"],
        "fvd": None,
        "kid": None,
        "kid_std": None,
        "frame_fd": metrics.frechet_distance_from_features(real["frame"], fake["frame"]),
    }
    if real["i3d"] is not None and fake["i3d"] is not None:
        results["fvd"] = metrics.frechet_distance_from_features(real["i3d"], fake["i3d"])
        results["kid"], results["kid_std"] = metrics.kernel_inception_distance(
            real["i3d"], fake["i3d"], num_subsets=_KID_SUBSETS,
            subset_size=_kid_subset_size(real["num_videos"], fake["num_videos"]), seed=seed,
        )
    return results


def _kid_subset_size(num_real, num_fake):
    """Random halves of the smaller set, at most 1000: the subsets differ, so the
    spread of KID over them says how noisy the estimate is."""
    return min(_KID_MAX_SUBSET, max(min(num_real, num_fake) // 2, 2))


def evaluate_videos(real, fake, fvd=True, batch_size=16, seed=0):
    """FVD, KID (I3D features) and frame Fréchet distance of generated vs real clips.

    Args:
        real: `(n_real, T, H, W, C)` real clips, float in [-1, 1] or uint8.
        fake: `(n_fake, T, H', W', C)` generated clips; same T, any frame size.
        fvd: bool. Compute FVD and KID on the I3D Kinetics-400 logits (T >= 9,
            cached weights). False: the frame Fréchet distance alone.
        batch_size: int. Videos per I3D forward pass (memory grows with it).
        seed: int. Seed of KID's random subsets.

    Returns:
        Dict: `fvd`, `kid`, `kid_std` (None without `fvd`), `frame_fd`,
        `num_real`, `num_fake`, `num_frames`. KID is the mean (and `kid_std` the
        standard deviation) over 100 random subsets of half the smaller set, at
        most 1000 clips each.

    Raises:
        ValueError: on bad shapes, different clip lengths, or T < 9 with `fvd`.
        FileNotFoundError: with `fvd`, if the I3D weights were never fetched.
    """
    real = _as_videos(real, "real")
    fake = _as_videos(fake, "fake")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            "Expected real and generated clips of the same length, received: "
            f"{real.shape[1]} and {fake.shape[1]} frames"
        )
    if fvd:
        check_fvd_frames(real.shape[1])
        require_i3d_weights()
    return compare_features(
        video_features(real, fvd, batch_size), video_features(fake, fvd, batch_size), seed
    )


# --------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------


def summary_line(results):
    """One line of `evaluate_run`/`evaluate_export` results: realism first, then FVD.

    Args:
        results: dict from `keras_vidgan.scoring.evaluate_run` (with `realism`).

    Returns:
        str, e.g. `quality of 64 clips of 16 frames against the run's data: C2ST
        0.98 ± 0.01 (0.5 = indistinguishable), motion 0.45x real, drift 1.9x (frame FD
        t=15 / t=1), frame FD 2.31, FVD 640`.
    """
    parts = []
    realism = results.get("realism") or {}
    c2st = realism.get("c2st") or {}
    if "accuracy" in c2st:
        parts.append(f"C2ST {c2st['accuracy']:.2f} ± {c2st['std']:.2f} (0.5 = indistinguishable)")
    motion = realism.get("motion") or {}
    if motion.get("ratio") is not None:
        parts.append(f"motion {motion['ratio']:.2f}x real")
    drift = realism.get("drift") or {}
    if drift.get("ratio") is not None:
        parts.append(f"drift {drift['ratio']:.2f}x (frame FD t={drift['steps'][-1]} / "
                     f"t={drift['steps'][0]}; real {drift['real_ratio']:.2f}x)")
    parts.append(f"frame FD {results['frame_fd']:.2f}")
    if results.get("fvd") is not None:
        parts.append(f"FVD {results['fvd']:.0f}")
    head = (f"quality of {results['num_fake']} clips of {results['num_frames']} frames "
            "against the run's data")
    classes = results.get("classes")
    if classes:
        acc = classes["class_accuracy"]
        parts.append(f"class accuracy {acc['accuracy']:.2f} (chance {acc['chance']:.2f}; "
                     + ", ".join(f"{n} {a:.2f}" for n, a in zip(classes["names"], acc["per_class"]))
                     + ")")
    return f"{head}: " + ", ".join(parts)


def format_classes(classes, indent="  "):
    """The per-class block of a conditional run's results (`results["classes"]`)."""
    acc = classes["class_accuracy"]
    lines = [f"{indent}per class (each class's samples vs its own real clips; a classifier of "
             "the real classes labels the samples):"]
    for row, fake, real in zip(classes["per_class"], acc["per_class"], acc["real_per_class"]):
        figures = [f"frame FD {row['frame_fd']:.2f}"]
        if row.get("fvd") is not None:
            figures.append(f"FVD {row['fvd']:.0f}")
        if (row.get("motion") or {}).get("ratio") is not None:
            figures.append(f"motion {row['motion']['ratio']:.2f}x")
        if row.get("c2st"):
            figures.append(f"C2ST {row['c2st']['accuracy']:.2f}")
        ceiling = "-" if real is None else f"{real:.2f}"
        lines.append(f"{indent}  {row['name']:<22} labelled right {fake:.2f} (real held out "
                     f"{ceiling}); " + ", ".join(figures))
    real = "-" if acc["real_accuracy"] is None else f"{acc['real_accuracy']:.2f}"
    lines.append(f"{indent}  class accuracy {acc['accuracy']:.3f} (chance {acc['chance']:.3f}; "
                 f"the classifier on held-out real clips: {real})")
    return "\n".join(lines)


def format_results(results):
    """A short human-readable report of `evaluate_run`/`evaluate_export` results."""
    lines = []
    if "path" in results:
        step = f"step {results['step']}, " if results.get("step") is not None else ""
        lines.append(
            f"{results['source']} {results['path']} ({step}{results['mode']} mode, "
            f"{results['frame_size']}x{results['frame_size']}) vs real clips of {results['data']}"
        )
    lines.append(
        f"  samples   {results['num_real']} real vs {results['num_fake']} generated clips of "
        f"{results['num_frames']} frames"
    )
    if results.get("fvd") is not None:
        lines.append(f"  FVD       {results['fvd']:10.2f}   (I3D Kinetics-400 logits)")
        lines.append(f"  KID       {results['kid']:10.4f}   (± {results['kid_std']:.4f} over "
                     f"{_KID_SUBSETS} random subsets; I3D features)")
    else:
        lines.append(f"  FVD       {'-':>10}   (off: --no-fvd)")
    frames = f"{results['num_real'] * results['num_frames']} vs {results['num_fake'] * results['num_frames']}"
    lines.append(f"  frame FD  {results['frame_fd']:10.2f}   ({frames} frames; offline "
                 "per-frame proxy features, not FID)")
    if results.get("realism") is not None:
        lines.append(metrics.format_realism(results["realism"]))
    if results.get("classes"):
        lines.append(format_classes(results["classes"]))
    lines.append(f"  {BIAS_NOTE}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------
# Training callback
# --------------------------------------------------------------------------------


class EvaluationCallback(keras.callbacks.Callback):
    """Evaluates generated videos every `every` steps and writes them to TensorBoard.

    The features of `real_videos` are computed once, when training begins. Then
    every `every` steps, `num_samples` videos of `num_frames` frames are generated
    with a fixed seed (`trainer.generate`) and compared with them; the scalars
    `eval/fvd`, `eval/kid` (with FVD) and `eval/frame_fd` go to a summary writer in
    `log_dir`, and each evaluation is appended to `self.results`.

    Args:
        real_videos: `(n, T, H, W, C)` real clips, float in [-1, 1] or uint8 (e.g.
            from `VideoFolder.sample_clips`).
        every: int >= 1. Steps between evaluations.
        log_dir: str. TensorBoard folder for the scalars.
        num_samples: int or None. Generated videos per evaluation; None for as
            many as there are real clips.
        num_frames: int or None. Frames per video; None for T. A smaller value
            keeps the first `num_frames` frames of the real clips.
        seed: int. Fixed noise seed, so evaluations are comparable across steps.
        fvd: bool. FVD and KID on I3D features (T >= 9, cached weights).
        batch_size: int. Videos per I3D forward pass.
        log: callable taking a str, or None. Gets one line per evaluation.

    Raises:
        ValueError: on bad settings, or T < 9 with `fvd`.
        FileNotFoundError: with `fvd`, if the I3D weights were never fetched.
    """

    def __init__(
        self,
        real_videos,
        every,
        log_dir,
        num_samples=None,
        num_frames=None,
        seed=1234,
        fvd=True,
        batch_size=16,
        log=None,
    ):
        super().__init__()
        real_videos = _as_videos(real_videos, "real_videos")
        num_frames = num_frames or real_videos.shape[1]
        num_samples = num_samples or real_videos.shape[0]
        _check_positive(every=every, num_samples=num_samples, num_frames=num_frames)
        if num_frames > real_videos.shape[1]:
            raise ValueError(
                f"Expected num_frames <= {real_videos.shape[1]} (the real clips' length), "
                f"received: {num_frames}"
            )
        if fvd:
            check_fvd_frames(num_frames)
            require_i3d_weights()
        self.real_videos = real_videos[:, :num_frames]
        self.every = int(every)
        self.log_dir = log_dir
        self.num_samples = int(num_samples)
        self.num_frames = int(num_frames)
        self.seed = seed
        self.fvd = fvd
        self.batch_size = batch_size
        self.log = log or _quiet
        self.results = []
        self._real = None
        self._writer = None

    def on_train_begin(self, logs=None):
        if self._real is None:
            self._real = video_features(self.real_videos, self.fvd, self.batch_size)
        self._writer = tf.summary.create_file_writer(self.log_dir)

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.step.numpy())
        if step % self.every == 0:
            self.evaluate(self.model, step)

    def evaluate(self, trainer, step):
        """Evaluates now and writes the scalars at `step`; returns the results."""
        started = time.perf_counter()
        fake = trainer.generate(self.num_samples, seed=self.seed, num_frames=self.num_frames)
        results = compare_features(
            self._real, video_features(fake, self.fvd, self.batch_size), self.seed
        )
        results.update(step=int(step), seconds=round(time.perf_counter() - started, 1))
        with self._writer.as_default(step=int(step)):
            for key in ("fvd", "kid", "frame_fd"):
                if results[key] is not None:
                    tf.summary.scalar(f"eval/{key}", results[key])
        self._writer.flush()
        self.results.append(results)
        shown = " ".join(f"{k}={results[k]:.4g}" for k in ("fvd", "kid", "frame_fd")
                         if results[k] is not None)
        self.log(f"eval step {step}: {shown} ({results['num_fake']} clips, "
                 f"{results['seconds']} s)")
        return results

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def callback_for_run(
    config, folder, run_dir, every, num_samples=64, num_frames=None, fvd=None, log=print
):
    """The `EvaluationCallback` of a training run (for `runs.train_run`).

    Real clips come from the already loaded training folder; scalars go to
    `RUN_DIR/logs/eval` (a run "eval" beside the training scalars in TensorBoard).

    Args:
        config: `RunConfig` of the run.
        folder: the run's `VideoFolder`.
        run_dir: str. Run folder.
        every: int >= 1. Steps between evaluations.
        num_samples: int. Real and generated clips per evaluation.
        num_frames: int or None. Frames per clip; None for `config.num_frames`.
        fvd: bool or None. None: FVD when the clips have >= 9 frames and the I3D
            weights are cached, else the frame FD alone (said in `log`).
        log: callable taking a str.

    Returns:
        An `EvaluationCallback`.
    """
    num_frames = num_frames or config.num_frames
    if fvd is None:
        fvd, reason = _fvd_available(num_frames)
        if not fvd:
            log(f"Evaluation: FVD off ({reason}); logging eval/frame_fd only.")
    real = folder.sample_clips(num_samples, num_frames, config.seed)
    return EvaluationCallback(
        real, every, os.path.join(run_dir, "logs", "eval"), num_samples, num_frames,
        seed=config.seed + 1234, fvd=fvd, log=log,
    )


def fvd_available(num_frames):
    """True if FVD can be computed for clips of `num_frames` without a download."""
    return _fvd_available(num_frames)[0]


def _fvd_available(num_frames):
    try:
        check_fvd_frames(num_frames)
        require_i3d_weights()
    except (ValueError, FileNotFoundError) as err:
        return False, str(err).split(". ")[0]
    return True, ""


