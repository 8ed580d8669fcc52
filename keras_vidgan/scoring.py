"""Scoring a trained run or an export against real clips (`keras-vidgan evaluate`).

The floor above `runs`: a run's models come from `runs.load_models`, the real clips
from `VideoFolder.sample_clips`, the metrics from `keras_vidgan.evaluate`. See
`keras_vidgan.evaluate` for what is measured and how to read the numbers.
"""

import dataclasses
import json
import os
import time

import numpy as np
import tensorflow as tf

from keras_vidgan import config as config_lib
from keras_vidgan import export as export_lib
from keras_vidgan import metrics, runs, sampling
from keras_vidgan.evaluate import (
    DEFAULT_SAMPLES,
    _check_positive,
    _quiet,
    check_fvd_frames,
    evaluate_videos,
    require_i3d_weights,
)

__all__ = ["evaluate_run", "evaluate_export", "export_videos"]

_EXPORT_CHUNK = 64  # noise rows per serving call (also capped by the export's max_batch)



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
        results["realism"] = metrics.realism_report(
            fake, real, real_video_ids, seed=seed, calibrate=realism != "brief")
    results["seconds"] = round(time.perf_counter() - started, 1)
    return results


def _evaluate_classes(folder, generate, samples, frames, fvd, batch_size, seed, log, realism):
    """Per-class figures of a conditional model, and the class classifier's accuracy.

    Each class gets `samples // K` (at least 2) real clips of its own videos and as
    many generated clips asked for it: `evaluate_videos` (frame FD, FVD) and, with
    `realism`, the motion ratio (and, unless "brief", the C2ST) of each.
    `metrics.class_accuracy` then trains a clip classifier on the real clips of
    all classes and labels the generated ones.

    Args:
        generate: callable `(n, class_id) -> (n, T, H, W, 3)` generated clips.
    """
    names = folder.class_names
    per = max(samples // len(names), 2)
    rows, reals, fakes, labels, videos = [], [], [], [], []
    for c, name in enumerate(names):
        real, ids = folder.of_class(c).sample_clips(per, frames, seed, with_video_ids=True)
        fake = generate(per, c)
        log(f"Class {name!r}: {per} real and {per} generated clips...")
        row = {"name": name, **evaluate_videos(real, fake, fvd=fvd, batch_size=batch_size,
                                               seed=seed)}
        if realism and frames >= 2:
            row["motion"] = metrics.motion_ratio(fake, real)
        if realism is True and per >= 5:  # not "brief": the C2ST too
            row["c2st"] = metrics.classifier_two_sample_test(fake, real, seed=seed)
        rows.append(row)
        reals.append(real)
        fakes.append(fake)
        labels.append(np.full(per, c))
        videos.append(ids + 100_000 * c)  # video ids unique across classes
    log("Class check: a classifier trained on the real clips labels the generated ones...")
    accuracy = metrics.class_accuracy(
        np.concatenate(reals), np.concatenate(labels), np.concatenate(fakes),
        np.concatenate(labels), len(names), seed=seed, real_video_ids=np.concatenate(videos))
    return {"names": list(names), "per_class": rows, "class_accuracy": accuracy}


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
        realism: bool or "brief". Also `realism` (`metrics.realism_report`: C2ST
            with its calibration, motion ratio, drift); "brief" skips the
            calibration (three more classifier tests).

    Returns:
        The dict of `evaluate_videos`, plus `source` ("run"), `path`, `step`,
        `mode`, `frame_size`, `data`, `seed`, `seconds`; a class-conditional run
        adds `classes`: `names`, `per_class` (the figures of each class's samples
        against its real clips) and `class_accuracy` (`metrics.class_accuracy`:
        how often a classifier of the real classes gives a sample its asked class).

    Raises:
        FileNotFoundError: no run, no checkpoint, no data folder or no I3D weights.
        ValueError: bad settings, too few clips, or frames < 9 with `fvd`.
    """
    config = config_lib.RunConfig.load(run_dir)
    frames = frames or config.num_frames
    _prepare(frames, samples, fvd)
    config = config.replace(data=data or config.data)
    loaded = runs.load_models(run_dir)
    folder = runs.load_data(config, cache_dir)
    real, ids = folder.sample_clips(samples, frames, seed, with_video_ids=True)
    log(f"Generating {samples} videos of {frames} frames (step {loaded.step})...")
    fake = sampling.generate(loaded.models, samples, seed=seed, num_frames=frames)
    results = _evaluate(real, fake, fvd, batch_size, seed, log, ids, realism)
    if config.class_names:
        results["classes"] = _evaluate_classes(
            folder, lambda n, c: sampling.generate(loaded.models, n, seed=seed, num_frames=frames,
                                                   classes=c),
            samples, frames, fvd, batch_size, seed, log, realism)
    results.update(
        source="run", path=os.path.abspath(run_dir), step=loaded.step,
        mode=config.mode, frame_size=config.frame_size, data=os.path.abspath(config.data),
        seed=seed,
    )
    return results


def _read_export_metadata(path):
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
    """A generator-like callable over the export's `serving_default`: noise -> [-1, 1].

    A conditional export's takes `[noise, class_id]`, as a conditional generator does.
    """
    chunk = max(min(int(max_batch), _EXPORT_CHUNK), 1)

    def generate(noise, training=False):
        del training
        noise, class_id = noise if isinstance(noise, (list, tuple)) else (noise, None)
        noise = tf.convert_to_tensor(noise, tf.float32)
        outputs = []
        for start in range(0, int(noise.shape[0]), chunk):
            rows = slice(start, start + chunk)
            extra = {} if class_id is None else {"class_id": tf.cast(class_id[rows], tf.int64)}
            out = signature(noise=noise[rows], **extra)
            outputs.append(next(iter(out.values())))
        return tf.cast(tf.concat(outputs, 0), tf.float32) / 127.5 - 1.0

    return generate


def export_videos(path, n, num_frames, seed=0, classes=None):
    """`n` videos of `num_frames` frames from an export's `serving_default`, in-process.

    The noise is the one `sampling.generate(models, n, seed, num_frames)` draws, so an
    export gives the videos of its run (up to uint8 rounding). Video exports roll
    out a fixed number of frames (`num_frames` in the metadata): the first
    `num_frames` are kept, which is exactly a shorter rollout. Frame exports are
    walked in latent space (`sampling.latent_walk`), as `Trainer.generate` does.

    Args:
        path: str. `EXPORT_DIR` (newest version) or `EXPORT_DIR/<version>`.
        n: int. Number of videos.
        num_frames: int. Frames per video.
        seed: int. Noise seed.
        classes: a conditional export's classes (`sampling.class_ids`: an int, `n`
            ids, or None for the classes in turn).

    Returns:
        `(videos, metadata)`: float32 `(n, num_frames, H, W, 3)` in [-1, 1], and the
        export's `keras_vidgan.json`.

    Raises:
        FileNotFoundError: if `path` holds no keras_vidgan export.
        ValueError: if a video export makes fewer than `num_frames` frames.
    """
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
    y = sampling.class_ids(int(meta.get("num_classes", 0)), n, classes)
    if meta["mode"] == "video":
        videos = generate(noise if y is None else [noise, y])[:, :num_frames]
    else:
        end = sampling.sample_noise(n, z_dim, seed + 1)
        videos = sampling.latent_walk(generate, noise, end, num_frames, y)
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
        `frame_size`, `data`, `seed`, `seconds`.

    Raises:
        FileNotFoundError: no export, no data folder or no I3D weights.
        ValueError: bad settings, too few clips, frames < 9 with `fvd`, or more
            frames than a video export rolls out.
    """
    path = export_lib._resolve_version(export_dir)
    meta = _read_export_metadata(path)
    config = _export_config(meta, data)
    if frames is None:
        frames = int(meta["num_frames"]) if meta["mode"] == "video" else config.num_frames
    _prepare(frames, samples, fvd)
    folder = runs.load_data(config, cache_dir)
    real, ids = folder.sample_clips(samples, frames, seed, with_video_ids=True)
    log(f"Generating {samples} videos of {frames} frames with {path}...")
    fake, _ = export_videos(path, samples, frames, seed)
    results = _evaluate(real, fake, fvd, batch_size, seed, log, ids, realism)
    if meta.get("class_names"):
        results["classes"] = _evaluate_classes(
            folder, lambda n, c: export_videos(path, n, frames, seed, classes=c)[0],
            samples, frames, fvd, batch_size, seed, log, realism)
    results.update(
        source="export", path=os.path.abspath(path), mode=meta["mode"],
        frame_size=int(meta["frame_size"]), data=os.path.abspath(config.data), seed=seed,
    )
    return results
