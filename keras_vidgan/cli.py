"""The `keras-vidgan` command line: a thin layer over the library.

    keras-vidgan make-demo-data DIR
    keras-vidgan inspect-data DIR
    keras-vidgan train --data DIR --out RUN_DIR [--mode video] [--steps N] ...
    keras-vidgan generate --run RUN_DIR --out FILE [--frames N] [--from-image IMG]
    keras-vidgan export --run RUN_DIR --out EXPORT_DIR [--version N]
    keras-vidgan check-export EXPORT_DIR
    keras-vidgan evaluate --run RUN_DIR | --export EXPORT_DIR --data DIR
    keras-vidgan config

Errors print one line and exit with 2 (bad input, a full disk, a busy or damaged run
folder), 1 (training diverged) or 130 (interrupted); see README, What is guaranteed.
"""

import argparse
import dataclasses
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__all__ = ["main"]


def _positive(value):
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, received: {value}")
    return number


def _add_train(sub):
    from keras_vidgan import models
    from keras_vidgan.config import PRECISIONS, RunConfig

    d = RunConfig()
    p = sub.add_parser("train", help="train a GAN on a folder of videos (resumes RUN_DIR)")
    p.add_argument("--data", help="folder of training videos (searched recursively)")
    p.add_argument("--out", required=True, help="run folder: config, checkpoints, samples, logs")
    p.add_argument("--mode", choices=("frame", "video"), help=f"frame GAN or video GAN (default {d.mode})")
    p.add_argument("--steps", type=_positive, help=f"total training steps of the run (default {d.steps})")
    p.add_argument("--frame-steps", type=int, help="video mode: the first N of --steps train the "
                   f"frame GAN alone, a cheap warm-up (default {d.frame_steps})")
    p.add_argument("--residual", choices=models.RESIDUALS, help="video mode: 'add' a generated "
                   "residual to each frame (the document's) or 'advect' the frame's pixels "
                   f"(default {d.residual}; see README, Quality)")
    p.add_argument("--augment", help="DiffAugment of the critics' inputs: 'translation,color', "
                   f"either one, or 'none' (default {d.augment}; see README, Quality)")
    p.add_argument("--batch-size", type=_positive, help=f"global batch size (default {d.batch_size})")
    p.add_argument("--frame-size", type=_positive, help=f"frame height and width, power of two >= 16 (default {d.frame_size})")
    p.add_argument("--loss", choices=("bce", "lsgan"), help=f"GAN loss (default {d.loss})")
    p.add_argument("--z-dim", type=_positive, help=f"noise length (default {d.z_dim})")
    p.add_argument("--g-filters", type=_positive, help=f"generator width at full size, doubled per stage (default {d.g_filters})")
    p.add_argument("--d-filters", type=_positive, help=f"discriminator width at full size (default {d.d_filters})")
    p.add_argument("--clip-len", type=_positive, help=f"frames per training clip, video mode (default {d.clip_len})")
    p.add_argument("--num-frames", type=_positive, help=f"frames of sample and exported videos (default {d.num_frames})")
    p.add_argument("--frame-step", type=_positive, help=f"keep every n-th source frame (default {d.frame_step})")
    p.add_argument("--fps", type=float, help="target frame rate; overrides --frame-step per file")
    p.add_argument("--resize", choices=("crop", "letterbox"), help=f"how frames are made square (default {d.resize})")
    p.add_argument("--learning-rate", type=float, help=f"Adam learning rate of G and D (default {d.learning_rate})")
    p.add_argument("--temporal-weight", type=float, help=f"weight of the temporal critic (default {d.temporal_weight})")
    p.add_argument("--d-batch-norm", action="store_true", default=None,
                   help="BatchNorm in the discriminators (§3.1.2; off by default, see README)")
    p.add_argument("--d-minibatch-stddev", action="store_true", default=None,
                   help="a minibatch-stddev feature in the discriminators against dropped "
                   "modes (off by default, on in make demo; see README, Quality)")
    p.add_argument("--g-ema", type=float, help="keep a moving average of G's weights with this "
                   "decay, e.g. 0.999, and sample and export with it (default 0: none; see "
                   "README, Quality)")
    p.add_argument("--seed", type=int, help=f"random seed (default {d.seed})")
    p.add_argument("--precision", choices=PRECISIONS, help=f"compute precision (default {d.precision})")
    p.add_argument("--eval-every", type=int, help="steps between evaluations (FVD with >= 9 "
                   "frames and cached I3D weights, else frame FD) into TensorBoard; 0: off")
    p.add_argument("--checkpoint-every", type=_positive, help=f"steps between checkpoints (default {d.checkpoint_every})")
    p.add_argument("--sample-every", type=int, help=f"steps between samples, 0 for none (default {d.sample_every})")
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
    from keras_vidgan import config as config_lib
    from keras_vidgan import runs

    fields = {f.name for f in dataclasses.fields(config_lib.RunConfig)}
    given = {k: v for k, v in vars(args).items() if k in fields and v is not None and k != "steps"}
    if given.get("data"):
        given["data"] = os.path.abspath(given["data"])  # resumes from any folder
    has_config = os.path.exists(os.path.join(args.out, config_lib.CONFIG_NAME))
    if args.restart:
        base = config_lib.RunConfig()
        if has_config:
            try:
                base = config_lib.RunConfig.load(args.out)  # the run's settings, then the flags
            except ValueError:
                if "data" not in given:
                    raise  # damaged: name it; with --data and flags the run starts anew
        config = base.replace(**given)
        if not config.data:
            raise ValueError("Expected --data DIR with --restart (a folder of videos).")
    else:
        if not has_config and not args.data:
            raise ValueError("Expected --data DIR for a new run (a folder of videos).")
        if has_config and given:
            saved = config_lib.RunConfig.load(args.out)
            clash = {k: v for k, v in given.items() if getattr(saved, k) != v}
            if clash:
                raise ValueError(
                    f"{args.out} is an existing run with other settings ({clash}); "
                    "use a new --out folder, leave these flags out to resume, or pass "
                    "--restart to train it anew."
                )
        config = config_lib.RunConfig(**given)
    print(f"keras-vidgan: run folder {os.path.abspath(args.out)}")
    cache = False if args.no_cache else args.cache_dir
    trainer, history = runs.train_run(
        config, args.out, steps=args.steps, quiet=args.quiet, cache_dir=cache,
        strategy=_strategy(args.distribute), restart=args.restart,
    )
    print(f"keras-vidgan: trained to step {int(trainer.step.numpy())}; "
          f"checkpoints in {os.path.abspath(os.path.join(args.out, 'checkpoints'))}")
    return 0


