import keras
import numpy as np
import pytest

from keras_vidgan import models


@pytest.mark.parametrize("frame_size", [16, 32, 64, 128])
def test_generator_and_discriminator_shapes(frame_size):
    g = models.build_generator(z_dim=8, frame_size=frame_size, base_filters=4)
    d = models.build_discriminator(frame_size=frame_size, base_filters=4)
    frames = g(np.random.randn(3, 8).astype("float32"), training=False)
    assert tuple(frames.shape) == (3, frame_size, frame_size, 3)
    assert np.all(np.abs(frames) <= 1.0)
    assert tuple(d(frames, training=False).shape) == (3, 1)


def test_document_design_corrected():
    """Sequential, named inputs, Dense->Reshape->ConvT+BN+ReLU->tanh; no BN before tanh."""
    g = models.build_generator()
    d = models.build_discriminator()
    assert isinstance(g, keras.Sequential) and isinstance(d, keras.Sequential)
    assert g.inputs[0].name == "noise" and d.inputs[0].name == "frames"
    # BatchNorm: Keras's layer, on TensorFlow's fused kernel (keras_vidgan.norm).
    kinds = ["BatchNormalization" if isinstance(layer, keras.layers.BatchNormalization)
             else type(layer).__name__ for layer in g.layers]
    assert kinds[:4] == ["Dense", "BatchNormalization", "ReLU", "Reshape"]
    assert kinds.count("Conv2DTranspose") == 4  # 4x4 -> 64x64 (listing defect 2)
    assert kinds[-2:] == ["Conv2D", "Activation"]  # listing defects 3-4
    assert g.layers[-1].get_config()["activation"] == "tanh"
    assert g.get_layer("reshape").output.shape[1:] == (4, 4, 256)  # listing defect 1
    assert d.layers[-1].get_config()["activation"] == "linear"  # logits


def test_with_sigmoid_is_probability_sharing_weights():
    d = models.build_discriminator(frame_size=16, base_filters=4)
    p = models.with_sigmoid(d)
    x = np.random.uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
    logits = keras.ops.convert_to_numpy(d(x, training=False))
    probs = keras.ops.convert_to_numpy(p(x, training=False))
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-logits)), rtol=1e-5)
    assert len(p.trainable_weights) == len(d.trainable_weights)


@pytest.mark.parametrize("bad", [8, 24, 100])
def test_bad_frame_size_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="power of two"):
        models.build_generator(frame_size=bad)


def test_mixed_precision_outputs_stay_float32():
    g = models.build_generator(z_dim=8, frame_size=16, base_filters=4, dtype="mixed_bfloat16")
    d = models.build_discriminator(frame_size=16, base_filters=4, dtype="mixed_bfloat16")
    frames = g(np.zeros((1, 8), "float32"))
    assert frames.dtype == "float32" and d(frames).dtype == "float32"
    assert g.get_layer("up0").compute_dtype == "bfloat16"


def test_residual_generator_zero_residual_returns_input_exactly():
    """§3.1.1 step 3: next = input frame + generated residual; zero residual -> identity."""
    r = models.build_residual_generator(z_dim=8, frame_size=16, base_filters=4)
    last = r.get_layer("to_residual")
    last.set_weights([np.zeros_like(w) for w in last.get_weights()])
    frame = np.random.uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
    out = r({"noise": np.random.randn(2, 8).astype("float32"), "frame": frame}, training=False)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out), frame)
    assert sorted(i.name for i in r.inputs) == ["frame", "noise"]


def test_residual_head_sees_the_input_frame_at_full_resolution():
    """The residual depends on each pixel of the frame, not only on the bottleneck."""
    r = models.build_residual_generator(z_dim=8, frame_size=16, base_filters=4)
    assert r.get_layer("frame_and_features").output.shape[1:3] == (16, 16)
    noise = np.random.randn(1, 8).astype("float32")
    frame = np.zeros((1, 16, 16, 3), "float32")
    moved = frame.copy()
    moved[0, 8, 8] = 1.0  # one pixel: beside it, the residual changes too
    a = keras.ops.convert_to_numpy(r({"noise": noise, "frame": frame}, training=False))
    b = keras.ops.convert_to_numpy(r({"noise": noise, "frame": moved}, training=False))
    assert np.abs(b - a)[0, 7:10, 7:10].sum() > np.abs(b - a)[0, :4, :4].sum()


