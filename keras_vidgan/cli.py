"""The `keras-vidgan` command line: a thin layer over the library.

    keras-vidgan make-demo-data DIR [--classes N]
    keras-vidgan inspect-data DIR [--labels subfolders]
    keras-vidgan train --data DIR --out RUN_DIR [--config FILE.json] [--mode video] [--labels subfolders] ...
    keras-vidgan generate --run RUN_DIR --out FILE [--frames N] [--from-image IMG] [--class NAME]
    keras-vidgan export --run RUN_DIR --out EXPORT_DIR [--version N] [--format keras]
    keras-vidgan check-export EXPORT_DIR
    keras-vidgan evaluate --run RUN_DIR | --export EXPORT_DIR --data DIR
    keras-vidgan summary --run RUN_DIR
    keras-vidgan config

The `train` flags are generated from `RunConfig`'s fields (`keras_vidgan.config`).
Errors print one line and exit with 2 (bad input, a full disk, a busy or damaged run
folder), 1 (training diverged) or 130 (interrupted); see README, What is guaranteed.
"""

import argparse
import dataclasses
import json
import os
import sys

from keras_vidgan import __version__, presets
from keras_vidgan.config import RunConfig

__all__ = ["main", "build_parser"]

# `--help` and argument errors import no TensorFlow: every command imports the
# library in its function, after the flags are read (a test checks `sys.modules`).
# Kept equal to keras_vidgan.evaluate.DEFAULT_SAMPLES and i3d.MIN_FRAMES by a test.
_EVAL_SAMPLES = 128
_I3D_MIN_FRAMES = 9


def _positive(value):
    return _bounded(int, 1)(value)


def _bounded(kind, lowest=None):
    """An argparse type: `kind(value)`, refused below `lowest` with the bound named."""

    def parse(value):
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {kind.__name__}, received: {value}") from None
        if lowest is not None and number < lowest:
            raise argparse.ArgumentTypeError(
                f"expected {kind.__name__} >= {lowest}, received: {value}")
        return number

    parse.__name__ = kind.__name__
    return parse


def _add_config_flags(p):
    """One flag per `RunConfig` field: name, help, choices and bounds from its metadata."""
    for field in dataclasses.fields(RunConfig):
        meta, flag = field.metadata, "--" + field.name.replace("_", "-")
        if meta.get("cli") is False:
            continue
        shown = f" (default {field.default})" if field.default not in ("", None) else ""
        if field.type is bool:
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                           help=meta["help"] + shown)
        else:
            p.add_argument(flag, type=_bounded(field.type, meta.get("min")), default=None,
                           choices=meta.get("choices"), help=meta["help"] + shown)


def _add_train(sub):
    p = sub.add_parser(
        "train", help="train a GAN on a folder of videos (resumes RUN_DIR)",
        description="Train a GAN on a folder of videos. Settings: the defaults (`keras-vidgan "
        "config`), then --config FILE.json, then the flags. An existing RUN_DIR resumes with "
        "its saved settings; only --steps may change.")
    p.add_argument("--out", required=True, help="run folder: config, checkpoints, samples, logs")
    p.add_argument("--config", metavar="FILE.json", help="settings from a JSON file: a run's "
                   "config.json, `keras-vidgan config` output, or any subset of it")
    p.add_argument("--preset", choices=sorted(presets.PRESETS), help="a whole recipe: 'quick' "
                   "(make demo's, ~6 min of training on 2 CPU cores), 'quality' (~55 min) or "
                   "'document' (64x64); over --config, under the flags given beside it")
    _add_config_flags(p)
    p.add_argument("--cache-dir", help="frame cache folder (default ~/.cache/keras_vidgan/frames)")
    p.add_argument("--no-cache", action="store_true", help="decode the videos without a cache")
    p.add_argument("--quiet", action="store_true", help="log lines instead of a progress bar")
    p.add_argument("--restart", action="store_true", help="train RUN_DIR anew from step 0, "
                   "deleting its checkpoints (its config.json, updated by the flags given, is "
                   "used when readable); without it a run with checkpoints is only resumed")
    p.add_argument("--distribute", choices=("none", "mirrored", "multiworker"), default="none",
                   help="tf.distribute strategy: all local GPUs (mirrored), or several machines "
                   "described by TF_CONFIG (multiworker); --batch-size is the global batch")
    p.set_defaults(func=_train)


