"""The Trainer: a `tf.function` GradientTape step with two Adam optimizers.

listing defect 8: the listing shared one Adam between G and D; each network has its
own here. listing defect 9: gradients are taken after the tapes close, the step is a
`tf.function`, and `fit` runs the requested number of steps over real batches.
"""

import math
import os
import shutil
import signal
import tempfile

import keras
import numpy as np
import tensorflow as tf

from keras_vidgan import augment as augment_lib
from keras_vidgan import losses as losses_lib
from keras_vidgan import models as models_lib
from keras_vidgan import sampling

__all__ = ["Trainer", "NonFiniteError", "adam"]


class NonFiniteError(RuntimeError):
    """Raised when a loss or weight becomes NaN or Inf during training."""


def adam(learning_rate=2e-4, beta_1=0.5):
    """The document's optimizer: `Adam(learning_rate=2e-4, beta_1=0.5)` (§4)."""
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1)


def _is_chief(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    return resolver.task_type in ("chief", None) or (
        resolver.task_type == "worker" and resolver.task_id == 0
    )


def _state_variables(optimizer):
    """An optimizer's state: its step count and slots (all its variables but the rate)."""
    inner = getattr(optimizer, "inner_optimizer", optimizer)  # a LossScaleOptimizer's Adam
    rate = getattr(inner, "_learning_rate", None)  # a Variable, or a schedule (not listed)
    return [v for v in inner.variables if v is not rate]


def _copy_of(model):
    """A model of the same architecture holding a copy of `model`'s weights."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def _computes_in_float16(model):
    """True if any layer computes in float16 (needs loss scaling)."""
    return any(getattr(layer, "compute_dtype", None) == "float16" for layer in model._flatten_layers())


class Trainer:
    """Trains the document's GAN on frames, or its video mode on clips.

    Frame mode (`residual_generator=None`): G maps noise to frames, D scores frames,
    batches are frames `(batch, H, W, C)`. Video mode: batches are clips `(batch, T,
    H, W, C)`; G draws frames from noise, the residual generator rolls each real
    clip's first frame out for T - 1 steps (§3.1.1 step 3), the frame discriminator
    scores single frames and the temporal discriminator consecutive pairs (or, by
    its `kind`, pairs at any time gap or whole clips). With a latent motion model
    (`models.build_latent_motion`) as `residual_generator`, no frame is rolled out:
    after the warm-up G is frozen and draws every frame from a noise the motion
    model moves, and only the motion model and the temporal critic learn (MoCoGAN-HD).

    Class-conditional models (`build_models` of a config with `class_names`) train on
    `(batch, class_ids)` pairs (`VideoFolder.dataset` of a labelled folder); the fakes
    of a step are asked for the real batch's classes.

    Each step draws fresh noise, stateless from `(seed, step, replica)`: the same
    seed gives the same noise, also after a resume and on any number of replicas.
    G and D are updated simultaneously from one generator pass, as in the TensorFlow
    DCGAN tutorial.

    Args:
        generator: frame generator (`build_generator`).
        discriminator: frame discriminator returning logits (`build_discriminator`).
        residual_generator: model from `build_residual_generator` or
            `build_latent_motion` (video mode), or None (frame mode).
        temporal_discriminator: model from `build_temporal_discriminator`; required
            with `residual_generator`.
        loss: str. `"bce"` (§3.1.3), `"lsgan"` (listing defect 7, corrected) or
            `"hinge"` (`losses.hinge_discriminator_loss`).
        g_optimizer: optimizer for G (and the residual generator). Defaults to
            `Adam(2e-4, beta_1=0.5)`.
        d_optimizer: a separate optimizer for the discriminators. Same default.
        frame_weight: float. Weight of the frame discriminator's losses in video
            mode. Defaults to 1.
        temporal_weight: float. Weight of the temporal discriminator's losses.
            Defaults to 1.
        temporal_critic: str or None. What the temporal discriminator judges
            (`models.build_temporal_discriminator`'s `kind`): `"pairs"`, `"gaps"`
            (clip_len - 1 random pairs per clip, the same for real and generated
            clips) or `"clip"`. Defaults to None: read from the critic's input
            channels (`models.temporal_kind`); a value that disagrees is an error.
        frame_steps: int. Video mode: the first `frame_steps` steps train G and D
            alone on the clips' first frames (frame mode), so that the rollouts of
            §3.1.1 step 3 start from frames that already look like the data. Frame
            steps are several times cheaper than video steps. At the first video
            step both optimizers restart (step count and moments, as built): Adam
            counts steps once for all its variables, so the residual generator and
            temporal critic, trained only from then on, would otherwise skip Adam's
            bias correction and step at up to 16x the learning rate. Defaults to 0.
        augment: DiffAugment policy for the critics' inputs, e.g.
            `"translation,color"` (see `keras_vidgan.augment`), or None. Real and
            generated samples get independent draws; clips one draw per clip.
            Defaults to None (the document's GAN, unaugmented).
        seed: int. Seed of the training noise. Defaults to 0.
        strategy: a `tf.distribute.Strategy`, or None for the default. Models must be
            built under `strategy.scope()`; batches are global batches.
        checkpoint_dir: str or None. Where `save`/`restore` keep checkpoints.
        max_checkpoints: int. Checkpoints kept. Defaults to 3.
        jit_compile: bool. Compile the step with XLA (slower on CPU here; for GPUs).
        ema_decay: float. With a decay in (0, 1), the trainer keeps
            `ema_generator`, an exponential moving average of G's weights (ProGAN,
            StyleGAN; not in the document), updated after every step, and samples
            and exports with it: `ema = d * ema + (1 - d) * weights`, with
            `d = min(ema_decay, (1 + step) / (10 + step))` so that short runs are
            not held near the initial weights. 0 (the default) keeps none.

    Example:
    ```python
    g, d = build_generator(frame_size=16), build_discriminator(frame_size=16)
    trainer = Trainer(g, d)
    history = trainer.fit(folder.dataset(batch_size=8), steps=10)
    frames = trainer.generate(4, seed=0)  # (4, 16, 16, 3) in [-1, 1]
    ```
    """

    def __init__(
        self,
        generator,
        discriminator,
        *,
        residual_generator=None,
        temporal_discriminator=None,
        loss="bce",
        g_optimizer=None,
        d_optimizer=None,
        frame_weight=1.0,
        temporal_weight=1.0,
        temporal_critic=None,
        frame_steps=0,
        augment=None,
        seed=0,
        strategy=None,
        checkpoint_dir=None,
        max_checkpoints=3,
        jit_compile=False,
        ema_decay=0.0,
    ):
        if (residual_generator is None) != (temporal_discriminator is None):
            raise ValueError(
                "Expected both residual_generator and temporal_discriminator (video "
                "mode) or neither (frame mode), received only one of them."
            )
        self.generator = generator
        self.discriminator = discriminator
        self.residual_generator = residual_generator
        self.temporal_discriminator = temporal_discriminator
        self.d_loss_fn, self.g_loss_fn = losses_lib.get_losses(loss)
        self.frame_weight = float(frame_weight)
        self.temporal_weight = float(temporal_weight)
        self.temporal_critic = self._temporal_kind(temporal_discriminator, temporal_critic)
        self.frame_steps = int(frame_steps) if residual_generator is not None else 0
        self.augment = augment_lib.parse_policy(augment)
        self.seed = int(seed)
        self.strategy = strategy or tf.distribute.get_strategy()
        self.z_dim = models_lib.noise_dim(generator)
        self.num_classes = models_lib.num_classes(generator)  # 0: unconditional
        if not 0.0 <= ema_decay < 1.0:
            raise ValueError(
                f"Expected ema_decay in [0, 1) (0: no average), received: {ema_decay}"
            )
        self.ema_decay = float(ema_decay)
        self.trace_count = 0
        self.stop_training = False  # set by a callback: `fit` ends after this step
        self.completed = False  # whether the last `fit` ended normally (for callbacks)
        self._checked = False  # the first batch's shape is validated once
        self._last_saved = -1
        self._data_name = None  # the checkpoint's name of the data position, see `fit`
        with self.strategy.scope():
            self.g_optimizer = self._prepare(g_optimizer or adam(), self.g_variables)
            self.d_optimizer = self._prepare(d_optimizer or adam(), self.d_variables)
            self._fresh_state = [
                (v, v.numpy()) for o in (self.g_optimizer, self.d_optimizer)
                for v in _state_variables(o)
            ]
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.sample_seed = keras.random.SeedGenerator(self.seed)
            self.ema_generator = _copy_of(generator) if self.ema_decay else None
        # No AutoGraph: the step has no Python control flow on tensors, and converting
        # its code (Keras's optimizer's included) lengthened every first trace at the
        # same step time (docs/benchmarks.md, "Test suite time").
        self._step_fn = tf.function(
            self._distributed_step, reduce_retracing=True, jit_compile=jit_compile,
            autograph=False,
        )
        self.checkpoint = tf.train.Checkpoint(
            generator=generator,
            discriminator=discriminator,
            g_optimizer=self.g_optimizer,
            d_optimizer=self.d_optimizer,
            step=self.step,
            sample_seed=self.sample_seed.state,
            **({"ema_generator": self.ema_generator} if self.ema_generator is not None else {}),
            **({"residual_generator": residual_generator,
                "temporal_discriminator": temporal_discriminator}
               if self.video_mode else {}),
        )
        self.manager = (
            tf.train.CheckpointManager(self.checkpoint, checkpoint_dir, max_checkpoints)
            if checkpoint_dir
            else None
        )

    # --- Properties -----------------------------------------------------------------

    @property
    def video_mode(self):
        return self.residual_generator is not None

    @property
    def sampling_generator(self):
        """The G that samples and exports: `ema_generator` if kept, else `generator`."""
        return self.generator if self.ema_generator is None else self.ema_generator

    @property
    def latent_motion(self):
        """True if the video's model moves G's noise (`residual="latent"`): G is
        frozen after the warm-up and draws every frame."""
        return self.video_mode and models_lib.is_latent_motion(self.residual_generator)

    @property
    def g_variables(self):
        models = [self.generator, self.residual_generator]
        return [v for m in models if m is not None for v in m.trainable_variables]

    @property
    def d_variables(self):
        models = [self.discriminator, self.temporal_discriminator]
        return [v for m in models if m is not None for v in m.trainable_variables]

    def _prepare(self, optimizer, variables):
        if _computes_in_float16(self.generator) and not isinstance(
            optimizer, keras.optimizers.LossScaleOptimizer
        ):
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        optimizer.build(variables)
        return optimizer

    # --- The training step ----------------------------------------------------------

    def _replica_rows(self, draw, batch, stream):
        """This replica's `batch` rows of a stateless draw for the global batch.

        `draw(rows, seed)` is called for the global batch with a seed made of
        `(seed, step)` (and `stream`, when nonzero); each replica takes its own rows,
        so N replicas see exactly the random numbers one device would.
        """
        replicas = self.strategy.num_replicas_in_sync
        replica = tf.distribute.get_replica_context()
        index = replica.replica_id_in_sync_group if replica else 0
        seed = tf.stack([tf.constant(self.seed, tf.int64), self.step])
        if stream:
            seed = tf.random.experimental.stateless_fold_in(seed, stream)
        rows = draw(batch * replicas, seed)
        return tf.nest.map_structure(lambda r: r[index * batch:(index + 1) * batch], rows)

    def _noise(self, batch):
        """Noise for this replica's `batch` rows of the global batch."""
        return self._replica_rows(  # the noise contract: (seed, step)
            lambda rows, seed: sampling.seeded_noise(rows, self.z_dim, seed[0], seed[1]),
            batch, stream=0,
        )

    def _augment(self, x, stream):
        """DiffAugment of a critic's input (identity without `augment`).

        `stream` keeps the draws of each input independent: 1 and 2 for the frame
        critic's real and generated frames, 3 and 4 for the temporal critic's real
        and generated clips (0 is the noise's).
        """
        if not self.augment:
            return x
        params = self._replica_rows(augment_lib.random_params, tf.shape(x)[0], stream)
        return augment_lib.apply(x, params, self.augment)

    def _frame_losses(self, real, y=None):
        """Frame mode: the document's GAN on a batch of frames (of classes `y`, if given).

        A conditional run draws its fakes with the real batch's classes, so that the
        critic compares real and generated samples of the same classes.
        """
        c = models_lib.conditioned
        noise = self._noise(tf.shape(real)[0])  # as many fakes as real frames
        fake = self.generator(c(noise, y), training=True)
        real_logits = self.discriminator(c(self._augment(real, 1), y), training=True)
        fake_logits = self.discriminator(c(self._augment(fake, 2), y), training=True)
        return {
            "d_loss": self.d_loss_fn(real_logits, fake_logits),
            "g_loss": self.g_loss_fn(fake_logits),
            "d_real": tf.reduce_mean(tf.sigmoid(tf.cast(real_logits, tf.float32))),
            "d_fake": tf.reduce_mean(tf.sigmoid(tf.cast(fake_logits, tf.float32))),
        }

    def _video_losses(self, real, y=None):
        """Video mode: frame GAN + residual rollout judged frame-wise and in time.

        Half of the rollouts start from the real clips' first frames (image-to-video),
        half from G's frames (video from noise), so both uses are trained. G learns
        from the frame discriminator only: the rollout's losses stop at its frames.
        Letting them through spoiled G's frames while the residual generator was
        still poor (demo data, an earlier residual branch, otherwise equal runs: FVD
        of G's frames held still 1512 with, 1142 without).
        """
        c, shape, num_frames = models_lib.conditioned, tf.shape(real), real.shape[1]
        noise = self._noise(shape[0])
        first_fake = self.generator(c(noise, y), training=True)
        half = shape[0] // 2
        frame = tf.concat([real[:half, 0], tf.stop_gradient(first_fake[half:])], axis=0)
        # A Python loop: a tf.while_loop traced faster but made the step slower
        # (measured side by side: docs/benchmarks.md, "Test suite time").
        fakes, start = [], frame
        for _ in range(num_frames - 1):  # §3.1.1 step 3, rolled out
            inputs = models_lib.step_inputs(self.residual_generator, noise, frame, start)
            frame = self.residual_generator(c(inputs, y), training=True)
            fakes.append(frame)
        fake_clip = tf.stack([start] + fakes, axis=1)
        return self._clip_losses(real, fake_clip, tf.concat([first_fake] + fakes, axis=0), y)

    def _latent_video_losses(self, real, y=None):
        """Video mode with a latent motion model (`residual="latent"`, MoCoGAN-HD).

        G, trained in the warm-up, is frozen (its average, where the run keeps one)
        and draws every frame along the motion model's path in its latent
        (`sampling.latent_video`); only the motion model and the temporal critic
        learn. The frame critic sits out: against frames that cannot improve it
        learns to tell G's apart and then pulls every path into the one region it
        scores best (benchmarks/QUALITY_LOG.md). The motion noise is drawn from
        `(seed, step)`, stream 6.
        """
        batch, num_frames = tf.shape(real)[0], real.shape[1]
        noise = self._noise(batch)
        dim = models_lib.motion_noise_dim(self.residual_generator)
        motion_noise = self._replica_rows(
            lambda rows, seed: tf.random.stateless_normal((rows, num_frames - 1, dim), seed),
            batch, stream=6,
        )
        fake_clip = sampling.latent_video(self.sampling_generator, self.residual_generator,
                                          noise, num_frames, y, motion_noise, training=True)
        temporal = self._temporal_losses(real, fake_clip, y)
        tw = self.temporal_weight
        return {**temporal, "d_loss": tw * temporal["d_loss_temporal"],
                "g_loss": tw * temporal["g_loss_temporal"]}

    def _clip_losses(self, real, fake_clip, fake_frames, y):
        """The losses of a video step: the frame critic's and the temporal critic's.

        Args:
            real: real clips `(batch, T, H, W, C)`.
            fake_clip: generated clips, the same shape.
            fake_frames: generated frames for the frame critic, time-major
                (the `batch` frames 0, then frames 1, ...).
            y: class ids `(batch,)` or None.
        """
        c, shape, num_frames = models_lib.conditioned, tf.shape(real), real.shape[1]
        real_frames = tf.reshape(real, tf.concat([[-1], shape[2:]], 0))
        # The classes of the frame critic's inputs (None: unconditional): clips'
        # frames are batch-major, the generated frames time-major.
        y_frames = None if y is None else tf.repeat(y, num_frames)
        y_fakes = None if y is None else tf.tile(y, [num_frames])
        real_logits = self.discriminator(c(self._augment(real_frames, 1), y_frames), training=True)
        fake_logits = self.discriminator(c(self._augment(fake_frames, 2), y_fakes), training=True)
        temporal = self._temporal_losses(real, fake_clip, y)
        fw, tw = self.frame_weight, self.temporal_weight
        frame = {  # each critic's losses, logged apart (TensorBoard: one tag each)
            "d_loss_frame": self.d_loss_fn(real_logits, fake_logits),
            "g_loss_frame": self.g_loss_fn(fake_logits),
        }
        return {
            **temporal, **frame,
            "d_loss": fw * frame["d_loss_frame"] + tw * temporal["d_loss_temporal"],
            "g_loss": fw * frame["g_loss_frame"] + tw * temporal["g_loss_temporal"],
            "d_real": tf.reduce_mean(tf.sigmoid(tf.cast(real_logits, tf.float32))),
            "d_fake": tf.reduce_mean(tf.sigmoid(tf.cast(fake_logits, tf.float32))),
        }

    def _temporal_losses(self, real, fake_clip, y):
        """The temporal critic's losses and mean sigmoids on real and generated clips."""
        c, num_frames = models_lib.conditioned, real.shape[1]
        # A clip critic sees one input per clip, a pairs critic T - 1 (batch-major).
        y_pairs = y if y is None or self.temporal_critic == "clip" else tf.repeat(y, num_frames - 1)
        pick = self._temporal_picker(tf.shape(real)[0], num_frames)
        real_pair = self.temporal_discriminator(c(pick(self._augment(real, 3)), y_pairs), training=True)
        fake_pair = self.temporal_discriminator(
            c(pick(self._augment(fake_clip, 4)), y_pairs), training=True
        )
        return {
            "d_loss_temporal": self.d_loss_fn(real_pair, fake_pair),
            "g_loss_temporal": self.g_loss_fn(fake_pair),
            "t_real": tf.reduce_mean(tf.sigmoid(tf.cast(real_pair, tf.float32))),
            "t_fake": tf.reduce_mean(tf.sigmoid(tf.cast(fake_pair, tf.float32))),
        }

    @staticmethod
    def _temporal_kind(critic, asked):
        """The temporal critic's kind: `asked`, checked against the critic's inputs."""
        if critic is None:
            return asked or "pairs"
        built = models_lib.temporal_kind(critic)
        if asked is not None and asked != built:
            models_lib.temporal_channels(asked, 3, 2)  # an unknown kind: its own error
            raise ValueError(
                f"Expected a temporal critic built for {asked!r}, received one whose "
                f"{critic.inputs[0].shape[-1]} input channels are those of {built!r}; build it "
                f"with `build_temporal_discriminator(kind={asked!r})`."
            )
        return built

    def _temporal_picker(self, batch, num_frames):
        """Clips -> the temporal critic's inputs; for `"gaps"`, one draw of frame pairs.

        The pairs `i < j` are uniform over all pairs of a clip, `num_frames - 1` per
        clip, drawn from stream 5 and shared by the real and generated clips, so
        the gaps tell the critic nothing about which is which.
        """
        if self.temporal_critic == "pairs":
            return models_lib.frame_pairs
        if self.temporal_critic == "clip":
            return models_lib.clip_stack

        def draw(rows, seed):
            shape = (rows, num_frames - 1)
            a = tf.random.stateless_uniform(shape, seed, 0, num_frames, tf.int32)
            b = tf.random.stateless_uniform(
                shape, tf.random.experimental.stateless_fold_in(seed, 1), 0, num_frames - 1,
                tf.int32,
            )
            b = b + tf.cast(b >= a, tf.int32)  # a different frame
            return tf.minimum(a, b), tf.maximum(a, b)

        first, second = self._replica_rows(draw, batch, stream=5)
        return lambda clips: models_lib.gap_pairs(clips, first, second)

    def _objective(self, optimizer, loss):
        """The scalar to differentiate: loss per replica, loss-scaled in float16."""
        loss = loss / self.strategy.num_replicas_in_sync  # gradients are summed
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            loss = optimizer.scale_loss(loss)
        return loss

    def _apply(self, optimizer, tape, objective, variables):
        """Applies the gradients of `objective`; returns their (unscaled) norm."""
        grads = tape.gradient(objective, variables)
        norm = tf.linalg.global_norm(grads) * self.strategy.num_replicas_in_sync
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            norm = norm / tf.cast(optimizer.dynamic_scale, tf.float32)
        optimizer.apply(grads, variables)  # unscales and skips non-finite in fp16
        return norm

    def _replica_step(self, real, frames_only):
        video = self.video_mode and not frames_only
        real, y = real if isinstance(real, tuple) else (real, None)  # (clips, class ids)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            if video and self.latent_motion:
                logs = self._latent_video_losses(real, y)
            elif video:
                logs = self._video_losses(real, y)
            else:  # frame mode, or a video-mode warm-up step on the first frames
                logs = self._frame_losses(real if real.shape.rank == 4 else real[:, 0], y)
            d_objective = self._objective(self.d_optimizer, logs["d_loss"])
            g_objective = self._objective(self.g_optimizer, logs["g_loss"])
        g_variables = (
            self.generator.trainable_variables if not video
            else self.residual_generator.trainable_variables if self.latent_motion  # G frozen
            else self.g_variables
        )
        d_variables = (
            self.discriminator.trainable_variables if not video
            else self.temporal_discriminator.trainable_variables if self.latent_motion
            else self.d_variables
        )
        # listing defect 9: gradients after the tapes close, one optimizer each.
        logs["d_grad_norm"] = self._apply(self.d_optimizer, d_tape, d_objective, d_variables)
        logs["g_grad_norm"] = self._apply(self.g_optimizer, g_tape, g_objective, g_variables)
        return logs

    def _distributed_step(self, real, frames_only=False):
        self.trace_count += 1  # Python side effect: runs once per trace only
        logs = self.strategy.run(self._replica_step, args=(real, frames_only))
        self.step.assign_add(1)
        if self.ema_generator is not None and (frames_only or not self.latent_motion):
            self._update_ema()  # a latent-motion video step leaves G as it is
        return {
            k: self.strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None)
            for k, v in logs.items()
        }

    def _update_ema(self):
        """`ema = d * ema + (1 - d) * weights` over all of G's weights (BatchNorm's too)."""
        step = tf.cast(self.step, tf.float32)
        decay = tf.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))
        for average, weight in zip(self.ema_generator.weights, self.generator.weights):
            average.assign(decay * average + (1.0 - decay) * tf.cast(weight, average.dtype))

    @property
    def in_frame_warmup(self):
        """True while a video-mode run is in its `frame_steps` warm-up."""
        return int(self.step.numpy()) < self.frame_steps

    def train_step(self, batch):
        """Runs one step on a batch (a per-replica value under a strategy).

        Returns:
            Dict of float32 scalar tensors: `d_loss`, `g_loss`, `d_real`, `d_fake`
            (mean sigmoid of D on real and generated frames), gradient norms, and
            in video steps (after any `frame_steps`) `t_real`/`t_fake` of the
            temporal discriminator.
        """
        step = int(self.step.numpy())
        if self.frame_steps and step == self.frame_steps:
            self.restart_optimizers()  # the first video step
        return self._step_fn(batch, step < self.frame_steps)

    def restart_optimizers(self):
        """Resets both optimizers' step counts and moments to their built values.

        Called at the first video step after a `frame_steps` warm-up. Keras
        optimizers keep one step count for all their variables, and Adam's bias
        correction divides the moments by `1 - beta**count`; with a count of
        `frame_steps`, variables first trained afterwards would take undamped steps,
        about `(1 - beta_1) / sqrt(1 - beta_2)` = 16x the learning rate at first.
        From one 6000-step warm-up, FVD restarted vs carried on: 651 vs 668 (demo
        data), 1195 vs 1177 (real clips), within run-to-run noise; kept so that the
        video nets take the steps the document's learning rate asks for.
        """
        for variable, value in self._fresh_state:
            variable.assign(value)

    # --- Loop ------------------------------------------------------------------------

    def fit(self, dataset, steps, callbacks=None, checkpoint_every=0, data_key=None,
            steps_per_epoch=None):
        """Trains for `steps` steps on batches from `dataset`.

        Every step's losses are checked: a NaN or Inf stops the run with
        `NonFiniteError` (after the callbacks saw the step's logs, so Keras's
        `TerminateOnNaN` reports it) before anything is saved, so the last checkpoint
        stays good. With a `checkpoint_dir`, a checkpoint is written every
        `checkpoint_every` steps and when the loop ends, also by Ctrl-C, SIGTERM or a
        callback's `stop_training`. With a `data_key` the checkpoints also hold the
        position in `dataset`, so that a run resumed on the same data trains on the
        batches an uninterrupted run would.

        Callbacks are any `keras.callbacks.Callback`, driven through a
        `keras.callbacks.CallbackList` with this trainer as their `model` (see
        `keras_vidgan.callbacks`): `on_train_batch_end` gets each step's logs (floats:
        the metrics of `train_step` and `loss`), `on_epoch_end` their means over an
        epoch of `steps_per_epoch` steps, and setting `stop_training` ends the run
        after the current step (`EarlyStopping` on any logged value).

        Args:
            dataset: `tf.data.Dataset` of real batches (frames in frame mode, clips
                in video mode), float32 in [-1, 1]; repeated as needed.
            steps: int. Steps to run in this call.
            callbacks: list of `keras.callbacks.Callback`, or None.
            checkpoint_every: int. Steps between checkpoints; 0 only at the end.
            data_key: str or None. Names the data and its batching (e.g.
                `VideoFolder.fingerprint(batch_size, clip_len, seed)`): a restored
                checkpoint continues `dataset` where it stopped if it was saved
                with the same key, and starts it afresh otherwise. None, or more
                than one replica: `dataset` starts afresh on every call.
            steps_per_epoch: int or None. Steps of one epoch for the callbacks'
                epoch hooks; None: all `steps` are one epoch.

        Returns:
            `keras_vidgan.callbacks.TrainingHistory` (a `keras.callbacks.History`):
            `history["d_loss"]` etc. list one float per step, `history["step"]`
            the global steps.

        Raises:
            NonFiniteError: if a loss or gradient norm becomes NaN or Inf.
            ValueError: if the batches do not match the mode or the models.
        """
        from keras_vidgan.callbacks import TrainingHistory

        steps = int(steps)
        per_epoch = max(1, min(int(steps_per_epoch or steps), steps))
        self.history = history = TrainingHistory()  # as `keras.Model.fit` sets it
        callbacks = keras.callbacks.CallbackList(
            [*(callbacks or []), history], model=self, verbose=0,
            epochs=math.ceil(steps / per_epoch), steps=per_epoch, total_steps=steps,
        )
        iterator = iter(self._distribute(dataset))
        if data_key and self.strategy.num_replicas_in_sync == 1:
            # Tracked under the data's key: a restore saved with the same key is
            # pending on this name and applies now (tf.train.Checkpoint's deferred
            # restore); a checkpoint of other data leaves this iterator fresh.
            if self._data_name and self._data_name != f"data_{data_key}":
                delattr(self.checkpoint, self._data_name)  # keep one data position
            self._data_name = f"data_{data_key}"
            setattr(self.checkpoint, self._data_name, iterator)
        self.stop_training = self.completed = False
        callbacks.on_train_begin()
        diverged = False
        with _sigterm_as_interrupt() as sigterm:
            try:
                done = 0
                for epoch in range(math.ceil(steps / per_epoch)):
                    callbacks.on_epoch_begin(epoch)
                    epoch_logs = {}
                    for batch in range(min(per_epoch, steps - done)):
                        sigterm.raise_if_received()
                        callbacks.on_train_batch_begin(batch)
                        logs, bad = self._run_one(iterator)
                        diverged = bool(bad)
                        callbacks.on_train_batch_end(batch, logs)
                        if bad:
                            raise NonFiniteError(self._diverged_message(logs, bad))
                        done += 1
                        for key, value in logs.items():
                            epoch_logs.setdefault(key, []).append(value)
                        step = int(self.step.numpy())
                        if checkpoint_every and step % checkpoint_every == 0:
                            self.save()
                        if self.stop_training:
                            break
                    callbacks.on_epoch_end(epoch, {k: float(np.mean(v))
                                                   for k, v in epoch_logs.items()})
                    if self.stop_training:
                        break
                sigterm.raise_if_received()  # also when it came during the last step
                self.completed = True
            finally:
                # Ctrl-C, SIGTERM or a data error: keep what was trained so far; a
                # diverged run's weights are poisoned: keep the last checkpoint.
                if not diverged and self._last_saved != int(self.step.numpy()):
                    self.save()
                callbacks.on_train_end()
        return history

    # What Keras callbacks reach on their `model`: the optimizer (Keras's TensorBoard
    # logs its learning rate and iterations), the step function (its graph), weights.

    @property
    def optimizer(self):
        """G's optimizer, the one Keras callbacks (e.g. `TensorBoard`) look at."""
        return self.g_optimizer

    @property
    def train_function(self):
        return self._step_fn

    def get_weights(self):
        """Weights of every model, in a fixed order (Keras's `EarlyStopping` restores them)."""
        return [w for m in self._models() for w in m.get_weights()]

    def set_weights(self, weights):
        weights = list(weights)
        for model in self._models():
            count = len(model.weights)
            model.set_weights(weights[:count])
            weights = weights[count:]

    def _models(self):
        models = [self.generator, self.discriminator, self.residual_generator,
                  self.temporal_discriminator, self.ema_generator]
        return [m for m in models if m is not None]

    def _distribute(self, dataset):
        """Splits each global batch into per-replica slices, in replica order.

        Replica r of N gets rows `[r * b, (r + 1) * b)` of every global batch, on
        every worker, so that distributed training sees the same examples (and the
        same noise, see `_noise`) as one device. Each worker reads the whole dataset:
        keep it deterministic (a seed for the shuffle).
        """
        replicas = self.strategy.num_replicas_in_sync
        if replicas == 1:
            return dataset

        def per_worker(context):
            local = replicas // context.num_input_pipelines
            first = context.input_pipeline_id * local

            def split(*batch):  # a batch, or (batch, class ids)
                with tf.control_dependencies([tf.debugging.assert_equal(
                    tf.shape(batch[0])[0] % replicas, 0,
                    message=f"the global batch size must be divisible by the {replicas} replicas",
                )]):
                    parts = tuple(tf.reshape(b, tf.concat([[replicas, -1], tf.shape(b)[1:]], 0))
                                  for b in batch)
                parts = tuple(p[first:first + local] for p in parts)
                return tf.data.Dataset.from_tensor_slices(parts if len(parts) > 1 else parts[0])

            return dataset.flat_map(split)

        options = tf.distribute.InputOptions(experimental_fetch_to_device=False)
        return self.strategy.distribute_datasets_from_function(per_worker, options)

    def _run_one(self, iterator):
        """One step: `(logs, names of the non-finite losses and norms)`."""
        batch = next(iterator)
        self._check_batch(batch)
        logs = {k: float(v) for k, v in self.train_step(batch).items()}
        # The scalar Keras callbacks watch by default (`TerminateOnNaN`, `monitor=`):
        # the sum of both players' losses, a divergence signal, not a quality measure.
        logs["loss"] = logs["d_loss"] + logs["g_loss"]
        bad = [k for k in ("d_loss", "g_loss", "d_grad_norm", "g_grad_norm")
               if not math.isfinite(logs[k])]
        return logs, bad

    def _diverged_message(self, logs, bad):
        return (
            f"Training diverged at step {int(self.step.numpy())}: "
            f"{', '.join(f'{k}={logs[k]}' for k in bad)}. The last checkpoint is "
            "kept; lower the learning rate, try --loss lsgan or --precision float32."
        )

    def _check_batch(self, batch):
        if self._checked:
            return
        values = self.strategy.experimental_local_results(batch)
        labelled = isinstance(values[0], tuple)
        if labelled != bool(self.num_classes):
            raise ValueError(
                f"Expected {'(clips, class ids)' if self.num_classes else 'unlabelled'} batches "
                f"for {'conditional' if self.num_classes else 'unconditional'} models, received "
                f"{'labelled' if labelled else 'unlabelled'} ones; build the models with "
                "class_names matching the data's labels."
            )
        values = [v[0] for v in values] if labelled else values
        rank = len(values[0].shape)
        expected = 5 if self.video_mode else 4
        if rank != expected:
            kind = "clips (batch, T, H, W, C)" if self.video_mode else "frames (batch, H, W, C)"
            raise ValueError(
                f"Expected batches of {kind}, received: shape={tuple(values[0].shape)}"
            )
        want = tuple(self.generator.output_shape[1:])
        if tuple(values[0].shape[-3:]) != want:
            raise ValueError(
                f"Expected frames of shape {want} to match the models, received: "
                f"{tuple(values[0].shape[-3:])}; build the models with this frame_size."
            )
        self._checked = True

    # --- Checkpoints -------------------------------------------------------------------

    def save(self):
        """Writes a checkpoint if weights are finite; returns its path (or None).

        Raises:
            NonFiniteError: if a weight is NaN or Inf (nothing is written).
        """
        if self.manager is None:
            return None
        for var in self.g_variables + self.d_variables:
            if not np.all(np.isfinite(var.numpy())):
                raise NonFiniteError(
                    f"Not saving a checkpoint: weight {var.path} is not finite."
                )
        step = int(self.step.numpy())
        if not _is_chief(self.strategy):
            # Every worker must take part in a multi-worker save; only the chief keeps it.
            scratch = tempfile.mkdtemp(prefix="keras_vidgan_worker_")
            try:
                self.checkpoint.write(os.path.join(scratch, "ckpt"))
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            self._last_saved = step
            return None
        path = self.manager.save(checkpoint_number=step)
        self._last_saved = step
        return path

    def restore(self, path=None):
        """Restores the latest checkpoint (or `path`); returns the step reached.

        Returns 0 when there is no checkpoint to restore.
        """
        path = path or (self.manager.latest_checkpoint if self.manager else None)
        if not path:
            return 0
        status = self.checkpoint.restore(path)
        status.assert_existing_objects_matched()
        status.expect_partial()  # the data position waits for `fit` (see `data_key`)
        self._last_saved = int(self.step.numpy())
        return self._last_saved

    # --- Sampling ---------------------------------------------------------------------

    def generate(self, n, seed=None, num_frames=None, first_frame=None, classes=None):
        """Generates frames or videos with the models in inference mode.

        G is `sampling_generator`: the moving average of its weights when the trainer
        keeps one (`ema_decay`).

        Args:
            n: int. Number of samples.
            seed: int or None. The same seed gives the same samples; None draws new
                noise from the trainer's seed generator.
            num_frames: int or None. None: frames `(n, H, W, C)` from G. An int:
                videos `(n, num_frames, H, W, C)`, rolled out by the residual
                generator in video mode, a latent walk in frame mode.
            first_frame: array `(n, H, W, C)` in [-1, 1], or None. Video mode: start
                the rollout from these frames (image-to-video).
            classes: conditional models: an int (every sample of that class), a list
                of `n` class ids, or None (classes 0, 1, ..., K - 1, 0, ... in turn).

        Returns:
            `np.ndarray` float32 in [-1, 1].
        """
        return sampling.generate(
            self.sampling_models(), n, self.sample_seed if seed is None else seed,
            num_frames, first_frame, classes,
        )

    def sampling_models(self):
        """The models that sample and export (G: `sampling_generator`), as a dict."""
        built = {"generator": self.sampling_generator, "discriminator": self.discriminator}
        if self.video_mode:
            built["residual_generator"] = self.residual_generator
            built["temporal_discriminator"] = self.temporal_discriminator
        return built


class _sigterm_as_interrupt:
    """Turns SIGTERM into KeyboardInterrupt between steps, so `finally` saves.

    The handler only records the signal; the loop raises before its next step, in
    its own code, never inside a TensorFlow call. (Raised from the handler, it once
    ended a test run under load in SIGSEGV before the interrupt was reported.)
    """

    def __enter__(self):
        self._previous = None
        self._received = None
        try:
            self._previous = signal.signal(signal.SIGTERM, self._record)
        except ValueError:  # not in the main thread
            pass
        return self

    def _record(self, signum, frame):
        self._received = signum

    def raise_if_received(self):
        if self._received is not None:
            raise KeyboardInterrupt(f"signal {self._received}")

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
        return False
