"""`Trainer.fit` drives Keras's own callbacks, and the project's are Keras callbacks."""

import csv
import glob
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vidgan import callbacks as callbacks_lib
from keras_vidgan import models
from keras_vidgan.trainer import NonFiniteError, Trainer


def _trainer(**kwargs):
    g = models.build_generator(z_dim=8, frame_size=16, base_filters=4)
    d = models.build_discriminator(frame_size=16, base_filters=4)
    return Trainer(g, d, **kwargs)


def _zeros():
    return tf.data.Dataset.from_tensors(tf.zeros((4, 16, 16, 3))).repeat()


def _tags(log_dir):
    tags = set()
    for path in glob.glob(os.path.join(log_dir, "**", "events.out.tfevents.*"), recursive=True):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(value.tag for value in event.summary.value)
    return tags


def test_project_callbacks_are_keras_callbacks():
    for cls in (callbacks_lib.ProgressLogger, callbacks_lib.TensorBoardLogger,
                callbacks_lib.SampleWriter, callbacks_lib.TrainingHistory):
        assert issubclass(cls, keras.callbacks.Callback)
    from keras_vidgan.evaluate import EvaluationCallback

    assert issubclass(EvaluationCallback, keras.callbacks.Callback)


def test_lambda_and_csv_logger_get_the_logs_keras_passes(tmp_path):
    seen = {"begin": 0, "batches": [], "epochs": [], "model": None}
    lam = keras.callbacks.LambdaCallback(
        on_train_begin=lambda logs: seen.update(begin=seen["begin"] + 1),
        on_train_batch_end=lambda batch, logs: seen["batches"].append((batch, dict(logs))),
        on_epoch_end=lambda epoch, logs: seen["epochs"].append((epoch, dict(logs))),
    )
    path = tmp_path / "log.csv"
    trainer = _trainer()
    history = trainer.fit(_zeros(), 6, callbacks=[keras.callbacks.CSVLogger(str(path)), lam],
                          steps_per_epoch=3)
    assert lam.model is trainer and seen["begin"] == 1
    assert [b for b, _ in seen["batches"]] == [0, 1, 2, 0, 1, 2]  # index within the epoch
    logs = seen["batches"][0][1]
    assert {"d_loss", "g_loss", "d_real", "d_fake", "loss"} <= set(logs)
    assert all(isinstance(v, float) for v in logs.values())
    assert logs["loss"] == pytest.approx(logs["d_loss"] + logs["g_loss"])
    # An epoch's logs are the means of its steps' logs.
    first = np.mean([logs["d_loss"] for _, logs in seen["batches"][:3]])
    assert [e for e, _ in seen["epochs"]] == [0, 1]
    assert seen["epochs"][0][1]["d_loss"] == pytest.approx(first)
    with open(path) as f:
        rows = list(csv.DictReader(f))
    assert [row["epoch"] for row in rows] == ["0", "1"]
    assert float(rows[0]["d_loss"]) == pytest.approx(first)
    # fit returns a keras History that lists every step.
    assert isinstance(history, keras.callbacks.History) and trainer.history is history
    assert history.history["step"] == [1, 2, 3, 4, 5, 6] and len(history["g_loss"]) == 6
    assert history.epoch == [0, 1] and len(history.epoch_history["d_loss"]) == 2


def test_early_stopping_on_a_logged_value_stops_and_saves(tmp_path):
    trainer = _trainer(checkpoint_dir=str(tmp_path))
    # d_real never rises by 1.0: no improvement after the first epoch, patience 1.
    stop = keras.callbacks.EarlyStopping(monitor="d_real", mode="max", min_delta=1.0,
                                         patience=1)
    trainer.fit(_zeros(), 100, callbacks=[stop], steps_per_epoch=2)
    assert int(trainer.step.numpy()) == 4 and stop.stopped_epoch == 1
    assert trainer.stop_training and trainer.completed
    assert _trainer(checkpoint_dir=str(tmp_path)).restore() == 4  # saved where it stopped


def test_stop_training_from_a_batch_hook_ends_after_that_step():
    trainer = _trainer()
    halt = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: setattr(
            trainer, "stop_training", int(trainer.step.numpy()) == 3)
    )
    history = trainer.fit(_zeros(), 50, callbacks=[halt])
    assert int(trainer.step.numpy()) == 3 and history["step"] == [1, 2, 3]


def test_terminate_on_nan_sees_the_step_and_nothing_is_saved(tmp_path, capsys):
    trainer = _trainer(checkpoint_dir=str(tmp_path))
    trainer.fit(_zeros(), 2)
    saved = trainer.manager.latest_checkpoint
    nan = tf.data.Dataset.from_tensors(tf.fill((4, 16, 16, 3), np.nan)).repeat()
    terminate = keras.callbacks.TerminateOnNaN()
    with pytest.raises(NonFiniteError, match="diverged"):
        trainer.fit(nan, 5, callbacks=[terminate])
    assert "Invalid loss, terminating training" in capsys.readouterr().out
    assert trainer.stop_training and not trainer.completed
    assert trainer.manager.latest_checkpoint == saved  # the poisoned step is not saved


def test_keras_tensorboard_beside_the_projects_own(tmp_path):
    trainer = _trainer()
    ours = callbacks_lib.TensorBoardLogger(str(tmp_path / "ours"), every=1, sample_every=2,
                                           num_samples=4)
    theirs = keras.callbacks.TensorBoard(str(tmp_path / "keras"), update_freq=1)
    trainer.fit(_zeros(), 4, callbacks=[ours, theirs], steps_per_epoch=2)
    assert {"d_loss", "g_loss", "steps_per_second", "samples"} <= _tags(tmp_path / "ours")
    keras_tags = _tags(tmp_path / "keras")
    # Per step (update_freq=1) and per epoch, with the learning rate of G's Adam.
    assert {"batch_d_loss", "epoch_d_loss", "epoch_learning_rate"} <= keras_tags
