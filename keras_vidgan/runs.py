"""A training run on disk: `RUN_DIR/{config.json, checkpoints/, samples/, logs/}`.

`train_run` starts a run or continues it: when `RUN_DIR` already holds a run, its
config and newest checkpoint are restored and training goes on to `config.steps`
(`resolve_config` decides which settings a run trains with, in one place).
`load_models` restores only the models that sampling, export and evaluation use.
"""

import collections
import dataclasses
import os
import sys

import keras
import tensorflow as tf

from keras_vidgan import callbacks as callbacks_lib
from keras_vidgan import config as config_lib
from keras_vidgan import data as data_lib
from keras_vidgan import evaluate
from keras_vidgan import models as models_lib
from keras_vidgan.trainer import Trainer, adam

__all__ = [
    "LoadedRun", "load_data", "load_models", "make_trainer", "load_trainer",
    "resolve_config", "train_run",
]

LoadedRun = collections.namedtuple("LoadedRun", ["config", "models", "step"])
LoadedRun.__doc__ = """A run's config, its models (dict, G the average if kept) and step."""


def _checkpoint_dir(run_dir):
    return os.path.join(run_dir, "checkpoints")


def _no_checkpoint(run_dir):
    return FileNotFoundError(
        f"Expected a checkpoint in {_checkpoint_dir(run_dir)!r}, found none; train first."
    )


def resolve_config(run_dir, base=None, overrides=None, steps=None):
    """The settings a run in `run_dir` trains with (the one place resume is decided).

    A new run: `base` (or the defaults) with `overrides` applied. An existing run
    (`run_dir/config.json`): its saved settings; `overrides` or `base` that differ
    from them are refused rather than silently ignored or applied to half a run.
    `steps`, when given, is always applied: raising it continues a run.

    Args:
        run_dir: str. Run folder.
        base: `RunConfig` or None (e.g. from `train --config FILE.json`).
        overrides: dict of field -> value, or None (e.g. the flags given).
        steps: int or None. Total steps of the run.

    Returns:
        `(config, resuming)`: the validated `RunConfig` and whether the run exists.

    Raises:
        ValueError: settings that clash with the saved run, no data folder for a new
            run, or an invalid setting.
    """
    overrides = {k: v for k, v in (overrides or {}).items() if k != "steps"}
    resuming = os.path.exists(os.path.join(run_dir, config_lib.CONFIG_NAME))
    if resuming:
        config = config_lib.RunConfig.load(run_dir)
        asked = dict(overrides)
        if base is not None:
            asked = {**{k: v for k, v in dataclasses.asdict(base).items() if k != "steps"},
                     **asked}
        clash = {k: v for k, v in asked.items() if getattr(config, k) != v}
        if clash:
            raise ValueError(
                f"{run_dir} is an existing run with other settings ({clash}); "
                "use a new --out folder, or leave these settings out to resume."
            )
    else:
        config = (base or config_lib.RunConfig()).replace(**overrides)
        if not config.data:
            raise ValueError("Expected --data DIR for a new run (a folder of videos).")
    if steps is not None:
        config = config.replace(steps=steps)
    return config.validate(), resuming


def load_models(run_dir):
    """Restores the models of a run's newest checkpoint, and nothing else.

    No optimizer and no Trainer is built: only the generator(s) and critics are
    restored (`expect_partial`). Where the run keeps an average of G's weights
    (`g_ema`), `generator` is that average, as in samples and exports.

    Args:
        run_dir: str. Run folder (`config.json`, `checkpoints/`).

    Returns:
        `LoadedRun(config, models, step)`: `models` as `export_saved_model` takes it
        (`generator`, `discriminator`, and `residual_generator`,
        `temporal_discriminator` in video mode).

    Raises:
        FileNotFoundError: if `run_dir` has no config or no checkpoint.
    """
    config = config_lib.RunConfig.load(run_dir)
    path = tf.train.latest_checkpoint(_checkpoint_dir(run_dir))
    if not path:
        raise _no_checkpoint(run_dir)
    built = models_lib.build_models(config)
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    tracked = {k: v for k, v in built.items() if k != "generator"}
    # The trainer saves G as `generator` and its average as `ema_generator`.
    tracked["ema_generator" if config.g_ema else "generator"] = built["generator"]
    checkpoint = tf.train.Checkpoint(step=step, **tracked)
    status = checkpoint.restore(path)
    status.assert_existing_objects_matched()
    status.expect_partial()  # optimizers, the live G (if averaged), the data position
    return LoadedRun(config, built, int(step.numpy()))


def load_data(config, cache_dir=None):
    """Loads `config.data` with the run's preprocessing settings."""
    return data_lib.load_video_folder(
        config.data,
        frame_size=config.frame_size,
        frame_step=config.frame_step,
        fps=config.fps or None,
        resize=config.resize,
        min_frames=config.clip_len if config.mode == "video" else 1,
        cache_dir=cache_dir,
    )


