"""Sampling videos from trained models: noise, rollouts, latent walks.

Tensor convention: videos are `(batch, frames, height, width, channels)`, float32 in
[-1, 1]. Every function here is made of TensorFlow ops on static shapes, so the same
code runs eagerly, inside `tf.function` and inside an exported SavedModel.

The noise contract (`seeded_noise`), the one function every seeded draw of noise
goes through: the noise of `(seed, stream)` is

    tf.random.stateless_normal((n, z_dim), seed=[seed, stream])   # int64, float32

- Training: `seed` is the run's seed and `stream` the step, for the global batch
  (each replica takes its rows), so a resumed or distributed run draws the same noise.
- Sampling (`generate`, `Trainer.generate`, `keras-vidgan generate --seed S`,
  `evaluate`): `seed` S, `stream` 0; a frame-mode latent walk ends at seed S + 1.
- Export: `generate_seeded(seeds)` draws row i as `seeded_noise(1, z_dim, seeds[i])`,
  so `keras-vidgan generate --seed 7 --n 1` and `generate_seeded(seeds=[7])` give the
  same frames (with `--n N`, the N rows of one draw of seed 7 instead).
- A latent motion model's per-step motion noise (`seeded_motion_noise`) is drawn from a hash
  of each video's noise row, so a video is a function of its noise everywhere
  (sampling, `evaluate` and every exported signature). Training draws it from
  `(seed, step)`, as the noise.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_vidgan import models as models_lib

__all__ = ["seeded_noise", "sample_noise", "generate", "rollout", "video_from_noise",
           "latent_walk", "latent_path", "latent_video", "seeded_motion_noise", "class_ids"]


def seeded_noise(n, z_dim, seed, stream=0):
    """The noise contract (module docstring): N(0, 1) noise of `(seed, stream)`.

    Args:
        n: int or scalar tensor. Number of noise vectors.
        z_dim: int. Length of each vector.
        seed: int or int64 scalar tensor.
        stream: int or int64 scalar tensor (the training step; 0 for sampling).

    Returns:
        A float32 tensor `(n, z_dim)`, a pure function of its arguments.
    """
    pair = tf.stack([tf.cast(seed, tf.int64), tf.cast(stream, tf.int64)])
    return tf.random.stateless_normal((n, z_dim), seed=pair, dtype=tf.float32)


def sample_noise(n, z_dim, seed=None):
    """Standard normal noise `(n, z_dim)` float32; the same `seed` gives the same noise.

    Args:
        n: int. Number of noise vectors.
        z_dim: int. Length of each vector.
        seed: int (`seeded_noise(n, z_dim, seed)`), `keras.random.SeedGenerator` or
            None (fresh noise every call).

    Returns:
        A float32 tensor `(n, z_dim)`.
    """
    if isinstance(seed, (int, np.integer)):
        return seeded_noise(n, z_dim, int(seed))
    return keras.random.normal((n, z_dim), seed=seed)


def class_ids(num_classes, n, classes=None):
    """The int32 class ids `(n,)` of `n` samples of a conditional model (None: unconditional).

    Args:
        num_classes: int. Classes of the model; 0 for an unconditional one.
        n: int. Number of samples.
        classes: an int (all `n` of that class), a sequence of `n` ids, or None
            (0, 1, ..., num_classes - 1, 0, ... in turn).

    Raises:
        ValueError: classes for an unconditional model, a wrong count, or an id
            outside `[0, num_classes)`.
    """
    if not num_classes:
        if classes is not None:
            raise ValueError("Expected no classes for an unconditional model (train with "
                             f"--labels subfolders for classes), received: {classes!r}")
        return None
    if classes is None:
        ids = np.arange(n) % num_classes
    else:
        ids = np.broadcast_to(np.asarray(classes), (n,)) if np.ndim(classes) == 0 else np.asarray(classes)
    if ids.shape != (n,) or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"Expected one int class id or {n} of them, received: {classes!r}")
    if ids.min() < 0 or ids.max() >= num_classes:
        raise ValueError(f"Expected class ids in [0, {num_classes}), received: {classes!r}")
    return tf.constant(ids, tf.int32)


def generate(models, n, seed=None, num_frames=None, first_frame=None, classes=None):
    """Frames or videos from a run's models in inference mode.

    Args:
        models: dict with `generator` (and `residual_generator` for a video model),
            as `runs.load_models` returns (G is the run's average when it keeps one).
        n: int. Number of samples.
        seed: int (the noise contract, see the module docstring), a
            `keras.random.SeedGenerator`, or None for fresh noise.
        num_frames: int or None. None: frames `(n, H, W, C)` from G. An int: videos
            `(n, num_frames, H, W, C)`, rolled out by the residual generator of a
            video model, a latent walk (to the noise of `seed + 1`) of a frame model.
        first_frame: array `(n, H, W, C)` in [-1, 1], or None. Video models: start
            the rollout from these frames (image-to-video).
        classes: conditional models: see `class_ids` (None: the classes in turn).

    Returns:
        `np.ndarray` float32 in [-1, 1].
    """
    generator, residual = models["generator"], models.get("residual_generator")
    z_dim = models_lib.noise_dim(generator)
    y = class_ids(models_lib.num_classes(generator), n, classes)
    noise = sample_noise(n, z_dim, seed)
    if num_frames is None:
        return keras.ops.convert_to_numpy(
            generator(models_lib.conditioned(noise, y), training=False))
    if first_frame is not None and residual is not None and models_lib.is_latent_motion(residual):
        raise ValueError("A latent-motion run (residual 'latent') draws every frame from noise "
                         "and cannot start from an image; generate without --from-image, or "
                         "train with --residual advect for image-to-video.")
    if residual is None:
        end_seed = seed + 1 if isinstance(seed, (int, np.integer)) else seed
        end = sample_noise(n, z_dim, end_seed)
        return latent_walk(generator, noise, end, num_frames, y).numpy()
    if first_frame is None:
        return video_from_noise(generator, residual, noise, num_frames, y).numpy()
    return rollout(residual, first_frame, noise, num_frames, y).numpy()


def rollout(residual_generator, first_frame, noise, num_frames, class_id=None):
    """Rolls the residual generator out from a first frame (§3.1.1 step 3, repeated).

    `x_0 = first_frame`, `x_{t+1} = R(z, x_t)` (`R(z, x_t, x_0)` for a
    `residual="composite"` model): each generated frame is added to the previous
    one. The same noise `z` drives every step of a video, so a video is a function
    of `(first_frame, z)` and different noise gives a different motion.

    Args:
        residual_generator: model from `build_residual_generator`.
        first_frame: tensor `(batch, height, width, channels)` in [-1, 1].
        noise: tensor `(batch, z_dim)`.
        num_frames: int. Frames in the output video, the first frame included.
        class_id: int tensor `(batch,)` for a conditional model, or None.

    Returns:
        Tensor `(batch, num_frames, height, width, channels)` float32 in [-1, 1],
        whose frame 0 is `first_frame`.

    Raises:
        ValueError: if `num_frames` < 1.
    """
    num_frames = int(num_frames)
    if num_frames < 1:
        raise ValueError(f"Expected num_frames >= 1, received: {num_frames}")
    first = frame = tf.cast(first_frame, tf.float32)
    noise = tf.cast(noise, tf.float32)  # a NumPy array too: Keras takes no mixed dict
    # A symbolic loop, not a Python one: an exported graph holds R once, not
    # num_frames - 1 times (a 16-frame video export: 5x faster to write, 2x to check).
    frames = tf.TensorArray(tf.float32, size=num_frames, element_shape=frame.shape)

    def step(t, frame, frames):
        inputs = models_lib.step_inputs(residual_generator, noise, frame, first)
        inputs = models_lib.conditioned(inputs, class_id)
        frame = tf.cast(residual_generator(inputs, training=False), tf.float32)
        return t + 1, frame, frames.write(t, frame)

    _, _, frames = tf.while_loop(lambda t, *_: t < num_frames, step,
                                 (tf.constant(1), frame, frames.write(0, frame)))
    return tf.transpose(frames.stack(), [1, 0, 2, 3, 4])


def video_from_noise(generator, residual_generator, noise, num_frames, class_id=None):
    """A video from noise alone: the frame generator draws frame 0, then a rollout.

    With a latent motion model (`models.build_latent_motion`) in place of the
    residual generator, G draws every frame instead (`latent_video`).

    Args:
        generator: frame generator from `build_generator`.
        residual_generator: model from `build_residual_generator`, or
            `build_latent_motion`.
        noise: tensor `(batch, z_dim)`.
        num_frames: int. Frames per video.
        class_id: int tensor `(batch,)` for conditional models, or None.

    Returns:
        Tensor `(batch, num_frames, height, width, channels)` float32 in [-1, 1].
    """
    if models_lib.is_latent_motion(residual_generator):
        return latent_video(generator, residual_generator, noise, num_frames, class_id)
    first = generator(models_lib.conditioned(noise, class_id), training=False)
    return rollout(residual_generator, first, noise, num_frames, class_id)


def seeded_motion_noise(noise, num_steps, dim=models_lib.MOTION_NOISE_DIM):
    """The motion noise `(batch, num_steps, dim)` of each row of `noise`.

    Row i is `stateless_normal` with the seed `(hash of noise row i, 1)`: standard
    normal, independent of the row's own values in distribution, and the same for
    the same noise in any process (the module docstring's contract).

    Args:
        noise: tensor `(batch, z_dim)` float32.
        num_steps: int. Steps of the video, its frames minus one.
        dim: int. Length of each step's motion noise.

    Returns:
        A float32 tensor `(batch, num_steps, dim)`.
    """
    bits = tf.strings.as_string(tf.bitcast(tf.cast(noise, tf.float32), tf.int32))
    rows = tf.strings.reduce_join(bits, axis=-1, separator=",")
    seeds = tf.strings.to_hash_bucket_fast(rows, 2**62)
    return tf.map_fn(
        lambda s: tf.random.stateless_normal((num_steps, dim), tf.stack([s, 1])), seeds,
        fn_output_signature=tf.float32,
    )


def latent_path(noise, steps):
    """The noise of every frame: `z_0 = noise`, `z_t = z_{t-1} + steps[:, t - 1]`.

    Args:
        noise: tensor `(batch, z_dim)`.
        steps: tensor `(batch, frames - 1, z_dim)`, a latent motion model's output.

    Returns:
        Tensor `(batch, frames, z_dim)` float32.
    """
    noise = tf.cast(noise, tf.float32)[:, None]
    moved = noise + tf.cumsum(tf.cast(steps, tf.float32), axis=1)
    return tf.concat([noise, moved], axis=1)


def latent_video(generator, motion, noise, num_frames, class_id=None, motion_noise=None,
                 training=False):
    """A video whose every frame G draws from a moving noise (`build_latent_motion`).

    `x_t = G(z_t)` along `latent_path(z, motion(z, e))`; G always in inference mode
    (it is frozen while the motion model trains).

    Args:
        generator: frame generator from `build_generator`.
        motion: model from `models.build_latent_motion`.
        noise: tensor `(batch, z_dim)`.
        num_frames: int >= 1. Frames per video.
        class_id: int tensor `(batch,)` for conditional models, or None.
        motion_noise: tensor `(batch, num_frames - 1, dim)`, or None:
            `seeded_motion_noise(noise, num_frames - 1)`.
        training: bool. The motion model's mode.

    Returns:
        Tensor `(batch, num_frames, height, width, channels)` float32 in [-1, 1].
    """
    num_frames = int(num_frames)
    if num_frames < 1:
        raise ValueError(f"Expected num_frames >= 1, received: {num_frames}")
    noise = tf.cast(noise, tf.float32)
    if num_frames == 1:
        path = noise[:, None]
    else:
        if motion_noise is None:
            motion_noise = seeded_motion_noise(noise, num_frames - 1,
                                               models_lib.motion_noise_dim(motion))
        inputs = models_lib.conditioned({"noise": noise, "motion_noise": motion_noise}, class_id)
        path = latent_path(noise, motion(inputs, training=training))  # (batch, T, z_dim)
    flat = tf.reshape(path, (-1, path.shape[-1]))  # batch-major: video 0's frames first
    y = None if class_id is None else tf.repeat(class_id, num_frames)
    frames = tf.cast(generator(models_lib.conditioned(flat, y), training=False), tf.float32)
    return tf.reshape(frames, (-1, num_frames, *frames.shape[1:]))


def latent_walk(generator, start, end, num_frames, class_id=None):
    """A video from a frame-only generator by walking in z (a cheap baseline).

    Interpolates spherically (slerp) from `start` to `end` noise, which keeps the
    noise norm typical of a Gaussian, and decodes each step.

    Args:
        generator: frame generator from `build_generator`.
        start: tensor `(batch, z_dim)`. Noise of the first frame.
        end: tensor `(batch, z_dim)`. Noise of the last frame.
        num_frames: int. Frames per video (>= 2).
        class_id: int tensor `(batch,)` for a conditional generator, or None.

    Returns:
        Tensor `(batch, num_frames, height, width, channels)` float32 in [-1, 1].
    """
    start = tf.convert_to_tensor(start, tf.float32)
    end = tf.convert_to_tensor(end, tf.float32)
    cos = tf.reduce_sum(
        tf.math.l2_normalize(start, -1) * tf.math.l2_normalize(end, -1), -1, keepdims=True
    )
    omega = tf.acos(tf.clip_by_value(cos, -0.9999, 0.9999))
    frames = []
    for t in np.linspace(0.0, 1.0, int(num_frames)):
        z = (tf.sin((1.0 - t) * omega) * start + tf.sin(t * omega) * end) / tf.sin(omega)
        frames.append(tf.cast(generator(models_lib.conditioned(z, class_id), training=False),
                              tf.float32))
    return tf.stack(frames, axis=1)
