"""The document's generator and discriminator (§3.1.1, §3.1.2), corrected.

Frame models map noise to one frame and one frame to a real/fake logit. The video
models of §3.1.1 step 3 (a residual next-frame generator and a temporal critic) are
built from the same blocks further down.

Tensor convention (everywhere in keras_vidgan): frames are `(batch, height, width,
channels)` and videos `(batch, frames, height, width, channels)`, float32 in [-1, 1].
"""

import math

import keras
import numpy as np
from keras import layers

from keras_vidgan import precision as precision_lib
from keras_vidgan.config import (
    MOTION_FIELD_RESIDUALS,
    MOTION_SCALES,
    RESIDUALS,
    TEMPORAL_CRITICS,
    UPSAMPLES,
)
from keras_vidgan.norm import FusedBatchNormalization

__all__ = [
    "build_generator",
    "build_discriminator",
    "build_residual_generator",
    "build_latent_motion",
    "is_latent_motion",
    "motion_noise_dim",
    "build_temporal_discriminator",
    "Advection",
    "Composite",
    "MinibatchStddev",
    "RESIDUALS",
    "UPSAMPLES",
    "with_sigmoid",
    "TEMPORAL_CRITICS",
    "frame_pairs",
    "gap_pairs",
    "clip_stack",
    "temporal_channels",
    "temporal_kind",
    "build_models",
    "ClassProjection",
    "conditional_generator",
    "projection_critic",
    "conditioned",
    "step_inputs",
    "noise_dim",
    "num_classes",
]

# DCGAN practice (PyTorch momentum 0.1): moving statistics that keep up with a fast-
# changing generator, so inference-mode samples match training early in a run.
BN_MOMENTUM = 0.9


def _check_frame_size(frame_size):
    if frame_size < 16 or frame_size & (frame_size - 1):
        raise ValueError(
            "Expected `frame_size` to be a power of two >= 16, "
            f"received: frame_size={frame_size}"
        )
    # Number of stride-2 stages between 4x4 and frame_size.
    return int(math.log2(frame_size // 4))


def _widths(n_stages, base_filters):
    """Widths from the full-size end (`base_filters`) to the 4x4 end, doubling."""
    return [base_filters * 2**i for i in range(n_stages + 1)]


def _batch_norm(name, dtype, synchronized):
    # synchronized: batch statistics over all replicas, so that N replicas train as
    # one device would on the global batch (tf.distribute).
    return FusedBatchNormalization(
        momentum=BN_MOMENTUM, dtype=dtype, synchronized=synchronized, name=name
    )


def _projection_layers(width, dtype, sync_bn):
    """Dense -> BN -> ReLU -> Reshape(4, 4, width): the code to the 4x4 stage."""
    # listing defect 1: Dense(128) cannot become (4, 4, 128); project to 4*4*C.
    return [
        layers.Dense(4 * 4 * width, use_bias=False, dtype=dtype, name="project"),
        _batch_norm("project_bn", dtype, sync_bn),
        layers.ReLU(dtype=dtype, name="project_relu"),
        layers.Reshape((4, 4, width), dtype=dtype, name="reshape"),
    ]


def _upsampling(i, width, dtype, upsample):
    """One doubling of the frame size: a stride-2 transposed convolution, or a resize."""
    if upsample not in UPSAMPLES:
        raise ValueError(f"Expected `upsample` to be one of {UPSAMPLES}, received: {upsample!r}")
    if upsample == "transpose":
        return [layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False,
                                       dtype=dtype, name=f"up{i}")]
    # "resize": nearest-neighbour doubling, then a 3x3 convolution. Every output pixel
    # sees the same number of kernel taps, so no checkerboard (Odena et al. 2016).
    return [layers.UpSampling2D(2, interpolation="nearest", dtype=dtype, name=f"up{i}_resize"),
            layers.Conv2D(width, 3, padding="same", use_bias=False, dtype=dtype, name=f"up{i}")]


def _up_stage(i, width, dtype, sync_bn, upsample="transpose"):
    """Upsampling (`_upsampling`) -> BN -> ReLU: one doubling of the frame size."""
    return [
        *_upsampling(i, width, dtype, upsample),
        _batch_norm(f"up{i}_bn", dtype, sync_bn),
        # listing defect 4: a non-linearity after every transposed convolution.
        layers.ReLU(dtype=dtype, name=f"up{i}_relu"),
    ]


def _upsampling_stack(
    z_dim, frame_size, channels, base_filters, dtype, input_name, name, sync_bn=False,
    to_rgb=True, upsample="transpose",
):
    """Dense -> Reshape(4, 4, C) -> [upsampling + BN + ReLU] x n -> Conv2D -> tanh.

    With `to_rgb=False` the stack ends at the last stage's features.
    """
    n_stages = _check_frame_size(frame_size)
    widths = _widths(n_stages, base_filters)[::-1]  # widest at 4x4
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=(z_dim,), name=input_name))
    for layer in _projection_layers(widths[0], dtype, sync_bn):
        model.add(layer)
    # listing defect 2: one stride-2 stage per doubling, up to frame_size (not 16x16).
    for i, width in enumerate(widths[1:]):
        for layer in _up_stage(i, width, dtype, sync_bn, upsample):
            model.add(layer)
    if not to_rgb:
        return model
    # listing defect 4: no BatchNorm right before tanh; listing defect 3: tanh is an
    # Activation, not a `Tanh` layer. Output in float32 under mixed precision.
    model.add(layers.Conv2D(channels, 3, padding="same", dtype=dtype, name="to_rgb"))
    model.add(layers.Activation("tanh", dtype="float32", name="tanh"))
    return model


