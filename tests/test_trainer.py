import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vidgan import models, sampling
from keras_vidgan.trainer import NonFiniteError, Trainer


def _frame_trainer(g_filters=4, d_filters=4, **kwargs):
    g = models.build_generator(z_dim=8, frame_size=16, base_filters=g_filters)
    d = models.build_discriminator(frame_size=16, base_filters=d_filters)
    return Trainer(g, d, **kwargs)


def _weights(model):
    return [w.copy() for w in model.get_weights()]


def test_one_step_changes_both_networks_with_separate_optimizers(demo_folder):
    trainer = _frame_trainer()
    g0, d0 = _weights(trainer.generator), _weights(trainer.discriminator)
    trainer.fit(demo_folder.dataset(8), steps=1)
    assert any(not np.allclose(a, b) for a, b in zip(g0, trainer.generator.get_weights()))
    assert any(not np.allclose(a, b) for a, b in zip(d0, trainer.discriminator.get_weights()))
    # listing defect 8: two optimizers, each with its own state for its own network.
    assert trainer.g_optimizer is not trainer.d_optimizer
    g_slots = {id(v) for v in trainer.g_optimizer.variables}
    d_slots = {id(v) for v in trainer.d_optimizer.variables}
    assert not g_slots & d_slots
    assert int(trainer.g_optimizer.iterations.numpy()) == 1
    assert int(trainer.d_optimizer.iterations.numpy()) == 1
    assert trainer.g_optimizer.learning_rate.numpy() == pytest.approx(2e-4)
    assert trainer.g_optimizer.beta_1 == 0.5


def test_discriminator_loss_falls_on_an_easy_dataset(demo_folder):
    """Demo frames (flat shapes on gradients) vs an untrained G: D learns fast.

    D starts near chance (2 ln 2 = 1.386; the first step's loss, taken before its
    update, measured 1.33-1.42 for initial weights of seeds 0-3) and falls within
    20 steps (steps 15-20: 1.05-1.20), before G catches up.
    """
    keras.utils.set_random_seed(1)  # initial weights: not the other tests' leftovers
    trainer = _frame_trainer(g_filters=16, d_filters=32, seed=1)
    history = trainer.fit(demo_folder.dataset(16, seed=0), steps=20)
    first, later = history["d_loss"][0], np.mean(history["d_loss"][15:20])
    assert first == pytest.approx(2 * np.log(2), abs=0.1)
    assert later < first - 0.08
    assert np.mean(history["d_real"][15:]) > np.mean(history["d_fake"][15:])


def test_short_last_batch_gets_matching_noise_and_one_trace():
    trainer = _frame_trainer()
    frames = np.random.uniform(-1, 1, (20, 16, 16, 3)).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices(frames).batch(8)  # 8, 8, 4
    history = trainer.fit(ds, steps=3)
    assert len(history["d_loss"]) == 3 and all(np.isfinite(history["g_loss"]))
    assert trainer.trace_count <= 2  # at most one retrace, for the short batch


def test_same_seed_same_first_losses(demo_folder):
    import keras

    runs = []
    for _ in range(2):
        keras.utils.set_random_seed(3)
        trainer = _frame_trainer(seed=3)
        runs.append(trainer.fit(demo_folder.dataset(8, shuffle=False), steps=3)["d_loss"])
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-5)


def test_generate_is_seeded_and_in_range():
    trainer = _frame_trainer()
    a, b = trainer.generate(3, seed=7), trainer.generate(3, seed=7)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (3, 16, 16, 3) and np.abs(a).max() <= 1
    assert not np.allclose(trainer.generate(3, seed=8), a)
    walk = trainer.generate(2, seed=7, num_frames=5)
    assert walk.shape == (2, 5, 16, 16, 3)
    np.testing.assert_allclose(walk[:, 0], a[:2], atol=1e-5)


def test_wrong_batch_shape_is_a_clear_error():
    trainer = _frame_trainer()
    clips = tf.data.Dataset.from_tensors(tf.zeros((2, 3, 16, 16, 3))).repeat()
    with pytest.raises(ValueError, match="frames"):
        trainer.fit(clips, steps=1)
    big = tf.data.Dataset.from_tensors(tf.zeros((2, 32, 32, 3))).repeat()
    with pytest.raises(ValueError, match="frame_size"):
        _frame_trainer().fit(big, steps=1)


def test_non_finite_loss_stops_and_keeps_last_checkpoint(tmp_path):
    trainer = _frame_trainer(checkpoint_dir=str(tmp_path))
    good = tf.data.Dataset.from_tensors(tf.zeros((4, 16, 16, 3))).repeat()
    trainer.fit(good, steps=2)
    saved = trainer.manager.latest_checkpoint
    bad = tf.data.Dataset.from_tensors(tf.fill((4, 16, 16, 3), np.nan)).repeat()
    with pytest.raises(NonFiniteError, match="diverged"):
        trainer.fit(bad, steps=2)
    assert trainer.manager.latest_checkpoint == saved
    fresh = _frame_trainer(checkpoint_dir=str(tmp_path))
    assert fresh.restore() == 2
    assert all(np.isfinite(w).all() for w in fresh.generator.get_weights())


