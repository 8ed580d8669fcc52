"""A training run on disk: `RUN_DIR/{config.json, checkpoints/, samples/, logs/}`.

`train_run` starts a run or continues it: when `RUN_DIR` already holds a run, its
config and newest intact checkpoint are restored and training goes on to
`config.steps` (`resolve_config` decides which settings a run trains with, in one
place). One process at a time owns a run folder (`RUN_DIR/.lock`); a run that holds
checkpoints never starts over from step 0 unless asked (`restart`). `load_models`
restores only the models that sampling, export and evaluation use.
"""

import collections
import contextlib
import dataclasses
import glob
import os
import re
import shutil
import sys

import keras
import tensorflow as tf

from keras_vidgan import _files, evaluate
from keras_vidgan import callbacks as callbacks_lib
from keras_vidgan import config as config_lib
from keras_vidgan import data as data_lib
from keras_vidgan import models as models_lib
from keras_vidgan import precision as precision_lib
from keras_vidgan.trainer import Trainer, _is_chief, adam

__all__ = [
    "LoadedRun", "RunError", "load_data", "load_models", "make_trainer", "load_trainer",
    "newest_intact_checkpoint", "resolve_config", "train_run",
]

LoadedRun = collections.namedtuple("LoadedRun", ["config", "models", "step"])
LoadedRun.__doc__ = """A run's config, its models (dict, G the average if kept) and step."""


def _no_checkpoint(run_dir):
    return FileNotFoundError(
        f"Expected a checkpoint in {_ckpt_dir(run_dir)!r}, found none; train first."
    )


def _same_setting(saved, key, asked):
    """Whether `asked` for field `key` is what the saved run has (or resolved it to)."""
    if key == "precision_reason":
        return True  # set by the run, never asked for
    if key == "precision" and asked == precision_lib.AUTO:
        return True  # a resumed run keeps the precision it chose
    return getattr(saved, key) == asked


def resolve_config(run_dir, base=None, overrides=None, steps=None, restart=False):
    """The settings a run in `run_dir` trains with (the one place resume is decided).

    A new run: `base` (or the defaults) with `overrides` applied. An existing run
    (`run_dir/config.json`): its saved settings; `overrides` or `base` that differ
    from them are refused rather than silently ignored or applied to half a run.
    `steps`, when given, is always applied: raising it continues a run. With
    `restart`, an existing run's settings (if readable) are the base that `overrides`
    change, and the run trains anew (see `train_run`). A `data` folder is stored as
    an absolute path, so that a run resumes from any working directory.

    Args:
        run_dir: str. Run folder.
        base: `RunConfig` or None (e.g. from `train --config FILE.json`).
        overrides: dict of field -> value, or None (e.g. the flags given).
        steps: int or None. Total steps of the run.
        restart: bool. The run starts over from step 0 with these settings.

    Returns:
        `(config, resuming)`: the validated `RunConfig` and whether the run exists.

    Raises:
        ValueError: settings that clash with the saved run, no data folder for a new
            run, or an invalid setting.
    """
    overrides = {k: v for k, v in (overrides or {}).items() if k != "steps"}
    if overrides.get("data"):
        overrides["data"] = os.path.abspath(overrides["data"])  # resumes from any folder
    resuming = os.path.exists(os.path.join(run_dir, config_lib.CONFIG_NAME))
    if restart:
        saved = None
        if resuming:
            try:
                saved = config_lib.RunConfig.load(run_dir)  # its settings, then the flags
            except ValueError:
                if "data" not in overrides:
                    raise  # damaged: name it; with --data and flags the run starts anew
        # The classes come from the data again (`train_run`).
        config = (base or saved or config_lib.RunConfig()).replace(class_names=(), **overrides)
        if not config.data:
            raise ValueError("Expected --data DIR with --restart (a folder of videos).")
        resuming = False
    elif resuming:
        config = config_lib.RunConfig.load(run_dir)
        asked = dict(overrides)
        if base is not None:
            asked = {**{k: v for k, v in dataclasses.asdict(base).items() if k != "steps"},
                     **asked}
        clash = {k: v for k, v in asked.items() if not _same_setting(config, k, v)}
        if clash:
            raise ValueError(
                f"{run_dir} is an existing run with other settings ({clash}); use a new "
                "--out folder, leave these settings out to resume, or pass --restart to "
                "train it anew."
            )
    else:
        config = (base or config_lib.RunConfig()).replace(**overrides)
        if not config.data:
            raise ValueError("Expected --data DIR for a new run (a folder of videos).")
    if steps is not None:
        config = config.replace(steps=steps)
    return config.validate(), resuming