def _skip_decoder(code_dim, skip_shapes, frame_size, base_filters, dtype, sync_bn, upsample):
    """`_upsampling_stack(to_rgb=False)` with the encoder's features joined in (a U-Net).

    Input `{"code": (batch, code_dim), "skip{k}": (batch, s, s, c)}` with one skip per
    encoder stage, `skip_shapes` ordered from the largest size to 4x4; each is added to
    the decoder's features of its size (the same width: the encoder doubles its width
    per stage from twice the decoder's last) before the next stage. Added rather than
    concatenated, the stages cost what they did without skips.
    """
    n_stages = _check_frame_size(frame_size)
    widths = _widths(n_stages, base_filters)[::-1]
    code = keras.Input(shape=(code_dim,), name="code")
    skips = {f"skip{k}": keras.Input(shape=shape, name=f"skip{k}")
             for k, shape in enumerate(skip_shapes)}
    x = code
    with keras.name_scope("residual_decoder"):  # variable paths as in the Sequential's
        for layer in _projection_layers(widths[0], dtype, sync_bn):
            x = layer(x)
        for i, width in enumerate(widths[1:]):
            skip = skips[f"skip{n_stages - 1 - i}"]  # the encoder's features at x's size
            x = layers.Add(dtype=dtype, name=f"join{i}")([x, skip])
            for layer in _up_stage(i, width, dtype, sync_bn, upsample):
                x = layer(x)
    return keras.Model({"code": code, **skips}, x, name="residual_decoder")


def build_generator(
    z_dim=100,
    frame_size=64,
    channels=3,
    base_filters=16,
    dtype=None,
    sync_bn=False,
    upsample="transpose",
    name="generator",
):
    """Builds the frame generator of §3.1.1 (steps 1-2), corrected.

    Noise is projected by a Dense layer to a 4x4 feature map, upsampled by
    `Conv2DTranspose` + `BatchNormalization` + ReLU stages to `frame_size`, and
    mapped to `channels` by a 3x3 convolution and `tanh`, as in the document's
    listing with its defects 1-4 fixed.

    Args:
        z_dim: int. Length of the noise vector. Defaults to 100.
        frame_size: int. Height and width of the output, a power of two >= 16.
            Defaults to 64.
        channels: int. Output channels. Defaults to 3.
        base_filters: int. Width of the last upsampling stage; each earlier stage is
            twice as wide (64x64: 256 at 4x4, then 128, 64, 32, 16). Defaults to 16.
        dtype: str or `keras.DTypePolicy`. Layer dtype policy, e.g.
            `"mixed_bfloat16"`; the output stays float32. Defaults to the global policy.
        sync_bn: bool. Synchronise BatchNorm statistics across replicas under a
            `tf.distribute` strategy. Defaults to False.
        upsample: str. How a stage doubles the size: `"transpose"` (the document's
            `Conv2DTranspose`, 4x4 stride 2) or `"resize"` (nearest-neighbour
            `UpSampling2D` and a 3x3 `Conv2D`, free of the transposed convolution's
            checkerboard). One of `UPSAMPLES`. Defaults to `"transpose"`.
        name: str. Model name. Defaults to `"generator"`.

    Returns:
        A `keras.Sequential` with input `noise` `(batch, z_dim)` and output frames
        `(batch, frame_size, frame_size, channels)` float32 in [-1, 1].

    Raises:
        ValueError: if `frame_size` is not a power of two >= 16.

    Example:
    ```python
    g = build_generator(z_dim=8, frame_size=16, base_filters=8)
    frames = g(keras.random.normal((2, 8)), training=False)  # (2, 16, 16, 3)
    ```
    """
    return _upsampling_stack(
        z_dim, frame_size, channels, base_filters, dtype, "noise", name, sync_bn,
        upsample=upsample,
    )