def _strategy(name):
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("--distribute multiworker needs TF_CONFIG (see README, Distribution).")
        return tf.distribute.MultiWorkerMirroredStrategy()
    return None


def _train(args):
    from keras_vidgan import runs

    flags = {f.name: getattr(args, f.name) for f in dataclasses.fields(RunConfig)
             if f.metadata.get("cli") is not False}
    given = presets.apply_preset(args.preset, flags)  # the preset, then the flags
    base = RunConfig.from_file(args.config) if args.config else None
    config, _ = runs.resolve_config(args.out, base, given, steps=given.get("steps"),
                                    restart=args.restart)
    print(f"keras-vidgan: run folder {os.path.abspath(args.out)}")
    cache = False if args.no_cache else args.cache_dir
    trainer, _ = runs.train_run(
        config, args.out, steps=given.get("steps"), quiet=args.quiet, cache_dir=cache,
        strategy=_strategy(args.distribute), restart=args.restart,
    )
    print(f"keras-vidgan: trained to step {int(trainer.step.numpy())}; "
          f"checkpoints in {os.path.abspath(os.path.join(args.out, 'checkpoints'))}")
    return 0


def _add_generate(sub):
    p = sub.add_parser("generate", help="write samples of a trained run")
    p.add_argument("--run", required=True, help="run folder from `train`")
    p.add_argument("--out", required=True, help="output file: .mp4, .avi, .mkv, .gif, .png "
                   "(a grid) or .npy (the samples as a uint8 array, n first)")
    p.add_argument("--n", type=_positive, default=4, help="number of samples, tiled in a grid (default 4)")
    p.add_argument("--frames", type=_positive, help="frames per video (default: the run's num_frames; 1 for a still grid)")
    p.add_argument("--from-image", help="image-to-video: start every video from this image (video mode)")
    p.add_argument("--seed", type=int, default=0, help="noise seed; the same seed gives the same output (default 0)")
    p.add_argument("--class", dest="class_name", metavar="NAME", help="class-conditional runs "
                   "(train --labels subfolders): samples of this class, by name or index "
                   "(default: the classes in turn)")
    p.add_argument("--fps", type=float, default=8.0, help="frames per second of the video (default 8)")
    p.add_argument("--scale", type=_positive, help="nearest-neighbour upscale of the written file "
                   "(default: the smallest that makes it at least 256 px wide)")
    p.set_defaults(func=_generate)


def _generate(args):
    import numpy as np

    from keras_vidgan import runs, sampling, video_io

    config, models, _ = runs.load_models(args.run)
    video_model = "residual_generator" in models
    frames = args.frames or config.num_frames
    first = _read_image(args.from_image, config.frame_size, args.n) if args.from_image else None
    if first is not None and not video_model:
        raise ValueError("--from-image needs a video-mode run (train --mode video).")
    ext = os.path.splitext(args.out)[1].lower()
    still = frames == 1 or ext == ".png"
    classes = _class_id(args.class_name, config.class_names)
    samples = sampling.generate(models, args.n, seed=args.seed,
                                num_frames=None if still else frames, first_frame=first,
                                classes=classes)
    if ext == ".npy":  # exactly what the export's signatures return for this noise
        from keras_vidgan import _files

        with _files.atomic_write(args.out, "wb") as fh:  # whole or absent, the umask's mode
            np.save(fh, video_io.to_uint8(samples))
        print(f"keras-vidgan: wrote {os.path.abspath(args.out)}")
        return 0
    if still:
        tiles = video_io.grid(samples)[None]
    else:
        tiles = np.stack([video_io.grid(samples[:, t]) for t in range(samples.shape[1])])
    tiles = video_io.upscale(tiles, args.scale or video_io.scale_to_width(tiles.shape[2]))
    if len(tiles) == 1 or ext == ".png":
        path = video_io.save_grid(args.out, tiles[:1], columns=1)
    else:
        path = video_io.write_any(args.out, tiles, args.fps)
    print(f"keras-vidgan: wrote {os.path.abspath(path)}")
    return 0


def _class_id(name, class_names):
    """The class id of `--class NAME` (a name or an index), or None without the flag."""
    if name is None:
        return None
    if not class_names:
        raise ValueError(f"--class {name} needs a class-conditional run (train --labels "
                         "subfolders); this run has no classes.")
    if name in class_names:
        return class_names.index(name)
    if name.isdigit() and int(name) < len(class_names):
        return int(name)
    listed = ", ".join(f"{i}: {n}" for i, n in enumerate(class_names))
    raise ValueError(f"Unknown class {name!r}; expected one of the run's classes ({listed}), "
                     "by name or index.")