def test_temporal_discriminator_on_frame_pairs():
    t = models.build_temporal_discriminator(frame_size=16, base_filters=4)
    videos = np.random.uniform(-1, 1, (2, 5, 16, 16, 3)).astype("float32")
    pairs = keras.ops.convert_to_numpy(models.frame_pairs(videos))
    assert pairs.shape == (8, 16, 16, 6)
    np.testing.assert_allclose(pairs[1, ..., 3:], videos[0, 2] - videos[0, 1], atol=1e-6)
    assert tuple(t(pairs).shape) == (8, 1)


def test_gap_pairs_hold_two_frames_their_change_and_the_gap():
    videos = np.random.uniform(-1, 1, (2, 5, 16, 16, 3)).astype("float32")
    first, second = np.array([[0, 1], [2, 0]]), np.array([[4, 2], [3, 1]])
    pairs = keras.ops.convert_to_numpy(models.gap_pairs(videos, first, second))
    assert pairs.shape == (4, 16, 16, 7)
    np.testing.assert_allclose(pairs[2, ..., :3], videos[1, 2], atol=1e-6)  # clip 1, pair 0
    np.testing.assert_allclose(pairs[2, ..., 3:6], videos[1, 3] - videos[1, 2], atol=1e-6)
    np.testing.assert_allclose(pairs[:, 0, 0, 6], [1.0, 0.25, 0.25, 0.25], atol=1e-6)  # gap / (T-1)
    t = models.build_temporal_discriminator(frame_size=16, base_filters=4, kind="gaps")
    assert tuple(t(pairs).shape) == (4, 1)


def test_clip_stack_is_every_frame_then_every_change_per_clip():
    videos = np.random.uniform(-1, 1, (2, 4, 16, 16, 3)).astype("float32")
    stacked = keras.ops.convert_to_numpy(models.clip_stack(videos))
    assert stacked.shape == (2, 16, 16, 21)
    np.testing.assert_allclose(stacked[1, ..., 6:9], videos[1, 2], atol=1e-6)
    np.testing.assert_allclose(stacked[1, ..., 12:15], videos[1, 1] - videos[1, 0], atol=1e-6)
    t = models.build_temporal_discriminator(frame_size=16, base_filters=4, kind="clip", clip_len=4)
    assert tuple(t(stacked).shape) == (2, 1)


def test_unknown_temporal_critic_is_a_clear_error():
    with pytest.raises(ValueError, match="kind"):
        models.build_temporal_discriminator(frame_size=16, kind="3d")


def test_advection_with_one_hot_weights_shifts_pixels():
    """`Advection`: a one-hot weight on offset (0, +1) moves every pixel one to the left.

    To float32 rounding: on some CPUs TF's softmax of these logits gives 0.99999994, not 1.
    """
    frame = np.random.default_rng(0).uniform(-1, 1, (1, 8, 8, 3)).astype("float32")
    logits = np.full((1, 8, 8, 9), -50.0, "float32")
    logits[..., 5] = 50.0  # 3x3 taps in row-major order: index 5 is (dy, dx) = (0, +1)
    out = keras.ops.convert_to_numpy(models.Advection(3)([frame, logits]))
    np.testing.assert_allclose(out[0, :, :-1], frame[0, :, 1:], rtol=1e-6, atol=0)
    np.testing.assert_allclose(out[0, :, -1], frame[0, :, -1], rtol=1e-6, atol=0)  # mirrored border


def test_advection_keeps_colours_and_range():
    """Convex weights: a flat frame stays flat, any frame stays within its own range."""
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 3, (2, 8, 8, 25)).astype("float32")
    flat = np.broadcast_to(np.float32([0.2, -0.7, 0.9]), (2, 8, 8, 3))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(models.Advection(5)([flat, logits])),
                               flat, atol=1e-6)
    frame = rng.uniform(-0.5, 0.8, (2, 8, 8, 3)).astype("float32")
    out = keras.ops.convert_to_numpy(models.Advection(5)([frame, logits]))
    assert out.min() >= frame.min() - 1e-6 and out.max() <= frame.max() + 1e-6
    with pytest.raises(ValueError, match="odd `size`"):
        models.Advection(4)


