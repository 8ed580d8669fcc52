import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vidgan import models
from keras_vidgan.norm import FusedBatchNormalization


def _pair(shape, dtype):
    keras_bn = keras.layers.BatchNormalization(momentum=0.9, dtype=dtype)
    fused = FusedBatchNormalization(momentum=0.9, dtype=dtype)
    for layer in (keras_bn, fused):
        layer.build(shape)
        layer.gamma.assign(np.linspace(0.5, 1.5, shape[-1]))
        layer.beta.assign(np.linspace(-0.3, 0.3, shape[-1]))
    return keras_bn, fused


def _train_call(layer, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(tf.cast(y, tf.float32) ** 3)
    return y, tape.gradient(loss, [x, layer.gamma, layer.beta])


@pytest.mark.parametrize("dtype,atol", [("float32", 1e-5), ("mixed_bfloat16", 2e-2)])
@pytest.mark.parametrize("shape", [(16, 8, 8, 6), (16, 6)])
def test_fused_batch_norm_trains_as_keras_batch_norm(shape, dtype, atol):
    """Outputs, moving statistics (biased variance) and gradients equal Keras's."""
    x = tf.random.stateless_normal(shape, [0, 1]) * 3.0 + 1.0
    keras_bn, fused = _pair(shape, dtype)
    (y_keras, g_keras), (y_fused, g_fused) = _train_call(keras_bn, x), _train_call(fused, x)
    assert y_fused.dtype == y_keras.dtype
    np.testing.assert_allclose(np.float32(y_fused), np.float32(y_keras), atol=atol)
    np.testing.assert_allclose(fused.moving_mean.numpy(), keras_bn.moving_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(fused.moving_variance.numpy(), keras_bn.moving_variance.numpy(),
                               rtol=1e-5)
    for ours, theirs in zip(g_fused, g_keras):
        scale = np.abs(np.float32(theirs)).max()
        np.testing.assert_allclose(np.float32(ours) / scale, np.float32(theirs) / scale, atol=atol)
    # Inference is Keras's own call, on the moving statistics.
    np.testing.assert_allclose(np.float32(fused(x, training=False)),
                               np.float32(keras_bn(x, training=False)), atol=atol)


def test_fused_batch_norm_runs_the_fused_kernel_only_in_training():
    layer = FusedBatchNormalization()
    layer.build((4, 2, 2, 3))

    def op_types(training):
        fn = tf.function(lambda x: layer(x, training=training))
        graph = fn.get_concrete_function(tf.TensorSpec((4, 2, 2, 3))).graph
        return {op.type for op in graph.get_operations()}

    assert "FusedBatchNormV3" in op_types(True)
    assert "FusedBatchNormV3" not in op_types(False)
    synced = FusedBatchNormalization(synchronized=True)
    assert not synced._fusable(tf.zeros((4, 2, 2, 3)), True, None)


def test_models_use_it_and_round_trip_their_config():
    g = models.build_generator(z_dim=4, frame_size=16, base_filters=4)
    assert all(type(layer) is FusedBatchNormalization
               for layer in g.layers if isinstance(layer, keras.layers.BatchNormalization))
    clone = keras.Sequential.from_config(g.get_config())
    assert type(clone.get_layer("up0_bn")) is FusedBatchNormalization
