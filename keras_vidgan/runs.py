"""A training run on disk: `RUN_DIR/{config.json, checkpoints/, samples/, logs/}`.

`train_run` starts a run or continues it: when `RUN_DIR` already holds a run, its
config and newest checkpoint are restored and training goes on to `config.steps`.
"""

import os
import sys

import keras
import tensorflow as tf

from keras_vidgan import callbacks as callbacks_lib
from keras_vidgan import config as config_lib
from keras_vidgan import data as data_lib
from keras_vidgan.trainer import Trainer, adam

__all__ = ["load_data", "make_trainer", "load_trainer", "train_run"]


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
        built = config_lib.build_models(config, sync_bn=strategy.num_replicas_in_sync > 1)
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
            checkpoint_dir=os.path.join(run_dir, "checkpoints") if run_dir else None,
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
        raise FileNotFoundError(
            f"Expected a checkpoint in {os.path.join(run_dir, 'checkpoints')!r}, "
            "found none; train first."
        )
    return config, trainer


def models_of(trainer):
    """The trainer's models as the dict `export_saved_model` takes (G: `sampling_generator`)."""
    built = {"generator": trainer.sampling_generator, "discriminator": trainer.discriminator}
    if trainer.video_mode:
        built["residual_generator"] = trainer.residual_generator
        built["temporal_discriminator"] = trainer.temporal_discriminator
    return built


def train_run(
    config, run_dir, steps=None, quiet=False, log=print, cache_dir=None, strategy=None
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

    Returns:
        `(trainer, history)`.
    """
    if os.path.exists(os.path.join(run_dir, config_lib.CONFIG_NAME)):
        config = config_lib.RunConfig.load(run_dir)
        log(f"Resuming the run in {run_dir} (its config.json is used).")
    if steps is not None:
        config = config.replace(steps=steps)
    config.validate()
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
        return trainer, {}
    clips = config.clip_len if config.mode == "video" else None
    dataset = folder.dataset(config.batch_size, clip_len=clips, seed=config.seed)
    cbs = [
        callbacks_lib.ProgressLogger(every=config.log_every * 10, quiet=quiet),
        callbacks_lib.TensorBoardLogger(
            os.path.join(run_dir, "logs"), config.log_every, config.sample_every
        ),
        callbacks_lib.SampleWriter(
            os.path.join(run_dir, "samples"),
            config.sample_every,
            num_frames=config.num_frames if config.mode == "video" else None,
        ),
    ]
    if config.eval_every:
        from keras_vidgan import evaluate

        cbs.append(evaluate.callback_for_run(config, folder, run_dir, config.eval_every, log=log))
    data_key = folder.fingerprint(config.batch_size, clips, config.seed)
    history = trainer.fit(dataset, remaining, cbs, config.checkpoint_every, data_key=data_key)
    sys.stdout.flush()
    return trainer, history