def test_advection_is_the_weighted_sum_of_shifted_frames_at_any_size():
    """Against a NumPy sum over the mirrored neighbourhood, with unknown H and W (served).

    Its gradient in the frame is the transposed sum: the gradient of a sum of the
    outputs puts on each source pixel the weights that read it.
    """
    import tensorflow as tf

    rng = np.random.default_rng(2)
    frame = rng.uniform(-1, 1, (2, 6, 10, 3)).astype("float32")
    logits = rng.normal(0, 2, (2, 6, 10, 9)).astype("float32")
    weights = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    padded = np.pad(frame, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="symmetric")
    expected = sum(weights[..., 3 * dy + dx, None] * padded[:, dy:dy + 6, dx:dx + 10]
                   for dy in range(3) for dx in range(3))
    layer = models.Advection(3)
    spec = tf.TensorSpec((None, None, None, 3)), tf.TensorSpec((None, None, None, 9))
    served = tf.function(lambda x, w: layer([x, w]), input_signature=spec)
    np.testing.assert_allclose(served(frame, logits).numpy(), expected, atol=1e-6)
    x = tf.constant(frame)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(layer([x, logits]))
    grad_padded = np.zeros_like(padded)
    for dy in range(3):
        for dx in range(3):
            grad_padded[:, dy:dy + 6, dx:dx + 10] += np.repeat(weights[..., 3 * dy + dx, None], 3, -1)
    # The mirrored border: each padded row/column adds onto the pixel it copies.
    grad = grad_padded[:, 1:-1, 1:-1].copy()
    grad[:, 0] += grad_padded[:, 0, 1:-1]
    grad[:, -1] += grad_padded[:, -1, 1:-1]
    grad[:, :, 0] += grad_padded[:, 1:-1, 0]
    grad[:, :, -1] += grad_padded[:, 1:-1, -1]
    for corner_y, y in ((0, 0), (-1, -1)):
        for corner_x, xx in ((0, 0), (-1, -1)):
            grad[:, y, xx] += grad_padded[:, corner_y, corner_x]
    np.testing.assert_allclose(tape.gradient(total, x).numpy(), grad, atol=1e-5)


@pytest.mark.parametrize(
    "residual,skips,heads",
    [
        ("advect", False, {"motion_logits": 25}),
        ("kernels", False, {"kernel_logits": 3 * 25, "mask_logits": 3}),
        ("advect", True, {"motion_logits": 25}),
        ("composite", False, {"motion_logits": 25, "drawn_frame": 3, "source_logits": 3}),
    ],
    ids=["advect", "kernels", "advect-skips", "composite"],
)
def test_motion_residual_generator_starts_near_identity_and_learns(residual, skips, heads):
    """`residual="advect"|"kernels"|"composite"`: a fresh model nearly holds the frame, and
    gradients reach the encoder, the decoder and every head (a zero-initialised head would
    block them)."""
    import tensorflow as tf

    r = models.build_residual_generator(z_dim=8, frame_size=16, base_filters=4, residual=residual,
                                        num_kernels=3, skips=skips)
    for name, width in heads.items():
        assert r.get_layer(name).output.shape[-1] == width
    frame = np.random.default_rng(2).uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
    noise = np.random.randn(2, 8).astype("float32")
    with tf.GradientTape() as tape:
        out = r(models.step_inputs(r, noise, frame, -frame), training=True)  # first: another frame
        loss = tf.reduce_mean(tf.square(out - np.roll(frame, 1, axis=2)))
    assert np.abs(out.numpy() - frame).mean() < 0.1
    grads = tape.gradient(loss, r.trainable_variables)
    named = {v.path: g for v, g in zip(r.trainable_variables, grads)}
    for part in ("frame_encoder", "residual_decoder", *heads):
        assert any(part in k and float(tf.reduce_sum(tf.abs(g))) > 0 for k, g in named.items()), part


