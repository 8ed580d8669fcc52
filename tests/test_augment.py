"""DiffAugment: what the critics see is shifted and recoloured, differentiably."""

import numpy as np
import pytest
import tensorflow as tf

from keras_vidgan import augment


def _frames(n=4, size=16, seed=0):
    return tf.constant(np.random.default_rng(seed).uniform(-1, 1, (n, size, size, 3)), tf.float32)


def test_parse_policy_normalises_and_rejects_unknown_names():
    assert augment.parse_policy("Color, translation") == ("translation", "color")
    assert augment.parse_policy(["color"]) == ("color",)
    assert augment.parse_policy("none") == augment.parse_policy(None) == ()
    with pytest.raises(ValueError, match="'cutout'.*translation, color"):
        augment.parse_policy("translation,cutout")


def test_translation_is_a_reflected_integer_shift():
    x = _frames()
    params = augment.random_params(4, tf.constant([1, 2], tf.int64))
    out = augment.apply(x, params, "translation").numpy()
    pad = 2  # 16 / 8
    for i in range(4):
        dy = int(params["shift_y"][i] * (2 * pad + 1)) - pad
        dx = int(params["shift_x"][i] * (2 * pad + 1)) - pad
        padded = np.pad(x[i].numpy(), [(pad, pad), (pad, pad), (0, 0)], mode="reflect")
        expected = padded[pad + dy:pad + dy + 16, pad + dx:pad + dx + 16]
        np.testing.assert_array_equal(out[i], expected)


def test_color_keeps_a_flat_grey_frame_flat():
    # Brightness shifts, saturation and contrast scale about means: a flat frame stays flat.
    x = tf.fill((3, 8, 8, 3), 0.25)
    out = augment.diff_augment(x, "color", seed=(0, 7)).numpy()
    assert np.ptp(out.reshape(3, -1), axis=1).max() < 1e-6
    assert not np.allclose(out[:, 0, 0, 0], 0.25)  # but its brightness changed


def test_a_clip_gets_one_draw_shared_by_its_frames():
    frame = _frames(n=1)
    clip = tf.stack([frame[0]] * 5)[None]  # a still clip of 5 identical frames
    out = augment.diff_augment(tf.concat([clip, clip], 0), "translation,color", seed=(3, 4))
    np.testing.assert_allclose(out[:, 1:], tf.repeat(out[:, :1], 4, axis=1), atol=1e-6)
    assert not np.allclose(out[0], out[1])  # two clips, two draws


def test_same_seed_same_output_other_seed_other_output():
    x = _frames()
    a = augment.diff_augment(x, seed=(0, 1))
    np.testing.assert_array_equal(a, augment.diff_augment(x, seed=(0, 1)))
    assert not np.allclose(a, augment.diff_augment(x, seed=(0, 2)))


def test_no_policy_is_the_identity_and_gradients_flow_through():
    x = _frames()
    np.testing.assert_array_equal(augment.diff_augment(x, "none"), x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(augment.diff_augment(x, "translation,color", seed=(0, 1)) ** 2)
    grad = tape.gradient(loss, x)
    assert grad is not None and float(tf.norm(grad)) > 0


def test_keeps_the_dtype_of_mixed_precision_inputs():
    x = tf.cast(_frames(), tf.bfloat16)
    assert augment.diff_augment(x, seed=(0, 1)).dtype == tf.bfloat16