@keras.saving.register_keras_serializable(package="keras_vidgan")
class MinibatchStddev(layers.Layer):
    """Appends the batch's feature spread as one more channel (ProGAN's minibatch stddev).

    A critic that judges one sample at a time cannot see that the generator draws
    only some of the data's modes: on the real clips, G drew the car park in 0 of
    64 samples though it is 27% of the training clips. This layer takes the
    standard deviation of every feature over the batch, averages it to one number
    and appends it as a constant channel, so that D can tell a batch of look-alike
    fakes from a varied real batch (Karras et al. 2018). The trainer shows D real
    and generated batches separately, as this needs; under `tf.distribute` the
    batch is a replica's share.

    Call arguments:
        inputs: `(batch, H, W, C)` features.

    Returns:
        `(batch, H, W, C + 1)`: the inputs and the mean stddev as the last channel.
    """

    def __init__(self, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, inputs):
        ops = keras.ops
        features = ops.cast(inputs, "float32")  # variance in float32 under mixed precision
        spread = ops.mean(ops.sqrt(ops.var(features, axis=0) + self.epsilon))
        shape = ops.shape(inputs)
        channel = ops.full((shape[0], shape[1], shape[2], 1), spread, dtype="float32")
        return ops.concatenate([inputs, ops.cast(channel, inputs.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        channels = None if input_shape[-1] is None else input_shape[-1] + 1
        return (*input_shape[:-1], channels)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


def _downsampling_stack(
    frame_size, channels, base_filters, batch_norm, dtype, input_name, name, sync_bn=False,
    minibatch_stddev=False,
):
    """[Conv2D stride 2 + (BN) + LeakyReLU(0.2)] down to 4x4 -> (MinibatchStddev) -> Flatten."""
    n_stages = _check_frame_size(frame_size)
    widths = _widths(n_stages - 1, base_filters)  # narrowest at full size
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=(frame_size, frame_size, channels), name=input_name))
    for i, width in enumerate(widths):
        model.add(
            layers.Conv2D(
                width, 4, strides=2, padding="same", dtype=dtype, name=f"down{i}"
            )
        )
        # §3.1.2: convolution + batch normalization; not on the first layer (DCGAN).
        if batch_norm and i > 0:
            model.add(_batch_norm(f"down{i}_bn", dtype, sync_bn))
        # listing defect 3: LeakyReLU is imported from keras.layers.
        model.add(layers.LeakyReLU(negative_slope=0.2, dtype=dtype, name=f"down{i}_lrelu"))
    if minibatch_stddev:
        model.add(MinibatchStddev(dtype=dtype, name="minibatch_stddev"))
    model.add(layers.Flatten(dtype=dtype, name="flatten"))
    return model


def build_discriminator(
    frame_size=64,
    channels=3,
    base_filters=32,
    batch_norm=False,
    dtype=None,
    sync_bn=False,
    minibatch_stddev=False,
    name="discriminator",
):
    """Builds the frame discriminator of §3.1.2, returning logits.

    `Conv2D` (stride 2) + `LeakyReLU(0.2)` stages down to 4x4, then `Flatten` and
    `Dense(1)`, as in the document's listing. §3.1.2 also names BatchNorm; it is
    off by default (`batch_norm=True` adds it after every convolution but the
    first): D sees real and generated batches separately, and with BatchNorm it told
    them apart by their batch statistics within 100 steps on the demo data, after
    which G collapsed to one noisy image (D(fake) 0.02 at step 500); without it the
    game stayed balanced (D(fake) about 0.2) and samples varied.
    The model returns the logit `W_d x + b_d` of §3.2; the document's sigmoid
    probability is `with_sigmoid(discriminator)`. Losses take logits because
    `sigmoid` followed by `log` loses precision where D is confident.

    Args:
        frame_size: int. Height and width of the input, a power of two >= 16.
            Defaults to 64.
        channels: int. Input channels. Defaults to 3.
        base_filters: int. Width of the first convolution; each later one is twice
            as wide (64x64: 32, 64, 128, 256). Defaults to 32.
        batch_norm: bool. Whether to add BatchNorm (§3.1.2). Defaults to False.
        dtype: str or `keras.DTypePolicy`. Layer dtype policy; the logit stays
            float32. Defaults to the global policy.
        sync_bn: bool. Synchronise BatchNorm statistics across replicas. Defaults
            to False.
        minibatch_stddev: bool. Append the batch's feature spread before the
            `Dense` layer (`MinibatchStddev`), so that D sees a generator that drops
            modes. Not in the document; defaults to False.
        name: str. Model name. Defaults to `"discriminator"`.

    Returns:
        A `keras.Sequential` with input `frames` `(batch, frame_size, frame_size,
        channels)` in [-1, 1] and output logits `(batch, 1)` float32.

    Raises:
        ValueError: if `frame_size` is not a power of two >= 16.
    """
    model = _downsampling_stack(
        frame_size, channels, base_filters, batch_norm, dtype, "frames", name, sync_bn,
        minibatch_stddev,
    )
    model.add(layers.Dense(1, dtype="float32", name="logit"))
    return model


def with_sigmoid(discriminator, name=None):
    """Wraps a logit discriminator so that it returns the probability of §3.1.2.

    Args:
        discriminator: `keras.Model`. A model returning logits.
        name: str. Name of the wrapper. Defaults to `"<name>_probability"`.

    Returns:
        A `keras.Sequential` sharing the weights of `discriminator`, whose output is
        `sigmoid(logit)`, the probability that the input is real.
    """
    return keras.Sequential(
        [discriminator, layers.Activation("sigmoid", dtype="float32", name="sigmoid")],
        name=name or f"{discriminator.name}_probability",
    )


def build_residual_generator(
    z_dim=100,
    frame_size=64,
    channels=3,
    base_filters=16,
    feature_dim=128,
    dtype=None,
    sync_bn=False,
    residual="add",
    advect_size=5,
    num_kernels=4,
    skips=False,
    upsample="transpose",
    motion_scale=1,
    name="residual_generator",
):
    """Builds the residual next-frame generator of §3.1.1 step 3.

    The document's generator adds the generated frame element-wise to an input video
    frame. Here that is a next-frame model, `x_{t+1} = clip(x_t + r(z_t, x_t), -1, 1)`:

    - §3.1.1 step 1: the input frame goes through convolution + BatchNorm layers
      (`frame_encoder`, a Sequential) to a feature vector of `feature_dim`.
    - §3.1.1 step 2: noise and features go through Dense, transposed-convolution +
      BatchNorm stages (`residual_decoder`, the frame generator's design) to
      frame-sized features; a head of two 3x3 convolutions on these features and
      the input frame maps them to a residual `r` in [-1, 1]. Without the frame at
      full resolution the residual could not follow the frame's content: it drew
      the same texture over every frame of a rollout (demo data).
    - §3.1.1 step 3: `r` is added element-wise to the input frame. §3.2 writes
      `G = tanh(W_g[z] + W_g^f[z])`, a bounded sum of two branches; we bound the
      residual branch with tanh and clip the sum to [-1, 1], so that a zero residual
      returns the input frame exactly (a tanh around the sum would not).

    `residual="advect"` makes `r` from the frame's own pixels instead: the head
    outputs per-pixel weights over an `advect_size` neighbourhood and
    `x_{t+1} = sum_k w_k shift_k(x_t)` (`Advection`), i.e. `r = x_{t+1} - x_t` is a
    local motion. A generated residual smeared shapes and drifted colours over a
    16-frame rollout; this one keeps them (README, Quality).

    `residual="kernels"` moves the pixels the same way, but by `num_kernels`
    whole-frame motions: the code (noise and frame features) gives the kernels,
    the head a per-pixel mask choosing among them (`KernelMixture`; Finn et al.'s
    CDNA), so that the pixels of one shape can share one motion.

    `residual="composite"` takes frame 0 as a third input, `first`, and mixes three
    sources per pixel by masks: the advected frame (as `"advect"`), frame 0 and a
    freshly drawn frame (`Composite`; SAVP's), so that what stays still is copied
    from frame 0 instead of being resampled at every step.

    Args:
        z_dim: int. Length of the per-step noise vector. Defaults to 100.
        frame_size: int. Frame height and width, a power of two >= 16. Defaults to 64.
        channels: int. Frame channels. Defaults to 3.
        base_filters: int. Width of the decoder's last stage (the encoder starts at
            twice that). Defaults to 16.
        feature_dim: int. Length of the frame feature vector. Defaults to 128.
        dtype: str or `keras.DTypePolicy`. Layer dtype policy. Defaults to the
            global policy.
        sync_bn: bool. Synchronise BatchNorm statistics across replicas. Defaults
            to False.
        residual: str. `"add"` (a generated residual, the document's),
            `"advect"` (a local motion of the frame's pixels), `"kernels"` or
            `"composite"` (see above). Defaults to `"add"`.
        advect_size: int. Odd neighbourhood size of `"advect"` and `"kernels"`.
            Defaults to 5.
        num_kernels: int. Whole-frame motions of `"kernels"`. Defaults to 4.
        skips: bool. U-Net skip connections: every encoder stage's features are
            added to the decoder's of the same size, so that the head's motion
            weights and masks can follow the frame's shapes, not only its 3x3
            neighbourhood and a global code (SAVP's and SVG's encoder-decoders).
            Defaults to False.
        upsample: str. How the decoder's stages double the size, as in
            `build_generator`. Defaults to `"transpose"`.
        motion_scale: int. `"advect"` and `"composite"`: the motion weights' logits
            are predicted at `1 / motion_scale` of the frame size (after an average
            pooling of the head's features) and upsampled bilinearly, so that
            neighbouring pixels move alike; 1 predicts them per pixel. One of
            `MOTION_SCALES`. Defaults to 1.
        name: str. Model name. Defaults to `"residual_generator"`.

    Returns:
        A `keras.Model` with inputs `noise` `(batch, z_dim)` and `frame`
        `(batch, frame_size, frame_size, channels)` in [-1, 1] (and `first`, frame 0,
        for `"composite"`; see `step_inputs`), and output the next frame, same shape,
        float32 in [-1, 1].

    Example:
    ```python
    r = build_residual_generator(z_dim=8, frame_size=16, base_filters=8)
    x1 = r({"noise": keras.random.normal((2, 8)), "frame": keras.ops.zeros((2, 16, 16, 3))})
    ```

    Raises:
        ValueError: if `residual` is not one of `RESIDUALS`.
    """
    if residual not in RESIDUALS:
        raise ValueError(f"Expected `residual` to be one of {RESIDUALS}, received: {residual!r}")
    if residual == "latent":
        raise ValueError("`residual='latent'` moves G's noise, not a frame: build its model "
                         "with `build_latent_motion`.")
    if motion_scale not in MOTION_SCALES:
        raise ValueError(f"Expected `motion_scale` to be one of {MOTION_SCALES}, "
                         f"received: {motion_scale!r}")
    if motion_scale > 1 and residual not in MOTION_FIELD_RESIDUALS:
        raise ValueError(f"`motion_scale={motion_scale}` needs `residual` in "
                         f"{MOTION_FIELD_RESIDUALS} (they have a motion field), "
                         f"received: {residual!r}")
    encoder = _frame_encoder(frame_size, channels, base_filters, feature_dim, dtype, sync_bn, skips)
    noise = keras.Input(shape=(z_dim,), name="noise")
    frame = keras.Input(shape=(frame_size, frame_size, channels), name="frame")
    inputs = {"noise": noise, "frame": frame}
    if residual == "composite":
        inputs["first"] = keras.Input(shape=(frame_size, frame_size, channels), name="first")
    encoded = encoder(frame)
    features, stages = (encoded[0], encoded[1:]) if skips else (encoded, [])
    code = layers.Concatenate(dtype=dtype, name="code")([noise, features])
    if skips:
        decoder = _skip_decoder(z_dim + feature_dim, [s.shape[1:] for s in stages], frame_size,
                                base_filters, dtype, sync_bn, upsample)
        decoded = decoder({"code": code, **{f"skip{k}": s for k, s in enumerate(stages)}})
    else:
        decoded = _upsampling_stack(
            z_dim + feature_dim, frame_size, channels, base_filters, dtype, "code",
            "residual_decoder", sync_bn, to_rgb=False, upsample=upsample,
        )(code)
    # The full-resolution path: the head sees the input frame beside the decoder's
    # features, so that a residual can follow the frame's content (a shift of an
    # edge by a pixel is a 3x3 filter of the frame).
    # The composite's head also sees frame 0, to tell where the frame has left it.
    frames = [frame, inputs["first"]] if residual == "composite" else [frame]
    both = layers.Concatenate(dtype=dtype, name="frame_and_features")([*frames, decoded])
    hidden = layers.Conv2D(base_filters, 3, padding="same", activation="relu", dtype=dtype,
                           name="residual_head")(both)
    if residual == "advect":
        next_frame = _advected_frame(frame, hidden, advect_size, dtype, motion_scale)
    elif residual == "kernels":
        next_frame = _kernel_moved_frame(frame, code, hidden, advect_size, num_kernels, dtype)
    elif residual == "composite":
        next_frame = _composited_frame(frame, inputs["first"], hidden, advect_size, channels,
                                       dtype, motion_scale)
    else:
        next_frame = _added_frame(frame, hidden, channels, dtype)
    return keras.Model(inputs, next_frame, name=name)


# Length of the per-step motion noise of a latent motion model (MoCoGAN-HD: 16... 512
# there; a small G's latent needs few directions at a time).
MOTION_NOISE_DIM = 16


def build_latent_motion(
    noise_dim=100,
    z_dim=None,
    motion_noise_dim=MOTION_NOISE_DIM,
    units=128,
    step_size=0.2,
    name="latent_motion",
):
    """Builds a motion model that moves G's noise instead of a frame's pixels.

    MoCoGAN-HD's design (Tian et al. 2021) on a frame G trained first: a GRU, whose
    state starts from the video's noise and which is driven by a fresh motion noise
    at every step, emits a step in G's latent per frame,

        h_0 = tanh(A z_0),   h_t = GRU(e_t, h_{t-1}),   e_t ~ N(0, I),
        z_t = z_{t-1} + step_size * tanh(W h_t),

    and every frame is G's, `x_t = G(z_t)` (`sampling.latent_path`,
    `sampling.latent_video`). A frame therefore stays on G's manifold: no rollout
    of pixels, nothing to smear or drift, and motion depends on the whole history
    of the motion noise, not on one step. There is no image-to-video: a given frame
    has no known `z_0` (MoCoGAN-HD would need an encoder).

    Computes in float32 whatever the global policy (a small GRU; its steps are a
    fraction of G's time).

    Args:
        noise_dim: int. Length of the `noise` input: G's `z_dim` (plus the class
            embedding, in a conditional run: `conditional_generator` wraps this
            model as it wraps a generator). Defaults to 100.
        z_dim: int or None. Length of each step, G's unconditional noise length.
            None: `noise_dim`.
        motion_noise_dim: int. Length of the motion noise `e_t`. Defaults to
            `MOTION_NOISE_DIM`.
        units: int. GRU width. Defaults to 128.
        step_size: float. Largest change of a noise entry per frame. Defaults to 0.2.
        name: str. Model name. Defaults to `"latent_motion"`.

    Returns:
        A `keras.Model` taking `{"noise": (batch, noise_dim), "motion_noise":
        (batch, steps, motion_noise_dim)}` and returning the steps `(batch, steps,
        z_dim)` float32, `z_t - z_{t-1}` for t = 1..steps.

    Example:
    ```python
    motion = build_latent_motion(noise_dim=8)
    steps = motion({"noise": np.zeros((2, 8)), "motion_noise": np.ones((2, 3, 16))})
    ```
    """
    z_dim = int(z_dim or noise_dim)
    noise = keras.Input((noise_dim,), name="noise")
    motion_noise = keras.Input((None, motion_noise_dim), name="motion_noise")
    state = layers.Dense(units, activation="tanh", dtype="float32", name="initial_state")(noise)
    hidden = layers.GRU(units, return_sequences=True, dtype="float32", name="motion_gru")(
        motion_noise, initial_state=state)
    step = layers.Dense(z_dim, activation="tanh", dtype="float32", name="latent_step")(hidden)
    step = layers.Rescaling(step_size, dtype="float32", name="step_size")(step)
    return keras.Model({"noise": noise, "motion_noise": motion_noise}, step, name=name)


def motion_noise_dim(motion):
    """Length of the per-step motion noise a latent motion model takes."""
    return int({t.name: t for t in motion.inputs}["motion_noise"].shape[-1])


def is_latent_motion(model):
    """True if `model` is a latent motion model (`build_latent_motion`), not a
    residual generator: the video's next-frame model of a `residual="latent"` run."""
    return any(t.name == "motion_noise" for t in model.inputs)


def step_inputs(residual_generator, noise, frame, first):
    """The inputs of one rollout step: `first` (frame 0) only for a model that takes it."""
    inputs = {"noise": noise, "frame": frame}
    if any(t.name == "first" for t in residual_generator.inputs):
        inputs["first"] = first
    return inputs


def _frame_encoder(frame_size, channels, base_filters, feature_dim, dtype, sync_bn, skips):
    """§3.1.1 step 1: conv + BatchNorm stages to a `feature_dim` vector.

    With `skips`, a functional model whose outputs are the vector and then every
    stage's features, from the largest size to 4x4 (for `_skip_decoder`).
    """
    encoder = _downsampling_stack(
        frame_size, channels, 2 * base_filters, True, dtype, "frame", "frame_encoder", sync_bn
    )
    encoder.add(layers.Dense(feature_dim, use_bias=False, dtype=dtype, name="features"))
    encoder.add(_batch_norm("features_bn", dtype, sync_bn))
    encoder.add(layers.ReLU(dtype=dtype, name="features_relu"))
    if not skips:
        return encoder
    stages = [layer.output for layer in encoder.layers if layer.name.endswith("_lrelu")]
    return keras.Model(encoder.inputs, [encoder.outputs[0], *stages], name="frame_encoder")


def _added_frame(frame, hidden, channels, dtype):
    """`clip(x + tanh(conv(hidden)), -1, 1)`: the document's generated residual."""
    residual = layers.Conv2D(channels, 3, padding="same", dtype=dtype, name="to_residual")(hidden)
    residual = layers.Activation("tanh", dtype="float32", name="residual_tanh")(residual)
    summed = layers.Add(dtype="float32", name="add_input_frame")([frame, residual])
    return keras.ops.clip(summed, -1.0, 1.0)


def _advected_frame(frame, hidden, size, dtype, scale=1):
    """The frame advected by per-pixel weights over its `size x size` neighbourhood.

    With `scale > 1` the weights' logits are predicted on a grid `scale` times coarser
    and upsampled bilinearly, so that neighbouring pixels take their colour from the
    same offsets (a smooth motion field, as optical-flow networks predict it).
    """
    taps = size * size
    # Starts near the identity: the centre tap gets ~98% of the weight (e^7 vs 24 * e^0
    # for size 5), so a fresh rollout holds its frames instead of smearing them.
    centre = [7.0 if i == taps // 2 else 0.0 for i in range(taps)]
    if scale > 1:
        hidden = layers.AveragePooling2D(scale, dtype=dtype, name="motion_pool")(hidden)
    logits = layers.Conv2D(
        taps, 3, padding="same", dtype=dtype, name="motion_logits",
        kernel_initializer=keras.initializers.RandomNormal(stddev=0.01),
        bias_initializer=keras.initializers.Constant(centre),
    )(hidden)
    if scale > 1:
        logits = layers.UpSampling2D(scale, interpolation="bilinear", dtype=dtype,
                                     name="motion_upsample")(logits)
    return Advection(size, name="advect")([frame, logits])


def _kernel_moved_frame(frame, code, hidden, size, num_kernels, dtype):
    """The frame moved by `num_kernels` whole-frame kernels, mixed per pixel by masks."""
    taps = size * size
    # Each kernel starts near the identity, as `_advected_frame`'s weights do.
    centre = [7.0 if i % taps == taps // 2 else 0.0 for i in range(num_kernels * taps)]
    kernels = layers.Dense(
        num_kernels * taps, dtype=dtype, name="kernel_logits",
        kernel_initializer=keras.initializers.RandomNormal(stddev=0.01),
        bias_initializer=keras.initializers.Constant(centre),
    )(code)
    masks = layers.Conv2D(num_kernels, 3, padding="same", dtype=dtype, name="mask_logits")(hidden)
    logits = KernelMixture(num_kernels, name="kernel_mixture")([masks, kernels])
    return Advection(size, name="advect")([frame, logits])


def _composited_frame(frame, first, hidden, size, channels, dtype, scale=1):
    """SAVP's composite: masks mix the advected frame, frame 0 and a drawn frame."""
    advected = _advected_frame(frame, hidden, size, dtype, scale)
    drawn = layers.Conv2D(channels, 3, padding="same", activation="tanh", dtype=dtype,
                          name="drawn_frame")(hidden)
    # Starts near the advected frame (softmax of 4, 0, -4: 98% of the weight), as a
    # fresh "advect" model does.
    masks = layers.Conv2D(
        len(Composite.SOURCES), 3, padding="same", dtype=dtype, name="source_logits",
        kernel_initializer=keras.initializers.RandomNormal(stddev=0.01),
        bias_initializer=keras.initializers.Constant([4.0, 0.0, -4.0]),
    )(hidden)
    return Composite(name="composite")([masks, advected, first, drawn])


@keras.saving.register_keras_serializable(package="keras_vidgan")
class Composite(layers.Layer):
    """Mixes a frame's sources per pixel: `y = sum_k softmax(masks)_k * source_k`.

    The sources are the advected previous frame, frame 0 and a freshly drawn frame
    (SAVP, Lee et al. 2018: `first_image_background`, `generate_scratch_image`).
    Pixels taken from frame 0 are copied, not resampled at every step, so a still
    background stays sharp while the advected pixels move over it, and the drawn
    frame fills what no motion can bring (a disocclusion, a new object).

    Call arguments:
        inputs: list `[masks, advected, first, drawn]`: `(batch, H, W, 3)` logits and
            three `(batch, H, W, C)` frames in [-1, 1].

    Returns:
        The next frame, `(batch, H, W, C)` float32 in [-1, 1] (a convex combination).
    """

    SOURCES = ("advected", "first", "drawn")

    def __init__(self, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)

    def call(self, inputs):
        masks, *sources = (keras.ops.cast(x, "float32") for x in inputs)
        weights = keras.ops.softmax(masks, axis=-1)
        stacked = keras.ops.stack(sources, axis=-1)  # (batch, H, W, C, sources)
        return keras.ops.sum(stacked * weights[:, :, :, None, :], axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape[1]


@keras.saving.register_keras_serializable(package="keras_vidgan")
class KernelMixture(layers.Layer):
    """Per-pixel advection logits from a few whole-frame kernels and per-pixel masks.

    `w[p] = sum_k softmax(masks[p])_k * softmax(kernels_k)`: every pixel's weights
    are a mix of the same `num_kernels` motions (Finn et al. 2016, CDNA), returned as
    `log(w)`, so that `Advection`'s softmax gives back `w` exactly.

    Args:
        num_kernels: int. Number of kernels.

    Call arguments:
        inputs: list `[masks, kernels]`: `(batch, H, W, num_kernels)` logits and
            `(batch, num_kernels * taps)` logits.

    Returns:
        `(batch, H, W, taps)` float32 logits for `Advection`.
    """

    def __init__(self, num_kernels, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.num_kernels = int(num_kernels)

    def call(self, inputs):
        masks, kernels = (keras.ops.cast(x, "float32") for x in inputs)
        kernels = keras.ops.reshape(kernels, (-1, self.num_kernels, kernels.shape[-1] // self.num_kernels))
        weights = keras.ops.einsum(
            "bhwk,bkt->bhwt", keras.ops.softmax(masks, axis=-1), keras.ops.softmax(kernels, axis=-1)
        )
        return keras.ops.log(weights + 1e-12)

    def compute_output_shape(self, input_shape):
        masks, kernels = input_shape
        return (*masks[:3], kernels[-1] // self.num_kernels)

    def get_config(self):
        return {**super().get_config(), "num_kernels": self.num_kernels}


@keras.saving.register_keras_serializable(package="keras_vidgan")
class Advection(layers.Layer):
    """Moves a frame's pixels: `y[p] = sum_k softmax(logits[p])_k * x[p + d_k]`.

    `d_k` runs over the `size x size` offsets around each pixel (borders mirrored).
    The weights are a convex combination, so the output keeps the frame's colours
    and range, and one-hot weights shift pixels exactly: the residual `y - x` of
    §3.1.1 step 3 is then a motion of the frame's own content, which does not smear
    or drift in colour over a long rollout the way a generated residual did (dynamic
    neural advection, Finn et al. 2016).

    Args:
        size: int. Odd neighbourhood size; pixels move up to `size // 2` per step.

    Call arguments:
        inputs: list `[frame, logits]`: `(batch, H, W, C)` and `(batch, H, W, size**2)`.

    Returns:
        The moved frame, `(batch, H, W, C)` float32.
    """

    def __init__(self, size=5, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if size < 1 or size % 2 == 0:
            raise ValueError(f"Expected an odd `size` >= 1, received: size={size}")
        self.size = int(size)

    def _shifts(self, channels):
        """One-hot depthwise kernel: output channel `c * taps + k` is `x[p + d_k]`."""
        taps = self.size * self.size
        kernel = np.zeros((self.size, self.size, channels, taps), "float32")
        for k in range(taps):
            kernel[k // self.size, k % self.size, :, k] = 1.0
        return kernel

    def call(self, inputs):
        ops = keras.ops
        frame, logits = inputs
        frame = ops.cast(frame, "float32")
        weights = ops.softmax(ops.cast(logits, "float32"), axis=-1)
        pad, taps, channels = self.size // 2, self.size * self.size, frame.shape[-1]
        padded = ops.pad(frame, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="symmetric")
        # The shifted copies as one depthwise convolution: its gradient is one kernel,
        # where `taps` slices cost a full-size zero tensor each (the video step's
        # slowest op: docs/benchmarks.md, "Where a step's time goes").
        shifted = ops.depthwise_conv(padded, self._shifts(channels), strides=1, padding="valid")
        height, width = ops.shape(frame)[1:3]  # static or, when served, dynamic
        shifted = ops.reshape(shifted, (-1, height, width, channels, taps))
        return ops.sum(shifted * weights[:, :, :, None, :], axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "size": self.size}


def build_temporal_discriminator(
    frame_size=64,
    channels=3,
    base_filters=32,
    batch_norm=False,
    dtype=None,
    sync_bn=False,
    minibatch_stddev=False,
    kind="pairs",
    clip_len=2,
    name="temporal_discriminator",
):
    """Builds a critic of motion: a 2D CNN over frames stacked on the channel axis.

    A frame discriminator cannot see motion; this critic sees frames together with
    their changes as explicit inputs (`temporal_inputs` makes them from clips):

    - `"pairs"`: `(x_t, x_{t+1} - x_t)` for every consecutive pair of a clip.
    - `"gaps"`: `(x_i, x_j - x_i, (j - i) / (T - 1))` for random `i < j`, the gap as a
      constant plane: DIGAN's motion discriminator, which judges motion over any
      time span, not only the next step.
    - `"clip"`: all `T` frames and their `T - 1` changes at once, one input per clip:
      the clip-level critic of MoCoGAN and DVD-GAN (there 3D convolutions; here a 2D
      CNN whose first layer mixes time, as 3D convolutions ran ~60x slower on CPU).

    Args:
        frame_size: int. Frame height and width, a power of two >= 16. Defaults to 64.
        channels: int. Channels of one frame. Defaults to 3.
        base_filters: int. Width of the first convolution. Defaults to 32.
        batch_norm: bool. Whether to add BatchNorm. Defaults to False.
        dtype: str or `keras.DTypePolicy`. Layer dtype policy. Defaults to the
            global policy.
        sync_bn: bool. Synchronise BatchNorm statistics across replicas. Defaults
            to False.
        minibatch_stddev: bool. Append the batch's feature spread before the
            `Dense` layer (`MinibatchStddev`). Defaults to False.
        kind: str. One of `TEMPORAL_CRITICS`. Defaults to `"pairs"`.
        clip_len: int. Frames per clip `T`, for `"clip"`. Defaults to 2.
        name: str. Model name. Defaults to `"temporal_discriminator"`.

    Returns:
        A `keras.Sequential` with input `frame_pairs` `(batch, frame_size,
        frame_size, temporal_channels(kind, channels, clip_len))` and output logits
        `(batch, 1)` float32.

    Raises:
        ValueError: for an unknown `kind`.
    """
    model = _downsampling_stack(
        frame_size, temporal_channels(kind, channels, clip_len), base_filters, batch_norm,
        dtype, "frame_pairs", name, sync_bn, minibatch_stddev,
    )
    model.add(layers.Dense(1, dtype="float32", name="logit"))
    return model


def temporal_channels(kind, channels, clip_len):
    """Input channels of a temporal critic of `kind` (`build_temporal_discriminator`)."""
    if kind not in TEMPORAL_CRITICS:
        raise ValueError(
            f"Expected `kind` to be one of {TEMPORAL_CRITICS}, received: {kind!r}"
        )
    return {"pairs": 2 * channels, "gaps": 2 * channels + 1,
            "clip": (2 * clip_len - 1) * channels}[kind]


def temporal_kind(critic, channels=3):
    """The `kind` a temporal critic was built for, read from its input channels.

    Args:
        critic: a model from `build_temporal_discriminator`.
        channels: int. Channels of one frame.

    Returns:
        str: `"pairs"` (2C channels), `"gaps"` (2C + 1) or `"clip"` ((2T - 1)C, T >= 2).
    """
    width = int(critic.inputs[0].shape[-1])  # a projection critic's first input too
    kinds = {2 * channels: "pairs", 2 * channels + 1: "gaps"}
    return kinds.get(width, "clip")


def frame_pairs(videos):
    """Stacks consecutive frames as `(x_t, x_{t+1} - x_t)` for the temporal critic.

    Args:
        videos: tensor `(batch, frames, height, width, channels)` in [-1, 1].

    Returns:
        Tensor `(batch * (frames - 1), height, width, 2 * channels)`.
    """
    ops = keras.ops
    current, following = videos[:, :-1], videos[:, 1:]
    pairs = ops.concatenate([current, following - current], axis=-1)
    shape = ops.shape(pairs)
    return ops.reshape(pairs, (-1, shape[2], shape[3], shape[4]))


def gap_pairs(videos, first, second):
    """Stacks frames `i < j` of each clip as `(x_i, x_j - x_i, (j - i) / (T - 1))`.

    Args:
        videos: tensor `(batch, T, height, width, channels)` in [-1, 1].
        first: int tensor `(batch, k)`, frame indices `i` (k pairs per clip).
        second: int tensor `(batch, k)`, frame indices `j > i`.

    Returns:
        Tensor `(batch * k, height, width, 2 * channels + 1)`.
    """
    ops = keras.ops
    num_frames = videos.shape[1]

    def frames_at(index):
        picked = ops.take_along_axis(videos, index[:, :, None, None, None], axis=1)
        return ops.reshape(picked, (-1, *videos.shape[2:]))

    x_i, x_j = frames_at(first), frames_at(second)
    gap = ops.cast(ops.reshape(second - first, (-1, 1, 1, 1)), x_i.dtype) / (num_frames - 1)
    plane = ops.ones_like(x_i[..., :1]) * gap
    return ops.concatenate([x_i, x_j - x_i, plane], axis=-1)


def clip_stack(videos):
    """Stacks a clip's frames and their changes on the channel axis, one input per clip.

    Args:
        videos: tensor `(batch, T, height, width, channels)` in [-1, 1].

    Returns:
        Tensor `(batch, height, width, (2T - 1) * channels)`: `x_0..x_{T-1}`, then
        `x_1 - x_0, ..., x_{T-1} - x_{T-2}`.
    """
    ops = keras.ops
    both = ops.concatenate([videos, videos[:, 1:] - videos[:, :-1]], axis=1)
    both = ops.transpose(both, (0, 2, 3, 1, 4))  # (batch, H, W, 2T - 1, C)
    shape = ops.shape(both)
    return ops.reshape(both, (-1, shape[1], shape[2], shape[3] * shape[4]))


def build_models(config, sync_bn=False):
    """Builds the run's models (uninitialised weights) from a `RunConfig`.

    Args:
        config: `RunConfig`.
        sync_bn: bool. Synchronised BatchNorm, for several replicas.

    Returns:
        Dict with `generator` and `discriminator`, plus `residual_generator` (for
        `residual="latent"`, the `build_latent_motion` model) and
        `temporal_discriminator` in video mode; class-conditional (see
        `conditional_generator`, `projection_critic`) when `config.class_names` is set.
    """
    policy = precision_lib.resolve(config.precision)[0]  # "auto": this machine's choice
    common = {"dtype": keras.DTypePolicy(policy), "sync_bn": sync_bn}
    critic = {"batch_norm": config.d_batch_norm, "minibatch_stddev": config.d_minibatch_stddev}
    size, z, gf, df = config.frame_size, config.z_dim, config.g_filters, config.d_filters
    classes = len(config.class_names)
    z += CLASS_DIM if classes else 0  # the class embedding is joined to the noise
    built = {
        "generator": build_generator(z, size, base_filters=gf, upsample=config.g_upsample,
                                     **common),
        "discriminator": build_discriminator(size, base_filters=df, **critic, **common),
    }
    if config.mode == "video":
        # The video's next-frame model (for "latent", G's noise's), one name for both.
        built["residual_generator"] = (
            build_latent_motion(z, config.z_dim) if config.residual == "latent"
            else build_residual_generator(
                z, size, base_filters=gf, residual=config.residual, skips=config.g_skips,
                upsample=config.g_upsample, motion_scale=config.motion_scale, **common)
        )
        built["temporal_discriminator"] = build_temporal_discriminator(
            size, base_filters=df, kind=config.temporal_critic, clip_len=config.clip_len,
            **critic, **common
        )
    return _conditioned_models(built, classes) if classes else built


# --- Class conditioning --------------------------------------------------------------
# Wrappers that make any of the models above class-conditional without changing them:
# a learned class embedding joined to a generator's `noise` input, and a projection
# term added to a critic's logit (Miyato & Koyama 2018). A conditional model takes its
# usual input and an int `class_id` `(batch,)`: `[x, class_id]` for a one-input model,
# the input dict plus `"class_id"` for a dict-input one (see `conditioned`).

CLASS_DIM = 16  # length of a generator's class embedding


def conditioned(inputs, class_id):
    """A model's `inputs` with `class_id` added, for a conditional model (None: as is)."""
    if class_id is None:
        return inputs
    if isinstance(inputs, dict):
        return {**inputs, "class_id": class_id}
    return [inputs, class_id]


def _class_input():
    return keras.Input(shape=(), dtype="int32", name="class_id")


def conditional_generator(model, num_classes, embed_dim=CLASS_DIM, name=None):
    """Joins a learned class embedding to the `noise` input of `model`.

    `model` is built for noise of length `z_dim + embed_dim`; the returned model
    takes noise of length `z_dim` and `class_id`, and feeds `model` with
    `concat(noise, embed(class_id))`. Any other input (a frame) passes through.

    Args:
        model: a generator whose input is `noise` or a dict with `"noise"`.
        num_classes: int >= 2.
        embed_dim: int. Length of the class embedding. Defaults to `CLASS_DIM`.
        name: str or None. Defaults to `model.name`.

    Returns:
        A `keras.Model` taking `[noise, class_id]` (or the dict plus `"class_id"`).
    """
    several = len(model.inputs) > 1  # a dict-input model, e.g. {"noise", "frame"}
    given = {t.name: t for t in model.inputs} if several else {"noise": model.inputs[0]}
    inputs = {
        key: keras.Input(shape=(int(t.shape[-1]) - embed_dim,) if key == "noise" else t.shape[1:],
                         name=key)
        for key, t in given.items()
    }
    class_id = _class_input()
    embedded = layers.Embedding(num_classes, embed_dim, name="class_embedding")(class_id)
    code = layers.Concatenate(name="noise_and_class")([inputs["noise"], embedded])
    output = model({**inputs, "noise": code} if several else code)
    wrapped = {**inputs, "class_id": class_id} if several else [inputs["noise"], class_id]
    return keras.Model(wrapped, output, name=name or model.name)


@keras.saving.register_keras_serializable(package="keras_vidgan")
class ClassProjection(layers.Layer):
    """The projection term of a class-conditional critic: `<embed(y), phi(x)>`.

    A projection discriminator (Miyato & Koyama 2018) scores `D(x, y) = psi(phi(x))
    + embed(y)^T phi(x)`, where `phi(x)` are the critic's features before its last
    Dense layer `psi`: the class enters as an inner product with the features,
    which (for the optimal critic of a conditional GAN) is the log-ratio of the
    class-conditional densities, rather than as an input channel.

    Args:
        num_classes: int. Number of classes.

    Call arguments:
        inputs: list `[features, class_id]`: `(batch, F)` and int `(batch,)`.

    Returns:
        `(batch, 1)` float32.
    """

    def __init__(self, num_classes, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            shape=(self.num_classes, int(input_shape[0][-1])), name="embeddings",
            initializer=keras.initializers.RandomNormal(stddev=0.02),
        )

    def call(self, inputs):
        features, class_id = inputs
        embedded = keras.ops.take(self.embeddings, keras.ops.cast(class_id, "int32"), axis=0)
        features = keras.ops.cast(features, "float32")
        return keras.ops.sum(embedded * features, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 1)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


def projection_critic(critic, num_classes, name=None):
    """A class-conditional critic: `critic`'s logit plus a `ClassProjection` term.

    `critic` is any one-input critic whose last layer is a Dense `"logit"` (the
    frame and temporal critics above); its features `phi(x)` are that layer's input.

    Returns:
        A `keras.Model` taking `[x, class_id]` and returning `(batch, 1)` logits.
    """
    head = critic.get_layer("logit")
    features = keras.Model(critic.inputs, head.input, name=f"{critic.name}_features")
    x = keras.Input(shape=critic.inputs[0].shape[1:], name=critic.inputs[0].name)
    class_id = _class_input()
    phi = features(x)
    projection = ClassProjection(num_classes, name="class_projection")([phi, class_id])
    logit = layers.Add(dtype="float32", name="logit_and_projection")([head(phi), projection])
    return keras.Model([x, class_id], logit, name=name or critic.name)


def _conditioned_models(built, num_classes):
    """`build_models`'s models, conditional on one of `num_classes` classes."""
    wrap = {"generator": conditional_generator, "residual_generator": conditional_generator,
            "discriminator": projection_critic, "temporal_discriminator": projection_critic}
    return {key: wrap[key](model, num_classes) for key, model in built.items()}


def num_classes(model):
    """The classes a conditional model takes (0 for an unconditional one)."""
    for layer in model.layers:
        if layer.name == "class_embedding":
            return int(layer.input_dim)
        if isinstance(layer, ClassProjection):
            return layer.num_classes
    return 0


def noise_dim(generator):
    """Length of the noise a (conditional or not) generator takes."""
    named = {t.name: t for t in generator.inputs}
    return int(named.get("noise", generator.inputs[0]).shape[-1])