@pytest.mark.parametrize("residual", ["advect", "composite"])
def test_motion_scale_predicts_a_smooth_field_that_starts_near_identity(residual):
    """`motion_scale=2`: the motion logits are predicted on a 2x coarser grid and upsampled
    bilinearly, so the field is smooth (neighbouring logits closer than per pixel); a fresh
    model still nearly holds the frame, the model serialises, and other scales are refused."""
    import tensorflow as tf

    r = models.build_residual_generator(z_dim=8, frame_size=16, base_filters=4,
                                        residual=residual, motion_scale=2)
    assert tuple(r.get_layer("motion_logits").output.shape[1:]) == (8, 8, 25)
    assert tuple(r.get_layer("motion_upsample").output.shape[1:]) == (16, 16, 25)
    frame = np.random.default_rng(2).uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
    noise = np.random.randn(2, 8).astype("float32")
    inputs = models.step_inputs(r, noise, frame, -frame)
    with tf.GradientTape() as tape:
        out = r(inputs, training=True)
        loss = tf.reduce_mean(tf.square(out - np.roll(frame, 1, axis=2)))
    assert np.abs(out.numpy() - frame).mean() < 0.1
    logits_layer = r.get_layer("motion_logits")
    assert all(float(tf.reduce_sum(tf.abs(g))) > 0
               for g in tape.gradient(loss, logits_layer.trainable_variables))
    field = keras.Model(r.inputs, r.get_layer("motion_upsample").output)(inputs)
    fine = keras.Model(r.inputs, logits_layer.output)(inputs)
    step = lambda x: float(np.abs(np.diff(keras.ops.convert_to_numpy(x), axis=1)).mean())  # noqa: E731
    assert step(field) < step(fine)  # bilinear: half the coarse grid's steps per pixel
    clone = keras.Model.from_config(r.get_config())
    assert tuple(clone.get_layer("motion_logits").output.shape[1:]) == (8, 8, 25)
    with pytest.raises(ValueError, match="motion_scale"):
        models.build_residual_generator(frame_size=16, residual="advect", motion_scale=3)
    with pytest.raises(ValueError, match="motion_scale=2.*'kernels'"):
        models.build_residual_generator(frame_size=16, residual="kernels", motion_scale=2)


def test_skips_join_every_encoder_stage_to_the_decoder_at_its_size():
    """`skips=True` (a U-Net): each decoder stage gets the encoder's features of its
    size added, so the head's input at a pixel depends on the frame around it at every scale
    (changing one encoder stage's output changes the decoder's)."""
    r = models.build_residual_generator(z_dim=8, frame_size=32, base_filters=4, residual="advect",
                                        skips=True)
    encoder, decoder = r.get_layer("frame_encoder"), r.get_layer("residual_decoder")
    stages = [tuple(x.shape[1:]) for x in encoder.outputs[1:]]
    assert stages == [(16, 16, 8), (8, 8, 16), (4, 4, 32)]
    joins = [decoder.get_layer(f"join{i}") for i in range(3)]
    assert [tuple(j.input[1].shape[1:]) for j in joins] == stages[::-1]
    assert [tuple(j.input[0].shape[1:]) for j in joins] == stages[::-1]  # added: equal shapes
    inputs = {"code": np.ones((1, 8 + 128), "float32")}
    inputs.update({f"skip{k}": np.zeros((1, *s), "float32") for k, s in enumerate(stages)})
    base = keras.ops.convert_to_numpy(decoder(inputs))
    inputs["skip0"] = np.ones_like(inputs["skip0"])
    assert np.abs(keras.ops.convert_to_numpy(decoder(inputs)) - base).max() > 1e-3
    plain = models.build_residual_generator(z_dim=8, frame_size=32, base_filters=4, residual="advect")
    assert isinstance(plain.get_layer("frame_encoder"), keras.Sequential)


def _set_bias(layer, bias):
    kernel, _ = layer.get_weights()
    layer.set_weights([np.zeros_like(kernel), np.asarray(bias, "float32")])


