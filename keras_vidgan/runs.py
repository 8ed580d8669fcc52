"""A training run on disk: `RUN_DIR/{config.json, checkpoints/, samples/, logs/}`.

`train_run` starts a run or continues it: when `RUN_DIR` already holds a run, its
config and newest intact checkpoint are restored and training goes on to
`config.steps`. One process at a time owns a run folder (`RUN_DIR/.lock`); a run
that holds checkpoints never starts over from step 0 unless asked (`restart`).
"""

import contextlib
import glob
import os
import re
import shutil
import sys

import keras
import tensorflow as tf

from keras_vidgan import _files
from keras_vidgan import callbacks as callbacks_lib
from keras_vidgan import config as config_lib
from keras_vidgan import data as data_lib
from keras_vidgan.trainer import Trainer, _is_chief, adam

__all__ = [
    "load_data", "make_trainer", "load_trainer", "train_run", "newest_intact_checkpoint",
    "RunError",
]

CHECKPOINTS = "checkpoints"
STATE_FILE = "checkpoint"  # tf.train.CheckpointManager's state file in CHECKPOINTS
DAMAGED = "damaged"  # where damaged checkpoints are moved, in CHECKPOINTS
_CKPT_INDEX = re.compile(r"ckpt-(\d+)\.index")
# Temporary names of an interrupted write (and nothing else): config.json's,
# samples', TensorFlow's checkpoint folders and state file.
_RUN_LEFTOVERS = [r"config\.json\.tmp", r"\.tmp-.*"]
_CKPT_LEFTOVERS = [r"ckpt-\d+_temp", r"checkpoint\.tmp[0-9a-f]*", r"\.tmp-.*"]


class RunError(ValueError):
    """A run folder that cannot be used as asked; the message says what to do."""


def _ckpt_dir(run_dir):
    return os.path.join(run_dir, CHECKPOINTS)


def remove_leftovers(run_dir, log=print):
    """Removes the temporary files of an interrupted write in `run_dir` (call locked)."""
    removed = _files.remove_leftovers(run_dir, _RUN_LEFTOVERS)
    removed += _files.remove_leftovers(os.path.join(run_dir, "samples"), [r"\.tmp-.*"])
    removed += _files.remove_leftovers(_ckpt_dir(run_dir), _CKPT_LEFTOVERS)
    if removed:
        log(f"Removed {len(removed)} leftover temporary file(s) of an interrupted run: "
            + ", ".join(os.path.relpath(p, run_dir) for p in removed))
    return removed


def checkpoint_steps(run_dir):
    """`[(step, prefix)]` of the checkpoint files in `run_dir`, newest first."""
    found = []
    folder = _ckpt_dir(run_dir)
    if os.path.isdir(folder):
        for name in os.listdir(folder):
            match = _CKPT_INDEX.fullmatch(name)
            if match:
                found.append((int(match.group(1)), os.path.join(folder, name[:-len(".index")])))
    return sorted(found, reverse=True)


def checkpoint_damage(prefix):
    """Why the checkpoint `prefix` cannot be restored (every tensor is read), or None."""
    try:
        dtypes = tf.train.load_checkpoint(prefix).get_variable_to_dtype_map()
        names = sorted(dtypes)
        # RestoreV2 reads (and checksums) every tensor, the data position's variant too.
        tf.raw_ops.RestoreV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                             dtypes=[dtypes[n] for n in names])
    except (tf.errors.OpError, ValueError, OSError) as err:
        return str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
    return None


def newest_intact_checkpoint(run_dir):
    """`(prefix or None, [(damaged prefix, reason)])`: the newest restorable checkpoint."""
    damaged = []
    for _, prefix in checkpoint_steps(run_dir):
        reason = checkpoint_damage(prefix)
        if reason is None:
            return prefix, damaged
        damaged.append((prefix, reason))
    return None, damaged