@pytest.mark.parametrize("steps", [10, 2])  # 2: the signal comes during the last step
def test_sigterm_stops_between_steps_and_saves(tmp_path, steps):
    import os
    import signal

    from keras.callbacks import Callback

    class Terminate(Callback):
        def on_train_batch_end(self, batch, logs=None):
            if int(self.model.step.numpy()) == 2:
                os.kill(os.getpid(), signal.SIGTERM)

    class Record(Callback):
        seen = []

        def on_train_batch_end(self, batch, logs=None):
            self.seen.append(int(self.model.step.numpy()))

    trainer = _frame_trainer(checkpoint_dir=str(tmp_path))
    data = tf.data.Dataset.from_tensors(tf.zeros((4, 16, 16, 3))).repeat()
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt, match="signal 15"):
        trainer.fit(data, steps=steps, callbacks=[Terminate(), Record()])
    # The handler only records the signal: step 2 finishes for every callback, and the
    # loop stops before step 3 with a checkpoint of step 2.
    assert Record.seen == [1, 2]
    assert _frame_trainer(checkpoint_dir=str(tmp_path)).restore() == 2
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is put back


@pytest.mark.parametrize("loss", ["lsgan", "hinge"])
def test_other_losses_train(loss):
    trainer = _frame_trainer(loss=loss)
    ds = tf.data.Dataset.from_tensors(tf.zeros((4, 16, 16, 3))).repeat()
    initial = _weights(trainer.discriminator)
    assert np.isfinite(trainer.fit(ds, steps=2)["d_loss"]).all()
    assert any(not np.allclose(a, b) for a, b in zip(initial, trainer.discriminator.get_weights()))


def test_xla_step_runs_on_cpu():
    """The GPU path `jit_compile=True` stays real: it compiles and trains here too."""
    trainer = _frame_trainer(jit_compile=True, augment="translation,color", ema_decay=0.9)
    ds = tf.data.Dataset.from_tensors(tf.zeros((4, 16, 16, 3))).repeat()
    initial = _weights(trainer.ema_generator)
    assert np.isfinite(trainer.fit(ds, steps=2)["g_loss"]).all()
    assert any(not np.allclose(a, b) for a, b in zip(initial, trainer.ema_generator.get_weights()))


def test_augment_changes_what_the_critic_sees_and_stays_seeded(demo_folder):
    """DiffAugment draws from (seed, step): same seed, same step; off, a different step."""
    def first_logs(policy):
        keras.utils.set_random_seed(0)
        trainer = _frame_trainer(seed=1, augment=policy)
        return trainer.fit(demo_folder.dataset(8, seed=0), steps=1)

    plain, augmented = first_logs(None), first_logs("translation,color")
    assert augmented["d_real"] == first_logs("translation,color")["d_real"]
    assert augmented["d_real"] != pytest.approx(plain["d_real"], abs=1e-6)
    with pytest.raises(ValueError, match="Unknown augmentation 'flip'"):
        _frame_trainer(augment="flip")


def test_samples_are_written_every_k_steps_and_after_the_last(tmp_path):
    from keras_vidgan.callbacks import SampleWriter

    trainer = _frame_trainer()
    ds = tf.data.Dataset.from_tensors(tf.zeros((4, 16, 16, 3))).repeat()
    trainer.fit(ds, steps=5, callbacks=[SampleWriter(str(tmp_path), every=2, num_samples=4)])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["progress.gif", "step_0000002.png", "step_0000004.png", "step_0000005.png"]


def test_generator_average_follows_its_formula_and_samples(demo_folder):
    trainer = _frame_trainer(ema_decay=0.9)
    initial = _weights(trainer.generator)
    assert all(np.array_equal(a, b) for a, b in zip(initial, trainer.ema_generator.get_weights()))
    trainer.fit(demo_folder.dataset(8), steps=1)
    decay = min(0.9, 2 / 11)  # warmed up: (1 + step) / (10 + step) at step 1
    for start, live, average in zip(initial, trainer.generator.get_weights(),
                                    trainer.ema_generator.get_weights()):
        np.testing.assert_allclose(average, decay * start + (1 - decay) * live, atol=1e-6)
    assert trainer.sampling_generator is trainer.ema_generator
    z = sampling.sample_noise(2, trainer.z_dim, 5)  # samples come from the average
    samples = trainer.generate(2, seed=5)
    np.testing.assert_allclose(samples, trainer.ema_generator(z, training=False), atol=1e-6)
    assert not np.allclose(samples, trainer.generator(z, training=False), atol=1e-4)


def test_generator_average_is_checkpointed_and_restored(tmp_path, demo_folder):
    trainer = _frame_trainer(ema_decay=0.99, checkpoint_dir=str(tmp_path))
    trainer.fit(demo_folder.dataset(8), steps=3)
    restored = _frame_trainer(ema_decay=0.99, checkpoint_dir=str(tmp_path))
    assert restored.restore() == 3
    for a, b in zip(trainer.ema_generator.get_weights(), restored.ema_generator.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(trainer.generate(2, seed=1), restored.generate(2, seed=1))


def test_no_average_by_default_and_a_bad_decay_is_a_clear_error():
    trainer = _frame_trainer()
    assert trainer.ema_generator is None and trainer.sampling_generator is trainer.generator
    with pytest.raises(ValueError, match="ema_decay in \\[0, 1\\)"):
        _frame_trainer(ema_decay=1.0)


def test_checkpoint_keeps_the_position_of_the_last_data_only(tmp_path):
    trainer = _frame_trainer(checkpoint_dir=str(tmp_path))
    data = tf.data.Dataset.from_tensors(tf.zeros((4, 16, 16, 3))).repeat()
    trainer.fit(data, steps=1, data_key="first")
    trainer.fit(data, steps=1, data_key="second")
    names = {name.split("/")[0] for name, _ in tf.train.list_variables(trainer.manager.latest_checkpoint)}
    assert "data_second" in names and "data_first" not in names