def test_composite_rollout_mixes_the_advected_frame_frame_0_and_a_drawn_frame():
    """`residual="composite"` (SAVP's masks): with equal masks, a still advection and a
    drawn frame of constant c, `x_{t+1} = (x_t + x_0 + c) / 3`; a rollout must feed frame 0,
    not the current frame, as `first` (then x_2 would be (4 x_0 + 5c) / 9, not (5 x_0 + 4c) / 9)."""
    from keras_vidgan import sampling

    r = models.build_residual_generator(z_dim=8, frame_size=16, base_filters=4, residual="composite")
    assert sorted(t.name for t in r.inputs) == ["first", "frame", "noise"]
    assert "first" not in models.step_inputs(
        models.build_residual_generator(z_dim=8, frame_size=16, base_filters=4, residual="advect"),
        None, None, None)
    c = 0.5
    _set_bias(r.get_layer("source_logits"), [0.0, 0.0, 0.0])
    _set_bias(r.get_layer("motion_logits"), [50.0 if i == 12 else 0.0 for i in range(25)])
    _set_bias(r.get_layer("drawn_frame"), [np.arctanh(c)] * 3)
    x0 = np.random.default_rng(4).uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
    video = keras.ops.convert_to_numpy(sampling.rollout(r, x0, np.zeros((2, 8), "float32"), 3))
    np.testing.assert_allclose(video[:, 1], (2 * x0 + c) / 3, atol=1e-5)
    np.testing.assert_allclose(video[:, 2], (5 * x0 + 4 * c) / 9, atol=1e-5)
    _set_bias(r.get_layer("source_logits"), [-50.0, 50.0, -50.0])  # every pixel from frame 0
    moved = np.roll(x0, 3, axis=1)
    out = r(models.step_inputs(r, np.zeros((2, 8), "float32"), moved, x0), training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), x0, atol=1e-6)


def test_kernel_mixture_and_composite_round_trip_their_config():
    for layer in (models.KernelMixture(3, name="k"), models.Composite(name="c")):
        again = type(layer).from_config(layer.get_config())
        assert again.get_config() == layer.get_config()


def test_kernel_mixture_gives_every_pixel_its_masks_mix_of_the_kernels():
    """`KernelMixture`: a pixel whose mask picks kernel k gets kernel k's weights, and a
    shift kernel picked everywhere moves the whole frame as one (Finn et al.'s CDNA)."""
    rng = np.random.default_rng(3)
    kernels = rng.normal(0, 2, (1, 2 * 9)).astype("float32")  # 2 kernels of 3x3 taps
    masks = np.full((1, 4, 4, 2), -50.0, "float32")
    masks[:, :2, :, 0] = masks[:, 2:, :, 1] = 50.0  # top half kernel 0, bottom half kernel 1
    weights = np.exp(keras.ops.convert_to_numpy(models.KernelMixture(2)([masks, kernels])))
    soft = np.exp(kernels.reshape(2, 9)) / np.exp(kernels.reshape(2, 9)).sum(-1, keepdims=True)
    np.testing.assert_allclose(weights[0, 0, 0], soft[0], rtol=1e-5)
    np.testing.assert_allclose(weights[0, 3, 1], soft[1], rtol=1e-5)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
    shift = np.full((1, 2 * 9), -50.0, "float32")
    shift[0, 5] = shift[0, 9 + 5] = 50.0  # both kernels: offset (0, +1)
    frame = rng.uniform(-1, 1, (1, 4, 4, 3)).astype("float32")
    logits = models.KernelMixture(2)([masks, shift])
    out = keras.ops.convert_to_numpy(models.Advection(3)([frame, logits]))
    np.testing.assert_allclose(out[0, :, :-1], frame[0, :, 1:], rtol=1e-5, atol=1e-6)



def test_residual_generator_rejects_an_unknown_residual():
    with pytest.raises(ValueError, match="`residual` to be one of"):
        models.build_residual_generator(z_dim=8, frame_size=16, residual="warp")


