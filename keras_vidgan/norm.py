"""BatchNormalization on TensorFlow's fused kernel (the oneDNN one on CPUs).

Keras 3's `BatchNormalization` builds training-mode batch statistics from separate
mean, variance and arithmetic ops (and casts bfloat16 inputs to float32 around
them); TensorFlow's `FusedBatchNormV3` does the same in one kernel, and its
gradient in one more. `FusedBatchNormalization` is the Keras layer with the same
variables, arguments and results, whose training-mode call takes that kernel
where it applies; elsewhere it is Keras's own call.
"""

import keras
from keras import layers

__all__ = ["FusedBatchNormalization"]


@keras.saving.register_keras_serializable(package="keras_vidgan")
class FusedBatchNormalization(layers.BatchNormalization):
    """`keras.layers.BatchNormalization` whose training step runs one fused kernel.

    In training mode, on the TensorFlow backend, for the last axis, without
    `synchronized`, `renorm` or a mask, the batch's mean and variance and the
    normalization come from `tf.compat.v1.nn.fused_batch_norm` (float32 statistics
    of float32 or bfloat16 inputs); the moving statistics are updated as Keras
    does, with the biased batch variance
    `var_biased = var_unbiased * (n - 1) / n` (the kernel returns the unbiased one,
    over `n` values per channel). Inference, and every other case, is Keras's call:
    the weights, checkpoints and served graphs are those of a `BatchNormalization`.

    Args:
        **kwargs: `keras.layers.BatchNormalization` arguments.
    """

    def _fusable(self, inputs, training, mask):
        return (
            training
            and self.trainable
            and mask is None
            and not self.synchronized
            and not self.renorm
            and keras.backend.backend() == "tensorflow"
            and list(self.axis if isinstance(self.axis, (list, tuple)) else [self.axis])
            in ([-1], [len(inputs.shape) - 1])
            and len(inputs.shape) in (2, 4)
            and inputs.dtype in ("float32", "bfloat16")
        )

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        x = inputs if len(inputs.shape) == 4 else inputs[:, None, None, :]
        channels = x.shape[-1]
        ones, zeros = tf.ones([channels], tf.float32), tf.zeros([channels], tf.float32)
        gamma = tf.cast(self.gamma, tf.float32) if self.scale else ones
        beta = tf.cast(self.beta, tf.float32) if self.center else zeros
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            x, gamma, beta, epsilon=self.epsilon, is_training=True
        )
        n = tf.cast(tf.size(x) // channels, tf.float32)
        variance = variance * tf.maximum(n - 1.0, 0.0) / n  # unbiased -> biased
        decay = 1.0 - self.momentum
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * decay)
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * decay)
        y = y if len(inputs.shape) == 4 else y[:, 0, 0, :]
        return tf.cast(y, self.compute_dtype)