def load_models(run_dir, log=None, precision=None):
    """Restores the models of a run's newest checkpoint, and nothing else.

    No optimizer and no Trainer is built: only the generator(s) and critics are
    restored (`expect_partial`). Where the run keeps an average of G's weights
    (`g_ema`), `generator` is that average, as in samples and exports.

    Reads the newest intact checkpoint (a damaged newer one is skipped with a note),
    holding the run folder's lock shared, so a training process cannot be saving
    meanwhile.

    Args:
        run_dir: str. Run folder (`config.json`, `checkpoints/`).
        log: callable taking a str, for notes. Defaults to stderr.
        precision: str or None. The models' dtype policy, e.g. `"float32"` to serve
            a run trained in `"mixed_bfloat16"` (the weights are float32 in both);
            None: the run's own.

    Returns:
        `LoadedRun(config, models, step)`: `models` as `export_saved_model` takes it
        (`generator`, `discriminator`, and `residual_generator`,
        `temporal_discriminator` in video mode).

    Raises:
        FileNotFoundError: if `run_dir` has no config or no checkpoint.
        RunError: if no checkpoint is intact, or it does not fit the config.
        FolderBusyError: if a training process owns `run_dir`.
    """
    log = log or (lambda line: print(line, file=sys.stderr))
    config = config_lib.RunConfig.load(run_dir)
    with _files.folder_lock(run_dir, "read", shared=True):
        path = _checkpoint_to_read(run_dir, log)
        built = models_lib.build_models(config.replace(precision=precision or config.precision))
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        tracked = {k: v for k, v in built.items() if k != "generator"}
        # The trainer saves G as `generator` and its average as `ema_generator`.
        tracked["ema_generator" if config.g_ema else "generator"] = built["generator"]
        checkpoint = tf.train.Checkpoint(step=step, **tracked)
        try:
            status = checkpoint.restore(path)
            status.assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as err:
            raise _misfit(path, err) from None
        status.expect_partial()  # optimizers, the live G (if averaged), the data position
    return LoadedRun(config, built, int(step.numpy()))

CHECKPOINTS = "checkpoints"
STATE_FILE = "checkpoint"  # tf.train.CheckpointManager's state file in CHECKPOINTS
DAMAGED = "damaged"  # where damaged checkpoints are moved, in CHECKPOINTS
SUMMARY_ROWS = 12  # usable files that `train` lists (skipped ones: all; inspect-data: all)
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


def _misfit(prefix, err):
    first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
    return RunError(
        f"Checkpoint {prefix} does not fit the run's config.json ({first}); "
        "restore the run's own config.json, or use a new --out folder"
    )


def _restore(trainer, prefix):
    try:
        return trainer.restore(prefix)
    except (AssertionError, ValueError, tf.errors.OpError) as err:
        raise _misfit(prefix, err) from None


def _checkpoint_to_read(run_dir, log):
    """The newest intact checkpoint for a reader (call with the lock held, shared).

    Damaged newer checkpoints are skipped with a note and left as they are (a reader
    changes nothing). Raises RunError if none is intact, FileNotFoundError if none.
    """
    newest, damaged = newest_intact_checkpoint(run_dir)
    if newest is None:
        if damaged:
            names = ", ".join(f"{os.path.basename(p)} ({why})" for p, why in damaged)
            raise RunError(f"No intact checkpoint in {_ckpt_dir(run_dir)}: {names}; "
                           "train on (`keras-vidgan train --out RUN`) or restore a backup")
        raise _no_checkpoint(run_dir)
    for prefix, why in damaged:
        log(f"Note: checkpoint {os.path.basename(prefix)} is damaged ({why}); "
            f"using {os.path.basename(newest)}.")
    return newest


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
        labels=config.labels,
    )


def _with_classes(config, folder, run_dir):
    """`config` with the data's classes; a resumed run's must be the ones it trained on."""
    if config.class_names and tuple(config.class_names) != folder.class_names:
        raise RunError(
            f"The classes of {config.data!r} ({', '.join(folder.class_names) or 'none'}) are "
            f"not the ones the run in {run_dir} trains on ({', '.join(config.class_names)}); "
            "restore the data's subfolders, or pass --restart to train anew from step 0"
        )
    return config.replace(class_names=folder.class_names)


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
            temporal_critic=config.temporal_critic,
            frame_steps=config.frame_steps,
            augment=config.augment,
            seed=config.seed,
            ema_decay=config.g_ema,
            strategy=strategy,
            checkpoint_dir=_ckpt_dir(run_dir) if run_dir else None,
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
        newest = _checkpoint_to_read(run_dir, log)
        trainer = make_trainer(config, run_dir)
        _restore(trainer, newest)
    return config, trainer


def train_run(
    config, run_dir, steps=None, quiet=False, log=print, cache_dir=None, strategy=None,
    callbacks=None, restart=False,
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
        callbacks: list of `keras.callbacks.Callback` run beside the run's own
            (progress, TensorBoard, samples, evaluation). An epoch is
            `checkpoint_every` steps: epoch-level callbacks (`EarlyStopping`,
            `CSVLogger`) see the mean logs of each checkpoint interval.

        restart: bool. Start over from step 0 with `config`: the run's checkpoints
            are deleted. Without it, a folder that holds checkpoints is only resumed.

    Returns:
        `(trainer, history)`: history as `Trainer.fit` returns it (empty if the run
        had already reached its steps).

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
        return _train_locked(config, run_dir, steps, quiet, log, cache_dir, strategy, restart,
                             callbacks)


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


def _with_precision(config, log):
    """`config` with `"auto"` resolved for this machine and the reason recorded."""
    if config.precision_reason and config.precision != precision_lib.AUTO:
        return config  # a resumed run keeps what it chose
    chosen, reason = precision_lib.resolve(config.precision)
    if config.precision == precision_lib.AUTO:
        log(f"Precision: {chosen} ({reason}).")
    return config.replace(precision=chosen, precision_reason=reason)


def _train_locked(config, run_dir, steps, quiet, log, cache_dir, strategy, restart, callbacks):
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
    config = _with_precision(config, log)
    folder = load_data(config, cache_dir)
    config = _with_classes(config, folder, run_dir)
    clip_len = config.clip_len if config.mode == "video" else 1
    log(folder.summary(clip_len, max_rows=SUMMARY_ROWS))
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
