"""Video mode (§3.1.1 step 3): residual rollouts, temporal critic, image-to-video."""

import numpy as np
import pytest
import tensorflow as tf

from keras_vidgan import config as config_lib
from keras_vidgan import models, runs, sampling
from keras_vidgan.trainer import Trainer


def _video_trainer(frame_size=16, seed=0, **kwargs):
    config = config_lib.RunConfig(mode="video", frame_size=frame_size, seed=seed, **kwargs)
    return runs.make_trainer(config)


def test_video_shapes_and_video_from_noise_starts_at_g():
    trainer = _video_trainer(z_dim=8, g_filters=4, d_filters=4)
    videos = trainer.generate(3, seed=1, num_frames=6)
    assert videos.shape == (3, 6, 16, 16, 3) and np.abs(videos).max() <= 1
    np.testing.assert_allclose(videos[:, 0], trainer.generate(3, seed=1), atol=1e-6)


def test_rollout_from_an_image_starts_at_that_image():
    trainer = _video_trainer(z_dim=8, g_filters=4, d_filters=4)
    image = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
    videos = trainer.generate(2, seed=0, num_frames=4, first_frame=image)
    np.testing.assert_array_equal(videos[:, 0], image)
    assert not np.allclose(videos[:, 1], image)


def test_different_noise_gives_different_videos():
    """Document §6: different random noise gives different video content."""
    trainer = _video_trainer(z_dim=8, g_filters=4, d_filters=4)
    a, b = trainer.generate(2, seed=1, num_frames=4), trainer.generate(2, seed=2, num_frames=4)
    np.testing.assert_array_equal(a, trainer.generate(2, seed=1, num_frames=4))
    assert np.abs(a - b).mean() > 1e-3
    image = np.zeros((2, 16, 16, 3), "float32")
    c = trainer.generate(2, seed=1, num_frames=4, first_frame=image)
    d = trainer.generate(2, seed=2, num_frames=4, first_frame=image)
    assert np.abs(c[:, 1:] - d[:, 1:]).mean() > 1e-4  # same image, other noise, other motion


def test_video_step_updates_all_four_networks(demo_folder):
    trainer = _video_trainer(z_dim=8, g_filters=4, d_filters=4)
    nets = [trainer.generator, trainer.residual_generator, trainer.discriminator,
            trainer.temporal_discriminator]
    before = [[w.copy() for w in n.get_weights()] for n in nets]
    history = trainer.fit(demo_folder.dataset(4, clip_len=4), steps=1)
    for net, old in zip(nets, before):
        assert any(not np.allclose(a, b) for a, b in zip(old, net.get_weights())), net.name
    assert {"t_real", "t_fake"} <= set(history)


def test_video_mode_needs_clips():
    trainer = _video_trainer(z_dim=8, g_filters=4, d_filters=4)
    frames = tf.data.Dataset.from_tensors(tf.zeros((2, 16, 16, 3))).repeat()
    with pytest.raises(ValueError, match="clips"):
        trainer.fit(frames, steps=1)
    with pytest.raises(ValueError, match="both"):
        Trainer(trainer.generator, trainer.discriminator, residual_generator=trainer.residual_generator)


def test_latent_walk_is_smooth():
    g = models.build_generator(z_dim=8, frame_size=16, base_filters=4)
    start, end = np.random.default_rng(0).standard_normal((2, 1, 8)).astype("float32")
    walk = sampling.latent_walk(g, start, end, 9).numpy()
    steps = np.abs(np.diff(walk, axis=1)).mean(axis=(0, 2, 3, 4))
    assert steps.max() < np.abs(walk[:, -1] - walk[:, 0]).mean()  # no jump as big as the whole walk


@pytest.mark.slow
def test_trained_video_gan_learns_motion(demo_folder):
    """After a short training on the demo data (300 steps at 16x16, ~15 s):

    - the temporal critic scores real clips above the same clips shuffled in time;
    - generated clips move: mean |x_{t+1} - x_t| within a factor 4 of the real clips'
      (measured: 1.4-2.6x), far from zero and far below uniform noise's.
    """
    trainer = _video_trainer(seed=0, batch_size=16, clip_len=4)
    trainer.fit(demo_folder.dataset(16, clip_len=4, seed=0), steps=300)
    clips = next(iter(demo_folder.dataset(64, clip_len=4, seed=1)))
    shuffled = tf.gather(clips, [1, 3, 0, 2], axis=1)
    critic = trainer.temporal_discriminator
    real_score = float(tf.reduce_mean(critic(models.frame_pairs(clips), training=False)))
    shuffled_score = float(tf.reduce_mean(critic(models.frame_pairs(shuffled), training=False)))
    assert real_score > shuffled_score

    real_motion = float(np.abs(np.diff(clips.numpy(), axis=1)).mean())
    generated = trainer.generate(16, seed=0, num_frames=8)
    motion = float(np.abs(np.diff(generated, axis=1)).mean())
    noise = np.random.default_rng(0).uniform(-1, 1, generated.shape)
    noise_motion = float(np.abs(np.diff(noise, axis=1)).mean())
    assert real_motion / 4 < motion < real_motion * 4
    assert motion < 0.3 * noise_motion