def _state_names(run_dir):
    """Checkpoint names in the state file, newest last, or None if missing or damaged."""
    path = os.path.join(_ckpt_dir(run_dir), STATE_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    names = re.findall(r'^all_model_checkpoint_paths: "([^"]+)"$', text, re.M)
    latest = re.findall(r'^model_checkpoint_path: "([^"]+)"$', text, re.M)
    if len(latest) != 1 or not names or names[-1] != latest[0]:
        return None
    return [os.path.basename(n) for n in names]


def _write_state(run_dir, prefixes):
    """Writes the CheckpointManager's state file listing `prefixes` (oldest first)."""
    names = [os.path.basename(p) for p in prefixes]
    lines = [f'model_checkpoint_path: "{names[-1]}"']
    lines += [f'all_model_checkpoint_paths: "{n}"' for n in names]
    with _files.atomic_write(os.path.join(_ckpt_dir(run_dir), STATE_FILE)) as f:
        f.write("\n".join(lines) + "\n")


def prepare_checkpoints(run_dir, log=print):
    """Makes the newest intact checkpoint the one a resume restores; returns it.

    Damaged checkpoints newer than it are moved to `checkpoints/damaged/`; a
    missing or damaged state file, or one naming a damaged checkpoint, is written
    anew from the checkpoint files. Each change is logged.

    Returns:
        The prefix of the newest intact checkpoint, or None when there is none.

    Raises:
        RunError: if checkpoints exist and none of them is intact.
    """
    newest, damaged = newest_intact_checkpoint(run_dir)
    if damaged and newest is None:
        names = ", ".join(f"{os.path.basename(p)} ({why})" for p, why in damaged)
        raise RunError(
            f"No intact checkpoint in {_ckpt_dir(run_dir)}: {names}; nothing was changed. "
            "Restore the files from a backup, or pass --restart to train this run anew from step 0"
        )
    if newest is None:
        return None
    for prefix, why in damaged:
        target = os.path.join(_ckpt_dir(run_dir), DAMAGED)
        os.makedirs(target, exist_ok=True)
        for path in glob.glob(glob.escape(prefix) + ".*"):
            os.replace(path, os.path.join(target, os.path.basename(path)))
        log(f"Note: checkpoint {os.path.basename(prefix)} is damaged ({why}); moved it to "
            f"{target} and resuming from {os.path.basename(newest)}.")
    intact = [p for _, p in reversed(checkpoint_steps(run_dir))]
    names = _state_names(run_dir)
    if names is None or names[-1] != os.path.basename(newest):
        why = "missing or damaged" if names is None else "naming a damaged checkpoint"
        log(f"Note: the checkpoint state file {os.path.join(_ckpt_dir(run_dir), STATE_FILE)} "
            f"was {why}; rewrote it from the checkpoint files (newest: {os.path.basename(newest)}).")
        _write_state(run_dir, intact)
    return newest


def _restore(trainer, prefix):
    try:
        return trainer.restore(prefix)
    except (AssertionError, ValueError, tf.errors.OpError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise RunError(
            f"Checkpoint {prefix} does not fit the run's config.json ({first}); "
            "restore the run's own config.json, or use a new --out folder"
        ) from None


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


def load_trainer(run_dir, log=None):
    """Restores a run's config and newest intact checkpoint.

    The run folder is locked (shared) while the checkpoint is read, so that a
    training process cannot delete it meanwhile; a damaged newest checkpoint is
    skipped with a note (on stderr by default), the files are left as they are.

    Returns:
        `(config, trainer)`.

    Raises:
        FileNotFoundError: if `run_dir` has no config or no checkpoint.
        RunError: if no checkpoint is intact, or it does not fit the config.
        FolderBusyError: if a training process owns `run_dir`.
    """
    log = log or (lambda line: print(line, file=sys.stderr))
    config = config_lib.RunConfig.load(run_dir)
    with _files.folder_lock(run_dir, "read", shared=True):
        newest, damaged = newest_intact_checkpoint(run_dir)
        if newest is None:
            if damaged:
                names = ", ".join(f"{os.path.basename(p)} ({why})" for p, why in damaged)
                raise RunError(f"No intact checkpoint in {_ckpt_dir(run_dir)}: {names}; "
                               "train on (`keras-vidgan train --out RUN`) or restore a backup")
            raise FileNotFoundError(
                f"Expected a checkpoint in {_ckpt_dir(run_dir)!r}, found none; train first."
            )
        for prefix, why in damaged:
            log(f"Note: checkpoint {os.path.basename(prefix)} is damaged ({why}); "
                f"using {os.path.basename(newest)}.")
        trainer = make_trainer(config, run_dir)
        _restore(trainer, newest)
    return config, trainer


def models_of(trainer):
    """The trainer's models as the dict `export_saved_model` takes (G: `sampling_generator`)."""
    built = {"generator": trainer.sampling_generator, "discriminator": trainer.discriminator}
    if trainer.video_mode:
        built["residual_generator"] = trainer.residual_generator
        built["temporal_discriminator"] = trainer.temporal_discriminator
    return built


def train_run(
    config, run_dir, steps=None, quiet=False, log=print, cache_dir=None, strategy=None,
    restart=False,
):
    """Trains (or continues) the run in `run_dir` up to `config.steps` steps.

    The process holds `run_dir`'s lock throughout; leftovers of an interrupted
    earlier write are removed first.

    Args:
        config: `RunConfig`. Ignored when `run_dir` already holds a run: the saved
            config is used, so a resumed run needs no flags.
        run_dir: str. Run folder.
        steps: int or None. Total steps of the run, overriding the config's; not
            below the step the run has reached.
        quiet: bool. Plain log lines instead of a progress bar.
        log: callable taking a str. Where summaries go.
        cache_dir: frame cache folder (see `load_video_folder`).
        strategy: `tf.distribute.Strategy` or None.
        restart: bool. Start over from step 0 with `config`: the run's checkpoints
            are deleted. Without it, a folder that holds checkpoints is only resumed.

    Returns:
        `(trainer, history)`.

    Raises:
        RunError: for a run that cannot be resumed as asked (see the message).
        FolderBusyError: if another process owns `run_dir`.
    """
    # A multi-worker run's other workers do not own the folder (the chief keeps the
    # checkpoints; on one machine they may share --out).
    owner = strategy is None or _is_chief(strategy)
    with _files.folder_lock(run_dir, "train") if owner else contextlib.nullcontext():
        if owner:
            remove_leftovers(run_dir, log)
        return _train_locked(config, run_dir, steps, quiet, log, cache_dir, strategy, restart)


def _resume_point(config, run_dir, log, restart):
    """`(config, newest checkpoint or None)` of a run about to train."""
    has_config = os.path.exists(os.path.join(run_dir, config_lib.CONFIG_NAME))
    if restart:
        return config, None  # the checkpoints go once the new config and data are good
    if has_config:
        config = config_lib.RunConfig.load(run_dir)
        log(f"Resuming the run in {run_dir} (its config.json is used).")
    elif checkpoint_steps(run_dir):
        raise RunError(
            f"{run_dir} holds checkpoints but no {config_lib.CONFIG_NAME}; restore that file "
            "to resume, or pass --restart (with the run's flags) to train anew from step 0"
        )
    return config, prepare_checkpoints(run_dir, log)


def _train_locked(config, run_dir, steps, quiet, log, cache_dir, strategy, restart):
    config, newest = _resume_point(config, run_dir, log, restart)
    reached = int(newest.rsplit("-", 1)[1]) if newest else 0
    if steps is not None:
        if steps < reached:
            raise RunError(
                f"--steps {steps} is below the step this run reached ({reached}); pass "
                f"--steps {reached} or more to train on"
            )
        config = config.replace(steps=steps)
    config.validate()
    folder = load_data(config, cache_dir)
    clip_len = config.clip_len if config.mode == "video" else 1
    log(folder.summary(clip_len))
    if restart and os.path.isdir(_ckpt_dir(run_dir)):
        shutil.rmtree(_ckpt_dir(run_dir))
        log(f"Restarting the run in {run_dir} from step 0 (its checkpoints were deleted).")
    config.save(run_dir)
    trainer = make_trainer(config, run_dir, strategy)
    start = _restore(trainer, newest) if newest else 0
    if start:
        log(f"Restored step {start} from {newest}.")
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