def test_minibatch_stddev_appends_the_batch_spread():
    x = np.random.default_rng(0).normal(size=(5, 4, 4, 3)).astype("float32")
    out = keras.ops.convert_to_numpy(models.MinibatchStddev()(x))
    assert out.shape == (5, 4, 4, 4)
    np.testing.assert_array_equal(out[..., :3], x)
    expected = np.sqrt(x.var(axis=0) + 1e-8).mean()
    np.testing.assert_allclose(out[..., 3], np.full((5, 4, 4), expected), rtol=1e-5)
    alike = keras.ops.convert_to_numpy(models.MinibatchStddev()(np.repeat(x[:1], 5, axis=0)))
    assert np.all(alike[..., 3] < 1e-3)  # a collapsed batch shows no spread


@pytest.mark.parametrize("build", [models.build_discriminator, models.build_temporal_discriminator])
def test_critic_with_minibatch_stddev_sees_the_batch(build):
    """With the feature, a sample's logit depends on the rest of its batch; without, not."""
    channels = 6 if build is models.build_temporal_discriminator else 3
    x = np.random.default_rng(1).uniform(-1, 1, (4, 16, 16, channels)).astype("float32")
    alike = np.repeat(x[:1], 4, axis=0)
    plain, spread = build(frame_size=16, base_filters=4), build(frame_size=16, base_filters=4,
                                                                minibatch_stddev=True)
    assert "minibatch_stddev" not in [layer.name for layer in plain.layers]
    assert spread.get_layer("minibatch_stddev").output.shape[1:] == (4, 4, 8 + 1)

    def first(model, batch):
        return float(keras.ops.convert_to_numpy(model(batch, training=False))[0, 0])

    assert first(plain, x) == pytest.approx(first(plain, alike), abs=1e-6)
    assert first(spread, x) != pytest.approx(first(spread, alike), abs=1e-4)


def test_minibatch_stddev_under_mixed_precision_and_serialization():
    d = models.build_discriminator(frame_size=16, base_filters=4, dtype="mixed_float16",
                                   minibatch_stddev=True)
    layer = d.get_layer("minibatch_stddev")
    assert layer.compute_dtype == "float16" and d(np.zeros((2, 16, 16, 3), "float32")).dtype == "float32"
    clone = keras.Sequential.from_config(d.get_config())
    assert isinstance(clone.get_layer("minibatch_stddev"), models.MinibatchStddev)
    assert keras.layers.deserialize(keras.layers.serialize(layer)).epsilon == layer.epsilon


def test_resize_upsampling_generator_has_no_transposed_convolution():
    """`upsample="resize"`: UpSampling2D + 3x3 Conv2D stages, same shapes and layer names."""
    g = models.build_generator(z_dim=8, frame_size=32, base_filters=4, upsample="resize")
    kinds = [type(layer).__name__ for layer in g.layers]
    assert "Conv2DTranspose" not in kinds and kinds.count("UpSampling2D") == 3
    assert g.get_layer("up0").kernel.shape == (3, 3, 32, 16)  # 4x4x32 -> 8x8x16
    frames = g(np.zeros((2, 8), "float32"), training=False)
    assert frames.shape == (2, 32, 32, 3)
    clone = keras.Sequential.from_config(g.get_config())
    assert [type(layer).__name__ for layer in clone.layers] == kinds
    with pytest.raises(ValueError, match="upsample"):
        models.build_generator(upsample="pixelshuffle")


@pytest.mark.parametrize("skips", [False, True])
def test_resize_upsampling_reaches_the_residual_decoder(skips):
    """`upsample="resize"` also doubles the residual decoder's sizes, with or without skips."""
    r = models.build_residual_generator(z_dim=8, frame_size=16, base_filters=4,
                                        residual="advect", skips=skips, upsample="resize")
    decoder = r.get_layer("residual_decoder")
    kinds = [type(layer).__name__ for layer in decoder.layers]
    assert "Conv2DTranspose" not in kinds and kinds.count("UpSampling2D") == 2
    frame = np.zeros((2, 16, 16, 3), "float32")
    assert r({"noise": np.zeros((2, 8), "float32"), "frame": frame}).shape == (2, 16, 16, 3)
    clone = keras.Model.from_config(r.get_config())
    assert "UpSampling2D" in [type(x).__name__ for x in clone.get_layer("residual_decoder").layers]
    with pytest.raises(ValueError, match="upsample"):
        models.build_residual_generator(frame_size=16, upsample="pixelshuffle")
