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


def test_rollout_is_x_next_equals_r_of_x_and_traces_r_once():
    """A symbolic loop: the same frames as the definition, one R in the graph at any length."""
    residual = models.build_residual_generator(z_dim=8, frame_size=16, base_filters=4)
    image = tf.random.uniform((2, 16, 16, 3), -1, 1, seed=0)
    noise = tf.random.normal((2, 8), seed=1)
    frames, frame = [image], image
    for _ in range(4):
        frame = residual({"noise": noise, "frame": frame}, training=False)
        frames.append(frame)
    video = sampling.rollout(residual, image, noise, 5)
    np.testing.assert_allclose(video, tf.stack(frames, axis=1), atol=1e-6)

    def convolutions(num_frames):
        traced = tf.function(lambda x, z: sampling.rollout(residual, x, z, num_frames))
        graph = traced.get_concrete_function(image, noise).graph.as_graph_def()
        ops = [node.op for node in graph.node]
        ops += [node.op for f in graph.library.function for node in f.node_def]
        return sum(op == "Conv2D" for op in ops)

    assert convolutions(16) == convolutions(3) > 0
    with pytest.raises(ValueError, match="num_frames >= 1"):
        sampling.rollout(residual, image, noise, 0)


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


@pytest.mark.parametrize("residual,skips", [("add", False), ("advect", False), ("kernels", False),
                                            ("advect", True), ("composite", False)])
def test_video_step_updates_all_four_networks(demo_folder, residual, skips):
    trainer = _video_trainer(z_dim=8, g_filters=4, d_filters=4, residual=residual, g_skips=skips)
    nets = [trainer.generator, trainer.residual_generator, trainer.discriminator,
            trainer.temporal_discriminator]
    before = [[w.copy() for w in n.get_weights()] for n in nets]
    history = trainer.fit(demo_folder.dataset(4, clip_len=4), steps=1)
    for net, old in zip(nets, before):
        assert any(not np.allclose(a, b) for a, b in zip(old, net.get_weights())), net.name
    assert {"t_real", "t_fake"} <= set(history)
    # each critic's losses apart, and the totals their weighted sums (weights 1 here)
    parts = ("d_loss_frame", "d_loss_temporal", "g_loss_frame", "g_loss_temporal")
    assert set(parts) <= set(history)
    np.testing.assert_allclose(history["d_loss"], np.add(history["d_loss_frame"], history["d_loss_temporal"]), rtol=1e-5)
    np.testing.assert_allclose(history["g_loss"], np.add(history["g_loss_frame"], history["g_loss_temporal"]), rtol=1e-5)


@pytest.mark.parametrize("kind", ["gaps", "clip"])
def test_temporal_critic_kinds_train_and_see_what_they_judge(demo_folder, kind, monkeypatch):
    trainer = _video_trainer(z_dim=8, g_filters=4, d_filters=4, temporal_critic=kind, clip_len=4)
    seen = []
    name = {"gaps": "gap_pairs", "clip": "clip_stack"}[kind]
    make = getattr(models, name)
    monkeypatch.setattr(models, name, lambda *a: seen.append(tuple(make(*a).shape)) or make(*a))
    critic = trainer.temporal_discriminator
    before = [w.copy() for w in critic.get_weights()]
    history = trainer.fit(demo_folder.dataset(4, clip_len=4), steps=1)
    # "gaps": 3 pairs of each of 4 clips, 7 channels; "clip": one input of 7 x 3 per clip
    expected = (12, 16, 16, 7) if kind == "gaps" else (4, 16, 16, 21)
    assert seen == [expected, expected]  # real, then generated clips
    assert any(not np.allclose(a, b) for a, b in zip(before, critic.get_weights()))
    assert np.isfinite(history["d_loss_temporal"]).all()


def test_trainer_reads_the_temporal_critic_kind_and_refuses_a_mismatch():
    g, d = models.build_generator(z_dim=8, frame_size=16, base_filters=4), models.build_discriminator(16, base_filters=4)
    r = models.build_residual_generator(z_dim=8, frame_size=16, base_filters=4)
    clip = models.build_temporal_discriminator(16, base_filters=4, kind="clip", clip_len=4)
    assert Trainer(g, d, residual_generator=r, temporal_discriminator=clip).temporal_critic == "clip"
    with pytest.raises(ValueError, match="kind='gaps'"):
        Trainer(g, d, residual_generator=r, temporal_discriminator=clip, temporal_critic="gaps")