def _read_image(path, frame_size, n):
    import cv2
    import numpy as np

    from keras_vidgan import data, video_io

    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f"Expected an image file OpenCV can read, received: {path!r}")
    rgb = data.preprocess_frame(video_io.to_rgb(image), frame_size)
    return np.repeat(video_io.to_unit_range(rgb)[None], n, axis=0)


def _add_export(sub):
    p = sub.add_parser("export", help="export a run as a TF Serving SavedModel or .keras files")
    p.add_argument("--run", required=True, help="run folder from `train`")
    p.add_argument("--out", required=True, help="savedmodel: the model base path, versions go "
                   "to OUT/<version>; keras: a folder for the .keras files")
    p.add_argument("--format", choices=("savedmodel", "keras"), default="savedmodel",
                   help="savedmodel (TF Serving, the default) or keras: one .keras file per "
                   "model, for keras.saving.load_model after `import keras_vidgan.models`")
    p.add_argument("--version", type=_positive, help="version number (default: the next free one)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing version or files")
    p.add_argument("--max-batch", type=_positive, default=256, help="largest accepted batch (default 256)")
    p.add_argument("--precision", choices=("float32", "mixed_bfloat16"), default="float32",
                   help="compute precision of the exported models, whatever the run trained "
                   "in (default float32; mixed_bfloat16 serves batches of 8 and more faster "
                   "on CPUs with AMX or AVX-512 BF16, single videos slower: docs/benchmarks.md)")
    p.add_argument("--frames", type=_positive, help="frames per exported video (default: the run's num_frames)")
    p.set_defaults(func=_export)


def _export(args):
    from keras_vidgan import export, runs

    config, models, step = runs.load_models(args.run, precision=args.precision)
    if args.format == "keras":
        paths = export.export_keras(models, args.out, overwrite=args.overwrite)
        for path in paths.values():
            print(f"keras-vidgan: wrote {os.path.abspath(path)}")
        return 0
    path = export.export_saved_model(
        models,
        args.out,
        version=args.version,
        overwrite=args.overwrite,
        num_frames=args.frames or config.num_frames,
        max_batch=args.max_batch,
        config=dataclasses.asdict(config),
    )
    print(f"keras-vidgan: exported step {step} to {os.path.abspath(path)}")
    return 0


def _add_summary(sub):
    p = sub.add_parser("summary", help="print the summary of each model of a run")
    p.add_argument("--run", required=True, help="run folder from `train`")
    p.set_defaults(func=_summary)


def _summary(args):
    from keras_vidgan import runs

    config, models, step = runs.load_models(args.run)
    average = ", generator: the average of G's weights" if config.g_ema else ""
    print(f"keras-vidgan: {os.path.abspath(args.run)} at step {step} ({config.mode} mode{average})")
    for model in models.values():
        model.summary()
    return 0


def _add_check_export(sub):
    p = sub.add_parser("check-export", help="validate an export as TF Serving would load it")
    p.add_argument("path", help="EXPORT_DIR (newest version) or EXPORT_DIR/<version>")
    p.add_argument("--show", action="store_true", help="also print saved_model_cli's output")
    p.set_defaults(func=_check_export)


def _check_export(args):
    from keras_vidgan import export

    report = export.check_export(args.path)
    if args.show:
        print(report["saved_model_cli"])
    print(f"keras-vidgan: {report['path']} loads in a TensorFlow-only process")
    for name, sig in report["signatures"].items():
        outs = ", ".join(f"{k} {d}{s}" for k, (d, s) in sig["outputs"].items())
        print(f"  {name}({', '.join(sig['inputs'])}) -> {outs}  [{sig['method']}]")
    print(f"  generate_seeded deterministic: {report['seeded_deterministic']}")
    print(f"  warmup records replayed: {report['warmup_replayed']}")
    return 0