def _add_generate(sub):
    p = sub.add_parser("generate", help="write samples of a trained run")
    p.add_argument("--run", required=True, help="run folder from `train`")
    p.add_argument("--out", required=True, help="output file: .mp4, .avi, .mkv, .gif or .png (grid)")
    p.add_argument("--n", type=_positive, default=4, help="number of samples, tiled in a grid (default 4)")
    p.add_argument("--frames", type=_positive, help="frames per video (default: the run's num_frames; 1 for a still grid)")
    p.add_argument("--from-image", help="image-to-video: start every video from this image (video mode)")
    p.add_argument("--seed", type=int, default=0, help="noise seed; the same seed gives the same output (default 0)")
    p.add_argument("--fps", type=float, default=8.0, help="frames per second of the video (default 8)")
    p.set_defaults(func=_generate)


def _generate(args):
    import numpy as np

    from keras_vidgan import runs, video_io

    config, trainer = runs.load_trainer(args.run)
    frames = args.frames or config.num_frames
    first = _read_image(args.from_image, config.frame_size, args.n) if args.from_image else None
    if first is not None and not trainer.video_mode:
        raise ValueError("--from-image needs a video-mode run (train --mode video).")
    if frames == 1 or args.out.lower().endswith(".png"):
        samples = trainer.generate(args.n, seed=args.seed)
        path = video_io.save_grid(args.out, samples)
    else:
        videos = trainer.generate(args.n, seed=args.seed, num_frames=frames, first_frame=first)
        tiles = np.stack([video_io.grid(videos[:, t]) for t in range(videos.shape[1])])
        path = video_io.write_any(args.out, tiles, args.fps)
    print(f"keras-vidgan: wrote {os.path.abspath(path)}")
    return 0


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
    p = sub.add_parser("export", help="export a run as a TF Serving SavedModel")
    p.add_argument("--run", required=True, help="run folder from `train`")
    p.add_argument("--out", required=True, help="model base path: versions go to OUT/<version>")
    p.add_argument("--version", type=_positive, help="version number (default: the next free one)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing version")
    p.add_argument("--max-batch", type=_positive, default=256, help="largest accepted batch (default 256)")
    p.add_argument("--frames", type=_positive, help="frames per exported video (default: the run's num_frames)")
    p.set_defaults(func=_export)