def test_gap_pairs_are_shared_by_real_and_generated_clips_and_span_the_clip(demo_folder):
    trainer = _video_trainer(z_dim=8, g_filters=4, d_filters=4, temporal_critic="gaps", clip_len=8)
    pick = trainer._temporal_picker(64, 8)
    clips = np.broadcast_to(np.arange(8, dtype="float32")[None, :, None, None, None], (64, 8, 16, 16, 3))
    pairs = pick(clips).numpy()
    first, change = pairs[:, 0, 0, 0], pairs[:, 0, 0, 3]
    assert (change >= 1).all() and (first + change <= 7).all()  # i < j within the clip
    np.testing.assert_allclose(pairs[:, 0, 0, 6], change / 7, atol=1e-6)
    assert set(change.astype(int)) == set(range(1, 8))  # every gap occurs
    np.testing.assert_array_equal(pick(clips + 1).numpy()[..., 3:], pairs[..., 3:])  # one draw


def test_frame_steps_warm_up_the_frame_gan_first(demo_folder):
    """The first `frame_steps` steps train G and D on first frames; then all four nets."""
    trainer = _video_trainer(z_dim=8, g_filters=4, d_filters=4, frame_steps=2)
    video_nets = [trainer.residual_generator, trainer.temporal_discriminator]
    frame_nets = [trainer.generator, trainer.discriminator]
    before = [[w.copy() for w in n.get_weights()] for n in video_nets + frame_nets]
    dataset = demo_folder.dataset(4, clip_len=4)
    history = trainer.fit(dataset, steps=2)
    assert trainer.in_frame_warmup is False and "t_real" not in history
    for net, old in zip(video_nets, before):
        assert all(np.array_equal(a, b) for a, b in zip(old, net.get_weights())), net.name
    for net, old in zip(frame_nets, before[2:]):
        assert any(not np.allclose(a, b) for a, b in zip(old, net.get_weights())), net.name
    history = trainer.fit(dataset, steps=1)
    assert len(history["t_real"]) == 1
    for net, old in zip(video_nets, before):
        assert any(not np.allclose(a, b) for a, b in zip(old, net.get_weights())), net.name
    assert trainer.trace_count == 2  # one trace per kind of step


def _trainable(nets):
    return [v.numpy().copy() for net in nets for v in net.trainable_variables]


@pytest.mark.parametrize("precision", ["float32", "mixed_float16"])
def test_first_video_step_restarts_adam(demo_folder, precision):
    """After the warm-up, the video nets' first Adam step is bias-corrected: <= lr.

    Carried on, Adam's step count (50) would leave their fresh moments barely
    corrected and the first step would be about 3.5x the learning rate (16x after
    a long warm-up).
    """
    trainer = _video_trainer(z_dim=8, g_filters=4, d_filters=4, frame_steps=50,
                             precision=precision)
    dataset = demo_folder.dataset(4, clip_len=4)
    trainer.fit(dataset, steps=50)
    video_nets = [trainer.residual_generator, trainer.temporal_discriminator]
    before = _trainable(video_nets)
    trainer.fit(dataset, steps=1)
    lr = float(trainer.g_optimizer.learning_rate)
    assert lr == pytest.approx(2e-4)  # the learning rate is kept
    change = max(float(np.abs(a - b).max()) for a, b in zip(before, _trainable(video_nets)))
    assert 0.5 * lr < change <= 1.01 * lr
    for optimizer in (trainer.g_optimizer, trainer.d_optimizer):
        inner = getattr(optimizer, "inner_optimizer", optimizer)
        assert int(inner.iterations.numpy()) == 1
    trainer.fit(dataset, steps=1)  # only once: the count goes on
    assert int(getattr(trainer.g_optimizer, "inner_optimizer", trainer.g_optimizer)
               .iterations.numpy()) == 2