def _add_data_commands(sub):
    p = sub.add_parser("make-demo-data", help="write the small synthetic demo video set")
    p.add_argument("dir", help="output folder")
    p.add_argument("--videos", type=_positive, default=64,
                   help="number of videos (default 64: enough that fresh videos of another "
                        "--seed are a fair held-out reference)")
    p.add_argument("--frames", type=_positive, default=48, help="frames per video (default 48)")
    p.add_argument("--size", type=_positive, default=64, help="width and height (default 64)")
    p.add_argument("--fps", type=float, default=12.0, help="frame rate (default 12)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--ext", choices=(".mp4", ".avi", ".mkv"), default=".mp4", help="container (default .mp4)")
    p.add_argument("--classes", type=_bounded(int, 0), default=0, help="write N visibly "
                   "different kinds (which shapes move, and how) into N subfolders, for train "
                   "--labels subfolders (2 to 8; default 0: one unlabelled set)")
    p.set_defaults(func=_make_demo)
    p = sub.add_parser("inspect-data", help="report what a folder of videos holds and what train would use")
    p.add_argument("dir", help="folder of videos")
    p.add_argument("--frame-size", type=_positive, default=64, help="frame size (default 64)")
    p.add_argument("--clip-len", type=_positive, default=1, help="clip length for the clip count (default 1)")
    p.add_argument("--frame-step", type=_positive, default=1, help="keep every n-th frame (default 1)")
    p.add_argument("--fps", type=float, help="target frame rate")
    p.add_argument("--labels", choices=("none", "subfolders"), default="none",
                   help="'subfolders': label each video by its first-level subfolder")
    p.set_defaults(func=_inspect)


def _make_demo(args):
    from keras_vidgan import data

    paths = data.make_demo_videos(
        args.dir, args.videos, args.frames, args.size, args.fps, args.seed, args.ext,
        classes=args.classes,
    )
    kinds = f" of {args.classes} classes (one subfolder each)" if args.classes else ""
    print(f"keras-vidgan: wrote {len(paths)} videos{kinds} to {os.path.abspath(args.dir)}")
    return 0


def _inspect(args):
    from keras_vidgan import data

    folder = data.load_video_folder(
        args.dir, args.frame_size, args.frame_step, args.fps, min_frames=args.clip_len,
        cache_dir=False, labels=args.labels,
    )
    print(folder.summary(args.clip_len))
    return 0


def _add_evaluate(sub):
    p = sub.add_parser(
        "evaluate",
        help="FVD, KID and frame FD of a run or an export against real clips",
        description="FVD, KID (I3D features) and frame Fréchet distance of generated videos "
        "against real clips. Fréchet distances are biased upwards at small sample counts "
        "and KID is noisy: compare only numbers computed with the same samples, frames and "
        "frame size.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", help="run folder from `train` (its newest checkpoint)")
    source.add_argument("--export", help="SavedModel from `export`: EXPORT_DIR or EXPORT_DIR/<version>")
    p.add_argument("--data", help="folder of real videos (default: the run's training data)")
    p.add_argument("--samples", type=_positive, default=_EVAL_SAMPLES,
                   help=f"real and generated clips each (default {_EVAL_SAMPLES})")
    p.add_argument("--frames", type=_positive,
                   help=f"frames per clip, >= {_I3D_MIN_FRAMES} for FVD (default: the run's num_frames)")
    p.add_argument("--seed", type=int, default=0, help="noise and clip-sampling seed (default 0)")
    p.add_argument("--no-fvd", action="store_true",
                   help="skip FVD and KID (I3D); only the frame Fréchet distance")
    p.add_argument("--batch-size", type=_positive, default=16,
                   help="videos per I3D forward pass; memory grows with it (default 16)")
    p.add_argument("--no-realism", action="store_true",
                   help="skip the C2ST (and its calibration), motion ratio and drift")
    p.add_argument("--summary", action="store_true",
                   help="one line: C2ST, motion ratio, drift, frame FD, and FVD where the "
                   "I3D weights are cached (make demo ends with it); no calibration")
    p.add_argument("--json", metavar="FILE", help="also write the results to FILE as JSON")
    p.add_argument("--cache-dir", help="frame cache folder (default ~/.cache/keras_vidgan/frames)")
    p.add_argument("--no-cache", action="store_true", help="decode the videos without a cache")
    p.set_defaults(func=_evaluate)
    return p