def _export(args):
    from keras_vidgan import export, runs

    config, trainer = runs.load_trainer(args.run)
    path = export.export_saved_model(
        runs.models_of(trainer),
        args.out,
        version=args.version,
        overwrite=args.overwrite,
        num_frames=args.frames or config.num_frames,
        max_batch=args.max_batch,
        config=dataclasses.asdict(config),
    )
    print(f"keras-vidgan: exported step {int(trainer.step.numpy())} to {os.path.abspath(path)}")
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
    p.add_argument("--videos", type=_positive, default=8, help="number of videos (default 8)")
    p.add_argument("--frames", type=_positive, default=48, help="frames per video (default 48)")
    p.add_argument("--size", type=_positive, default=64, help="width and height (default 64)")
    p.add_argument("--fps", type=float, default=12.0, help="frame rate (default 12)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--ext", choices=(".mp4", ".avi", ".mkv"), default=".mp4", help="container (default .mp4)")
    p.set_defaults(func=_make_demo)
    p = sub.add_parser("inspect-data", help="report what a folder of videos holds and what train would use")
    p.add_argument("dir", help="folder of videos")
    p.add_argument("--frame-size", type=_positive, default=64, help="frame size (default 64)")
    p.add_argument("--clip-len", type=_positive, default=1, help="clip length for the clip count (default 1)")
    p.add_argument("--frame-step", type=_positive, default=1, help="keep every n-th frame (default 1)")
    p.add_argument("--fps", type=float, help="target frame rate")
    p.set_defaults(func=_inspect)


def _make_demo(args):
    from keras_vidgan import data

    paths = data.make_demo_videos(
        args.dir, args.videos, args.frames, args.size, args.fps, args.seed, args.ext
    )
    print(f"keras-vidgan: wrote {len(paths)} videos to {os.path.abspath(args.dir)}")
    return 0


def _inspect(args):
    from keras_vidgan import data

    folder = data.load_video_folder(
        args.dir, args.frame_size, args.frame_step, args.fps, min_frames=args.clip_len,
        cache_dir=False,
    )
    print(folder.summary(args.clip_len))
    return 0


def _add_config(sub):
    p = sub.add_parser("config", help="print the default run configuration (JSON)")
    p.set_defaults(func=lambda args: print(json.dumps(_default_config(), indent=2)) or 0)


def _default_config():
    from keras_vidgan.config import RunConfig

    return dataclasses.asdict(RunConfig())


def build_parser():
    from keras_vidgan import __version__

    parser = argparse.ArgumentParser(
        prog="keras-vidgan",
        description="GAN video generation with Keras 3: train on a folder of videos, "
        "sample, export for TF Serving.",
    )
    parser.add_argument("--version", action="version", version=f"keras-vidgan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_data_commands(sub)
    _add_train(sub)
    _add_generate(sub)
    _add_export(sub)
    _add_check_export(sub)
    from keras_vidgan import evaluate

    evaluate.add_parser(sub)
    _add_config(sub)
    return parser


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
    from keras_vidgan.trainer import NonFiniteError

    try:
        return args.func(args)
    except NonFiniteError as err:
        print(f"keras-vidgan: training stopped: {err}", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError, FileExistsError, RuntimeError) as err:
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
