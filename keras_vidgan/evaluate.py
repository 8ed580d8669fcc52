"""Sample quality of a trained run or an export: FVD, KID and frame FD against real clips.

    keras-vidgan evaluate --run RUN_DIR [--data DIR] [--samples N] [--frames T] [--seed S] [--no-fvd]
    keras-vidgan evaluate --export EXPORT_DIR --data DIR [...]

- Real clips: `num_frames` consecutive frames of one video, from the data folder
  loaded with the run's preprocessing (frame size, frame step, fps, resize), spread
  evenly over all the clips training draws from (a long video gives more, as in
  training), deterministically for a seed (`real_clips`).
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

import dataclasses
import json
import os
import sys
import time

import numpy as np

from keras_vidgan import callbacks as callbacks_lib
from keras_vidgan import i3d as i3d_lib
from keras_vidgan import metrics

__all__ = [
    "BIAS_NOTE",
    "DEFAULT_SAMPLES",
    "EvaluationCallback",
    "add_parser",
    "callback_for_run",
    "check_fvd_frames",
    "compare_features",
    "evaluate_export",
    "evaluate_run",
    "evaluate_videos",
    "export_videos",
    "format_results",
    "real_clips",
    "require_i3d_weights",
    "run_command",
    "split_by_video",
    "video_features",
]

DEFAULT_SAMPLES = 128
_KID_SUBSETS = 100
_KID_MAX_SUBSET = 1000  # Binkowski et al.; small sets use random halves
_EXPORT_CHUNK = 64  # noise rows per serving call (also capped by the export's max_batch)
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
# Real clips
# --------------------------------------------------------------------------------


def real_clips(folder, n, num_frames, seed=0, with_video_ids=False):
    """`n` real clips of `num_frames` consecutive frames, as training draws them.

    Clips never cross from one video into the next. The `n` clips are evenly
    spaced, with a seeded offset, over every clip of the folder (the starts that
    `VideoFolder.dataset` shuffles for training), so each video gives clips in
    proportion to its length, as it gives training batches: the reference is a
    sample of the distribution the generator learns. The same folder, `n`,
    `num_frames` and `seed` give the same clips; all clips are distinct.

    Args:
        folder: `keras_vidgan.data.VideoFolder` (e.g. from `runs.load_data`).
        n: int >= 1. Number of clips.
        num_frames: int >= 1. Frames per clip.
        seed: int. Seed of the videos' order and the start offsets.
        with_video_ids: bool. Also return the source video of every clip (its
            index among the folder's usable videos), e.g. for
            `metrics.realism_report(real_video_ids=...)`.

    Returns:
        `np.ndarray` `(n, num_frames, H, W, 3)` float32 in [-1, 1], grouped by video;
        with `with_video_ids`, `(clips, ids)` with `ids` an `(n,)` int64 array.

    Raises:
        ValueError: if no video has `num_frames` frames, or the folder holds fewer
            than `n` distinct clips.
    """
    _check_positive(n=n, num_frames=num_frames)
    every = folder.clip_starts(num_frames)
    if len(every) < n:
        longest = int(np.diff(folder.starts).max()) if folder.num_videos else 0
        raise ValueError(
            f"Expected at least {n} distinct clips of {num_frames} frames in "
            f"{folder.folder!r}, received: {len(every)} (longest video: {longest} "
            "frames); lower --samples or --frames, or add videos."
        )
    offset = np.random.default_rng(seed).random()  # n evenly spaced starts, seeded offset
    starts = every[np.floor((np.arange(n) + offset) * len(every) / n).astype(np.int64)]
    index = starts[:, None] + np.arange(num_frames)[None, :]
    clips = folder.frames[index].astype(np.float32) / 127.5 - 1.0
    if not with_video_ids:
        return clips
    return clips, np.searchsorted(folder.starts, starts, side="right") - 1


def split_by_video(folder):
    """Splits a folder's videos into two disjoint halves: even and odd positions.

    For a real-vs-real baseline: clips of one half against clips of the other
    show how far apart two samples of the same footage are, with no clip shared.

    Args:
        folder: `keras_vidgan.data.VideoFolder` with at least 2 videos.

    Returns:
        `(VideoFolder, VideoFolder)`: videos 0, 2, 4, ... and 1, 3, 5, ...

    Raises:
        ValueError: if the folder holds fewer than 2 videos.
    """
    if folder.num_videos < 2:
        raise ValueError(
            f"Expected at least 2 videos to split, received: {folder.num_videos}"
        )
    indices = np.arange(folder.num_videos)
    return _subset(folder, indices[0::2]), _subset(folder, indices[1::2])


def _subset(folder, videos):
    from keras_vidgan import data as data_lib

    pieces = [folder.frames[folder.starts[i]:folder.starts[i + 1]] for i in videos]
    starts = np.concatenate([[0], np.cumsum([len(p) for p in pieces])]).astype(np.int64)
    used = [e for e in folder.entries if not e.skipped]
    return data_lib.VideoFolder(
        folder.folder, np.concatenate(pieces), starts, [used[i] for i in videos],
        folder.from_cache,
    )


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
# Runs and exports
# --------------------------------------------------------------------------------


def _prepare(num_frames, samples, fvd):
    _check_positive(samples=samples, frames=num_frames)
    if samples < 2:
        raise ValueError(f"Expected samples >= 2 for a Fréchet distance, received: {samples}")
    if fvd:
        check_fvd_frames(num_frames)
        require_i3d_weights()


def _evaluate(real, fake, fvd, batch_size, seed, log, real_video_ids=None, realism=True):
    started = time.perf_counter()
    what = "I3D and frame features" if fvd else "frame features"
    log(f"Computing {what} of {len(real)} real and {len(fake)} generated clips "
        f"of {real.shape[1]} frames...")
    results = evaluate_videos(real, fake, fvd=fvd, batch_size=batch_size, seed=seed)
    if realism:
        log("Realism: C2ST with its calibration on the real clips, motion, drift...")
        results["realism"] = metrics.realism_report(fake, real, real_video_ids, seed=seed)
    results["seconds"] = round(time.perf_counter() - started, 1)
    return results


def evaluate_run(
    run_dir,
    data=None,
    samples=DEFAULT_SAMPLES,
    frames=None,
    seed=0,
    fvd=True,
    batch_size=16,
    cache_dir=None,
    log=_quiet,
    realism=True,
):
    """Evaluates a run's newest checkpoint against real clips of its data.

    Args:
        run_dir: str. Run folder (`config.json`, `checkpoints/`).
        data: str or None. Folder of real videos; None for the run's `data`. Loaded
            with the run's preprocessing (frame size, frame step, fps, resize).
        samples: int >= 2. Real and generated clips each.
        frames: int or None. Frames per clip; None for the run's `num_frames`.
        seed: int. Seed of the generator's noise, the real clips and KID.
        fvd: bool. FVD and KID on I3D features (frames >= 9); False for the frame FD.
        batch_size: int. Videos per I3D forward pass.
        cache_dir: frame cache folder, None for the default, False for none.
        log: callable taking a str, for progress lines.
        realism: bool. Also `realism` (`metrics.realism_report`: C2ST with its
            calibration, motion ratio, drift).

    Returns:
        The dict of `evaluate_videos`, plus `source` ("run"), `path`, `step`,
        `mode`, `frame_size`, `data`, `seed`, `seconds`, and `realism`.

    Raises:
        FileNotFoundError: no run, no checkpoint, no data folder or no I3D weights.
        ValueError: bad settings, too few clips, or frames < 9 with `fvd`.
    """
    from keras_vidgan import config as config_lib
    from keras_vidgan import runs

    config = config_lib.RunConfig.load(run_dir)
    frames = frames or config.num_frames
    _prepare(frames, samples, fvd)
    config = config.replace(data=data or config.data)
    _, trainer = runs.load_trainer(run_dir)
    folder = runs.load_data(config, cache_dir)
    real, ids = real_clips(folder, samples, frames, seed, with_video_ids=True)
    log(f"Generating {samples} videos of {frames} frames (step {int(trainer.step.numpy())})...")
    fake = trainer.generate(samples, seed=seed, num_frames=frames)
    results = _evaluate(real, fake, fvd, batch_size, seed, log, ids, realism)
    results.update(
        source="run", path=os.path.abspath(run_dir), step=int(trainer.step.numpy()),
        mode=config.mode, frame_size=config.frame_size, data=os.path.abspath(config.data),
        seed=seed,
    )
    return results


def _read_export_metadata(path):
    from keras_vidgan import export as export_lib

    meta_path = os.path.join(path, export_lib.METADATA_FILE)
    if not os.path.isfile(meta_path):
        raise FileNotFoundError(
            f"Expected a keras_vidgan export with {export_lib.METADATA_FILE}, "
            f"received: {path!r}"
        )
    with open(meta_path) as f:
        return json.load(f)


def _export_config(meta, data):
    """A RunConfig with the export's preprocessing settings and `data`."""
    from keras_vidgan import config as config_lib

    known = {f.name for f in dataclasses.fields(config_lib.RunConfig)}
    saved = {k: v for k, v in (meta.get("config") or {}).items() if k in known}
    config = config_lib.RunConfig(**saved).replace(
        mode=meta["mode"], frame_size=int(meta["frame_size"]), z_dim=int(meta["z_dim"]),
        data=data or saved.get("data") or "",
    )
    if not config.data:
        raise ValueError(
            "Expected --data DIR (the real videos) for an export whose metadata names "
            "no data folder, received: none"
        )
    return config


def _serving_generator(signature, max_batch):
    """A generator-like callable over the export's `serving_default`: noise -> [-1, 1]."""
    import tensorflow as tf

    chunk = max(min(int(max_batch), _EXPORT_CHUNK), 1)

    def generate(noise, training=False):
        del training
        noise = tf.convert_to_tensor(noise, tf.float32)
        outputs = []
        for start in range(0, int(noise.shape[0]), chunk):
            out = signature(noise=noise[start:start + chunk])
            outputs.append(next(iter(out.values())))
        return tf.cast(tf.concat(outputs, 0), tf.float32) / 127.5 - 1.0

    return generate


def export_videos(path, n, num_frames, seed=0):
    """`n` videos of `num_frames` frames from an export's `serving_default`, in-process.

    The noise is the one `Trainer.generate(n, seed, num_frames)` draws, so an
    export gives the videos of its run (up to uint8 rounding). Video exports roll
    out a fixed number of frames (`num_frames` in the metadata): the first
    `num_frames` are kept, which is exactly a shorter rollout. Frame exports are
    walked in latent space (`sampling.latent_walk`), as `Trainer.generate` does.

    Args:
        path: str. `EXPORT_DIR` (newest version) or `EXPORT_DIR/<version>`.
        n: int. Number of videos.
        num_frames: int. Frames per video.
        seed: int. Noise seed.

    Returns:
        `(videos, metadata)`: float32 `(n, num_frames, H, W, 3)` in [-1, 1], and the
        export's `keras_vidgan.json`.

    Raises:
        FileNotFoundError: if `path` holds no keras_vidgan export.
        ValueError: if a video export makes fewer than `num_frames` frames.
    """
    import tensorflow as tf

    from keras_vidgan import export as export_lib
    from keras_vidgan import sampling

    path = export_lib._resolve_version(path)
    meta = _read_export_metadata(path)
    if meta["mode"] == "video" and num_frames > int(meta["num_frames"]):
        raise ValueError(
            f"Expected --frames <= {meta['num_frames']} (the frames this video export "
            f"rolls out), received: {num_frames}; export again with --frames {num_frames}."
        )
    signature = tf.saved_model.load(path).signatures["serving_default"]
    generate = _serving_generator(signature, meta.get("max_batch", _EXPORT_CHUNK))
    z_dim = int(meta["z_dim"])
    noise = sampling.sample_noise(n, z_dim, seed)
    if meta["mode"] == "video":
        videos = generate(noise)[:, :num_frames]
    else:
        end = sampling.sample_noise(n, z_dim, seed + 1)
        videos = sampling.latent_walk(generate, noise, end, num_frames)
    return np.asarray(videos, np.float32), meta


def evaluate_export(
    export_dir,
    data=None,
    samples=DEFAULT_SAMPLES,
    frames=None,
    seed=0,
    fvd=True,
    batch_size=16,
    cache_dir=None,
    log=_quiet,
    realism=True,
):
    """Evaluates a SavedModel export (its `serving_default`) against real clips.

    The real videos are loaded with the preprocessing saved in the export's
    `assets.extra/keras_vidgan.json` (frame size and, when the export kept its
    run config, frame step, fps and resize).

    Args:
        export_dir: str. `EXPORT_DIR` (newest version) or `EXPORT_DIR/<version>`.
        data: str or None. Folder of real videos; None for the run's data folder
            recorded in the metadata.
        samples: int >= 2. Real and generated clips each.
        frames: int or None. Frames per clip; None for the export's `num_frames`
            (video) or the run's `num_frames` (frame exports; 16 if unknown).
        seed, fvd, batch_size, cache_dir, log, realism: see `evaluate_run`.

    Returns:
        The dict of `evaluate_videos`, plus `source` ("export"), `path`, `mode`,
        `frame_size`, `data`, `seed`, `seconds`, and `realism`.

    Raises:
        FileNotFoundError: no export, no data folder or no I3D weights.
        ValueError: bad settings, too few clips, frames < 9 with `fvd`, or more
            frames than a video export rolls out.
    """
    from keras_vidgan import export as export_lib
    from keras_vidgan import runs

    path = export_lib._resolve_version(export_dir)
    meta = _read_export_metadata(path)
    config = _export_config(meta, data)
    if frames is None:
        frames = int(meta["num_frames"]) if meta["mode"] == "video" else config.num_frames
    _prepare(frames, samples, fvd)
    folder = runs.load_data(config, cache_dir)
    real, ids = real_clips(folder, samples, frames, seed, with_video_ids=True)
    log(f"Generating {samples} videos of {frames} frames with {path}...")
    fake, _ = export_videos(path, samples, frames, seed)
    results = _evaluate(real, fake, fvd, batch_size, seed, log, ids, realism)
    results.update(
        source="export", path=os.path.abspath(path), mode=meta["mode"],
        frame_size=int(meta["frame_size"]), data=os.path.abspath(config.data), seed=seed,
    )
    return results


# --------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------


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
    lines.append(f"  {BIAS_NOTE}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------
# Training callback
# --------------------------------------------------------------------------------


class EvaluationCallback(callbacks_lib.Callback):
    """Evaluates generated videos every `every` steps and writes them to TensorBoard.

    The features of `real_videos` are computed once, when training begins. Then
    every `every` steps, `num_samples` videos of `num_frames` frames are generated
    with a fixed seed (`trainer.generate`) and compared with them; the scalars
    `eval/fvd`, `eval/kid` (with FVD) and `eval/frame_fd` go to a summary writer in
    `log_dir`, and each evaluation is appended to `self.results`.

    Args:
        real_videos: `(n, T, H, W, C)` real clips, float in [-1, 1] or uint8 (e.g.
            from `real_clips`).
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

    def on_train_begin(self, trainer, steps):
        import tensorflow as tf

        if self._real is None:
            self._real = video_features(self.real_videos, self.fvd, self.batch_size)
        self._writer = tf.summary.create_file_writer(self.log_dir)

    def on_step_end(self, trainer, step, logs):
        if step % self.every == 0:
            self.evaluate(trainer, step)

    def evaluate(self, trainer, step):
        """Evaluates now and writes the scalars at `step`; returns the results."""
        import tensorflow as tf

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

    def on_train_end(self, trainer, completed):
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
    real = real_clips(folder, num_samples, num_frames, config.seed)
    return EvaluationCallback(
        real, every, os.path.join(run_dir, "logs", "eval"), num_samples, num_frames,
        seed=config.seed + 1234, fvd=fvd, log=log,
    )


def _fvd_available(num_frames):
    try:
        check_fvd_frames(num_frames)
        require_i3d_weights()
    except (ValueError, FileNotFoundError) as err:
        return False, str(err).split(". ")[0]
    return True, ""


# --------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------


def _add_arguments(p):
    from keras_vidgan.cli import _positive

    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", help="run folder from `train` (its newest checkpoint)")
    source.add_argument("--export", help="SavedModel from `export`: EXPORT_DIR or EXPORT_DIR/<version>")
    p.add_argument("--data", help="folder of real videos (default: the run's training data)")
    p.add_argument("--samples", type=_positive, default=DEFAULT_SAMPLES,
                   help=f"real and generated clips each (default {DEFAULT_SAMPLES})")
    p.add_argument("--frames", type=_positive,
                   help=f"frames per clip, >= {i3d_lib.MIN_FRAMES} for FVD (default: the run's num_frames)")
    p.add_argument("--seed", type=int, default=0, help="noise and clip-sampling seed (default 0)")
    p.add_argument("--no-fvd", action="store_true",
                   help="skip FVD and KID (I3D); only the frame Fréchet distance")
    p.add_argument("--batch-size", type=_positive, default=16,
                   help="videos per I3D forward pass; memory grows with it (default 16)")
    p.add_argument("--no-realism", action="store_true",
                   help="skip the C2ST (and its calibration), motion ratio and drift")
    p.add_argument("--json", metavar="FILE", help="also write the results to FILE as JSON")
    p.add_argument("--cache-dir", help="frame cache folder (default ~/.cache/keras_vidgan/frames)")
    p.add_argument("--no-cache", action="store_true", help="decode the videos without a cache")
    p.set_defaults(func=run_command)


def add_parser(subparsers):
    """Registers `evaluate` on an argparse subparsers object; returns its parser."""
    p = subparsers.add_parser(
        "evaluate",
        help="FVD, KID and frame FD of a run or an export against real clips",
        description=f"FVD, KID (I3D features) and frame Fréchet distance of generated "
        f"videos against real clips. {BIAS_NOTE}",
    )
    _add_arguments(p)
    return p


def run_command(args):
    """Runs a parsed `evaluate` command; prints the report; returns 0."""
    kwargs = dict(
        data=args.data, samples=args.samples, frames=args.frames, seed=args.seed,
        fvd=not args.no_fvd, batch_size=args.batch_size, realism=not args.no_realism,
        cache_dir=False if args.no_cache else args.cache_dir,
        log=lambda message: print(f"keras-vidgan: {message}", file=sys.stderr, flush=True),
    )
    if args.run:
        results = evaluate_run(args.run, **kwargs)
    else:
        results = evaluate_export(args.export, **kwargs)
    print(format_results(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2, sort_keys=True)
        print(f"keras-vidgan: wrote {os.path.abspath(args.json)}")
    return 0