def _evaluate(args):
    from keras_vidgan import evaluate, scoring

    fvd = not args.no_fvd
    if args.summary:  # FVD only where it costs no download
        frames = args.frames or (RunConfig.load(args.run).num_frames if args.run else _I3D_MIN_FRAMES)
        fvd = fvd and evaluate.fvd_available(frames)
    realism = False if args.no_realism else ("brief" if args.summary else True)
    quiet = args.summary
    kwargs = dict(
        data=args.data, samples=args.samples, frames=args.frames, seed=args.seed,
        fvd=fvd, batch_size=args.batch_size, realism=realism,
        cache_dir=False if args.no_cache else args.cache_dir,
        log=(lambda message: None) if quiet else (
            lambda message: print(f"keras-vidgan: {message}", file=sys.stderr, flush=True)),
    )
    if args.run:
        results = scoring.evaluate_run(args.run, **kwargs)
    else:
        results = scoring.evaluate_export(args.export, **kwargs)
    print(evaluate.summary_line(results) if args.summary else evaluate.format_results(results))
    if args.json:
        from keras_vidgan import _files

        with _files.atomic_write(args.json) as f:
            json.dump(results, f, indent=2, sort_keys=True)
        print(f"keras-vidgan: wrote {os.path.abspath(args.json)}")
    return 0


def _add_config(sub):
    p = sub.add_parser("config", help="print the default run configuration (JSON; a start "
                       "for train --config)")
    p.set_defaults(func=lambda args: print(json.dumps(dataclasses.asdict(RunConfig()), indent=2)) or 0,
                   tensorflow=False)


def build_parser():
    """The `keras-vidgan` argument parser (imports no TensorFlow)."""
    parser = argparse.ArgumentParser(
        prog="keras-vidgan",
        description="GAN video generation with Keras 3: train on a folder of videos, "
        "sample, export for TF Serving.",
    )
    parser.add_argument("--version", action="version", version=f"keras-vidgan {__version__}")
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's start-up and C++ log lines (hidden by default)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_data_commands(sub)
    _add_train(sub)
    _add_generate(sub)
    _add_export(sub)
    _add_check_export(sub)
    _add_evaluate(sub)
    _add_summary(sub)
    _add_config(sub)
    return parser


def _import_tensorflow(verbose):
    """Imports TensorFlow with its C++ start-up lines hidden, unless --verbose.

    TF_CPP_MIN_LOG_LEVEL=3 hides its C++ log (a value set in the environment wins),
    but not the lines written while its libraries load, before its logging starts
    ("Could not find cuda drivers on your machine", twice, on every CPU host):
    stderr is pointed at /dev/null for the import alone. A failing import still
    raises its Python error as usual.
    """
    if verbose:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
        import tensorflow  # noqa: F401
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _one_line(text, limit=600):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + " ..."


def _tf_error_line(err):
    """One line for a TensorFlow file error a user can cause, or None (a bug: re-raise)."""
    tf = sys.modules.get("tensorflow")
    if tf is None or not isinstance(err, tf.errors.OpError):
        return None
    text = _one_line(err.message if hasattr(err, "message") else err)
    if "No space left on device" in text or "Disk quota exceeded" in text:
        return f"no space left on the device ({text}); free some space and run again " \
            "(finished checkpoints and exports are kept)"
    if isinstance(err, tf.errors.PermissionDeniedError) or "Permission denied" in text:
        return f"permission denied ({text}); check the owner and mode of that path"
    if isinstance(err, tf.errors.DataLossError):
        return f"a file is damaged ({text})"
    if isinstance(err, (tf.errors.NotFoundError, tf.errors.FailedPreconditionError)):
        return text
    return None


def main(argv=None):
    """Entry point of `keras-vidgan`; returns the exit code."""
    args = build_parser().parse_args(argv)
    from keras_vidgan import _files

    try:
        if getattr(args, "tensorflow", True):
            _import_tensorflow(args.verbose)
        return args.func(args)
    except (ValueError, FileNotFoundError, FileExistsError, RuntimeError) as err:
        trainer = sys.modules.get("keras_vidgan.trainer")
        if trainer is not None and isinstance(err, trainer.NonFiniteError):
            print(f"keras-vidgan: training stopped: {err}", file=sys.stderr)
            return 1
        print(f"keras-vidgan: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except OSError as err:  # disk full, permission denied, a symlink loop, ...
        print(f"keras-vidgan: error: {_files.describe_os_error(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("keras-vidgan: interrupted; the last checkpoint is saved.", file=sys.stderr)
        return 130
    except Exception as err:
        line = _tf_error_line(err)
        if line is None:
            raise
        print(f"keras-vidgan: error: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