def test_rollout_losses_do_not_reach_the_frame_generator(demo_folder):
    """G learns from the frame discriminator only; with its weight at 0, G stays put."""
    trainer = _video_trainer(z_dim=8, g_filters=4, d_filters=4, frame_weight=0.0)
    before = [v.numpy().copy() for v in trainer.generator.trainable_variables]
    residual_before = [w.copy() for w in trainer.residual_generator.get_weights()]
    trainer.fit(demo_folder.dataset(4, clip_len=4), steps=1)
    for old, var in zip(before, trainer.generator.trainable_variables):
        np.testing.assert_array_equal(old, var.numpy())
    assert any(not np.allclose(a, b) for a, b in
               zip(residual_before, trainer.residual_generator.get_weights()))


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

    - the temporal critic scores real clips' frame pairs above generated ones
      (measured, seeds 0 and 1: mean logit 0.29 vs -0.86, 0.45 vs -0.10). Real vs
      real-shuffled-in-time is no test: it depends on which side of the real motion
      the generator errs (shuffled clips move more than real ones);
    - generated clips move: mean |x_{t+1} - x_t| within a factor 4 of the real clips'
      (measured: 0.39-0.57x), far from zero and far below uniform noise's.
    """
    trainer = _video_trainer(seed=0, batch_size=16, clip_len=4)
    trainer.fit(demo_folder.dataset(16, clip_len=4, seed=0), steps=300)
    clips = next(iter(demo_folder.dataset(64, clip_len=4, seed=1)))
    critic = trainer.temporal_discriminator
    real_score = float(tf.reduce_mean(critic(models.frame_pairs(clips), training=False)))
    fake_pairs = models.frame_pairs(trainer.generate(64, seed=0, num_frames=4))
    fake_score = float(tf.reduce_mean(critic(fake_pairs, training=False)))
    assert real_score > fake_score + 0.2

    real_motion = float(np.abs(np.diff(clips.numpy(), axis=1)).mean())
    generated = trainer.generate(16, seed=0, num_frames=8)
    motion = float(np.abs(np.diff(generated, axis=1)).mean())
    noise = np.random.default_rng(0).uniform(-1, 1, generated.shape)
    noise_motion = float(np.abs(np.diff(noise, axis=1)).mean())
    assert real_motion / 4 < motion < real_motion * 4
    assert motion < 0.3 * noise_motion


def test_augment_is_per_frame_for_the_frame_critic_per_clip_for_the_temporal_one(
    demo_folder, monkeypatch
):
    from keras_vidgan import augment

    seen = []
    original = augment.apply
    monkeypatch.setattr(augment, "apply", lambda x, *a: seen.append(x.shape.rank) or original(x, *a))
    trainer = _video_trainer(z_dim=8, g_filters=4, d_filters=4, augment="translation,color")
    history = trainer.fit(demo_folder.dataset(4, clip_len=4), steps=1)
    assert sorted(seen) == [4, 4, 5, 5]  # real and fake frames; real and fake clips
    assert np.isfinite(history["t_fake"]).all()


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_advect_rollouts_train_in_low_precision_and_under_xla(demo_folder, precision):
    """The GPU paths of `residual="advect"`: low-precision layers (the advection itself
    in float32) and an XLA-compiled step train, and rollouts keep the frames' range."""
    config = config_lib.RunConfig(mode="video", frame_size=16, z_dim=8, g_filters=4,
                                  d_filters=4, residual="advect", precision=precision)
    built = models.build_models(config)
    residual = built["residual_generator"]
    assert residual.get_layer("motion_logits").compute_dtype != "float32"
    assert residual.get_layer("advect").compute_dtype == "float32"
    trainer = Trainer(built["generator"], built["discriminator"], residual_generator=residual,
                      temporal_discriminator=built["temporal_discriminator"], jit_compile=True)
    history = trainer.fit(demo_folder.dataset(4, clip_len=3), steps=2)
    assert np.isfinite(history["g_loss"]).all()
    image = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
    video = trainer.generate(2, seed=0, num_frames=5, first_frame=image)
    assert video.dtype == np.float32 and np.abs(video).max() <= 1.0


# --- Latent motion (residual="latent", MoCoGAN-HD) ---------------------------------------


def _latent_trainer(**kwargs):
    settings = {"z_dim": 8, "g_filters": 4, "d_filters": 4, "residual": "latent",
                "frame_steps": 1, "clip_len": 3, "g_ema": 0.5, **kwargs}
    return _video_trainer(**settings)