def make_trainer(config, run_dir=None, strategy=None):
    """Builds models, optimizers and a Trainer (checkpoints in `run_dir`)."""
    strategy = strategy or tf.distribute.get_strategy()
    keras.utils.set_random_seed(config.seed)  # initial weights follow the seed
    with strategy.scope():
        built = models_lib.build_models(config, sync_bn=strategy.num_replicas_in_sync > 1)
        trainer = Trainer(
            built["generator"],
            built["discriminator"],
            residual_generator=built.get("residual_generator"),
            temporal_discriminator=built.get("temporal_discriminator"),
            loss=config.loss,
            g_optimizer=adam(config.learning_rate, config.beta_1),
            d_optimizer=adam(config.learning_rate, config.beta_1),
            frame_weight=config.frame_weight,
            temporal_weight=config.temporal_weight,
            frame_steps=config.frame_steps,
            augment=config.augment,
            seed=config.seed,
            ema_decay=config.g_ema,
            strategy=strategy,
            checkpoint_dir=_checkpoint_dir(run_dir) if run_dir else None,
        )
    return trainer


def load_trainer(run_dir):
    """Restores a run's config and newest checkpoint.

    Returns:
        `(config, trainer)`.

    Raises:
        FileNotFoundError: if `run_dir` has no config or no checkpoint.
    """
    config = config_lib.RunConfig.load(run_dir)
    trainer = make_trainer(config, run_dir)
    if trainer.restore() == 0:
        raise _no_checkpoint(run_dir)
    return config, trainer


def train_run(
    config, run_dir, steps=None, quiet=False, log=print, cache_dir=None, strategy=None,
    callbacks=None,
):
    """Trains (or continues) the run in `run_dir` up to `config.steps` steps.

    Args:
        config: `RunConfig`. Ignored when `run_dir` already holds a run: the saved
            config is used, so a resumed run needs no flags.
        run_dir: str. Run folder.
        steps: int or None. Total steps of the run, overriding the config's.
        quiet: bool. Plain log lines instead of a progress bar.
        log: callable taking a str. Where summaries go.
        cache_dir: frame cache folder (see `load_video_folder`).
        strategy: `tf.distribute.Strategy` or None.
        callbacks: list of `keras.callbacks.Callback` run beside the run's own
            (progress, TensorBoard, samples, evaluation). An epoch is
            `checkpoint_every` steps: epoch-level callbacks (`EarlyStopping`,
            `CSVLogger`) see the mean logs of each checkpoint interval.

    Returns:
        `(trainer, history)`: history as `Trainer.fit` returns it (empty if the run
        had already reached its steps).
    """
    if os.path.exists(os.path.join(run_dir, config_lib.CONFIG_NAME)):
        config = None  # the saved settings are used
    config, resuming = resolve_config(run_dir, config, steps=steps)
    if resuming:
        log(f"Resuming the run in {run_dir} (its config.json is used).")
    folder = load_data(config, cache_dir)
    clip_len = config.clip_len if config.mode == "video" else 1
    log(folder.summary(clip_len))
    config.save(run_dir)
    trainer = make_trainer(config, run_dir, strategy)
    start = trainer.restore()
    if start:
        log(f"Restored step {start} from {trainer.manager.latest_checkpoint}.")
    remaining = config.steps - start
    if remaining <= 0:
        log(f"Already trained {start} of {config.steps} steps; raise --steps to go on.")
        return trainer, callbacks_lib.TrainingHistory()
    clips = config.clip_len if config.mode == "video" else None
    dataset = folder.dataset(config.batch_size, clip_len=clips, seed=config.seed)
    cbs = [
        callbacks_lib.ProgressLogger(every=config.log_every * 10, quiet=quiet, clip_len=clips or 1),
        callbacks_lib.TensorBoardLogger(
            os.path.join(run_dir, "logs"), config.log_every, config.sample_every,
            num_frames=config.num_frames if config.mode == "video" else None,
            hparams=dataclasses.asdict(config),
        ),
        callbacks_lib.SampleWriter(
            os.path.join(run_dir, "samples"),
            config.sample_every,
            num_frames=config.num_frames if config.mode == "video" else None,
        ),
    ]
    if config.eval_every:
        cbs.append(evaluate.callback_for_run(config, folder, run_dir, config.eval_every, log=log))
    data_key = folder.fingerprint(config.batch_size, clips, config.seed)
    history = trainer.fit(
        dataset, remaining, [*cbs, *(callbacks or [])], config.checkpoint_every,
        data_key=data_key, steps_per_epoch=config.checkpoint_every,
    )
    sys.stdout.flush()
    return trainer, history