def test_latent_motion_steps_are_bounded_and_each_frame_is_g_of_the_path():
    trainer = _latent_trainer()
    motion, g = trainer.residual_generator, trainer.sampling_generator
    assert models.is_latent_motion(motion) and not models.is_latent_motion(
        models.build_residual_generator(z_dim=8, frame_size=16, base_filters=4))
    noise = tf.random.stateless_normal((3, 8), [0, 1])
    eps = tf.random.stateless_normal((3, 4, models.MOTION_NOISE_DIM), [0, 2])
    steps = motion({"noise": noise, "motion_noise": eps})
    assert steps.shape == (3, 4, 8) and np.abs(steps).max() <= 0.2 + 1e-6
    assert np.abs(steps).max() > 0  # the noise moves
    video = sampling.latent_video(g, motion, noise, 5, motion_noise=eps)
    path = noise[:, None] + np.concatenate([np.zeros((3, 1, 8)), np.cumsum(steps, 1)], 1)
    for t in range(5):
        np.testing.assert_allclose(video[:, t], g(path[:, t], training=False), atol=1e-5)
    np.testing.assert_allclose(sampling.latent_video(g, motion, noise, 1)[:, 0],
                               g(noise, training=False), atol=1e-6)
    with pytest.raises(ValueError, match="build_latent_motion"):
        models.build_residual_generator(z_dim=8, frame_size=16, residual="latent")


def test_latent_videos_are_a_function_of_their_noise_row():
    """The motion noise is drawn from each row's noise: a video does not depend on its
    batch or position (as the export's `generate_seeded` needs), and it is N(0, 1)."""
    trainer = _latent_trainer()
    g, motion = trainer.sampling_generator, trainer.residual_generator
    noise = tf.random.stateless_normal((4, 8), [3, 4])
    whole = sampling.latent_video(g, motion, noise, 4).numpy()
    alone = sampling.latent_video(g, motion, noise[2:3], 4).numpy()
    np.testing.assert_allclose(whole[2:3], alone, atol=1e-6)
    eps = sampling.seeded_motion_noise(tf.random.stateless_normal((256, 8), [5, 6]), 15).numpy()
    assert eps.shape == (256, 15, models.MOTION_NOISE_DIM)
    assert abs(eps.mean()) < 0.02 and abs(eps.std() - 1) < 0.02
    assert not np.allclose(eps[0], eps[1])  # rows differ
    videos = trainer.generate(2, seed=1, num_frames=4)
    np.testing.assert_array_equal(videos, trainer.generate(2, seed=1, num_frames=4))
    with pytest.raises(ValueError, match="cannot start from an image"):
        trainer.generate(2, seed=1, num_frames=4, first_frame=videos[:, 0])


def test_latent_video_steps_train_the_motion_only_and_keep_g_and_its_average():
    """Warm-up steps train G; video steps train the motion model and the temporal critic,
    and leave G, the average of its weights (which draws the frames) and the frame critic
    as they were."""
    trainer = _latent_trainer(frame_steps=1)
    clips = tf.random.stateless_uniform((4, 3, 16, 16, 3), [0, 1], -1, 1)

    def weights():
        return {name: [w.copy() for w in model.get_weights()]
                for name, model in zip(("g", "ema", "motion", "d", "t"), (
                    trainer.generator, trainer.ema_generator, trainer.residual_generator,
                    trainer.discriminator, trainer.temporal_discriminator))}

    def changed(a, b):
        return {k for k in a if any(not np.array_equal(x, y) for x, y in zip(a[k], b[k]))}

    start = weights()
    trainer.train_step(clips)  # the warm-up step
    warm = weights()
    assert changed(start, warm) == {"g", "ema", "d"}
    logs = trainer.train_step(clips)  # a video step
    assert changed(warm, weights()) == {"motion", "t"}  # the frame critic sits out
    assert np.isfinite(float(logs["g_loss_temporal"])) and np.isfinite(float(logs["g_grad_norm"]))


def test_latent_motion_needs_a_warm_up_and_takes_classes(tmp_path):
    with pytest.raises(ValueError, match=r"residual 'latent' .*frame_steps \(--frame-steps\)"):
        config_lib.RunConfig(mode="video", residual="latent").validate()
    config = config_lib.RunConfig(mode="video", frame_size=16, z_dim=8, g_filters=4, d_filters=4,
                                  residual="latent", frame_steps=1, class_names=("a", "b"),
                                  labels="subfolders")
    built = models.build_models(config)
    g, motion = built["generator"], built["residual_generator"]
    assert models.is_latent_motion(motion) and models.num_classes(motion) == 2
    noise = tf.random.stateless_normal((2, 8), [0, 1])
    a, b = (sampling.latent_video(g, motion, noise, 4, tf.constant([k, k])) for k in (0, 1))
    assert a.shape == (2, 4, 16, 16, 3) and np.abs(a - b).max() > 0  # the class matters
