"""Run configuration: every setting of a run, saved as `RUN_DIR/config.json`.

`generate`, `export` and a resumed `train` read it back, so no flag is repeated.
"""

import dataclasses
import json
import os

import keras

from keras_vidgan import augment, models

__all__ = ["RunConfig", "build_models", "PRECISIONS"]

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
CONFIG_NAME = "config.json"


@dataclasses.dataclass
class RunConfig:
    """Settings of one training run (defaults: the document's listing, §4).

    Attributes:
        mode: str. `"frame"` (the document's GAN) or `"video"` (§3.1.1 step 3).
        data: str. Folder of training videos.
        frame_size: int. Frame height and width (power of two >= 16).
        z_dim: int. Noise length (§4: 100).
        g_filters: int. Width of G's last upsampling stage.
        d_filters: int. Width of D's first convolution.
        d_batch_norm: bool. BatchNorm in the discriminators (§3.1.2; off by default,
            see `build_discriminator`).
        d_minibatch_stddev: bool. A `MinibatchStddev` feature in the discriminators
            (not in the document; off by default, on in `make demo`: see README, Quality).
        g_ema: float. Decay of a moving average of G's weights that samples and
            exports (`Trainer(ema_decay=...)`); 0 keeps none (the document's GAN).
        loss: str. `"bce"` or `"lsgan"`.
        learning_rate: float. Adam learning rate of both optimizers (§4: 2e-4).
        beta_1: float. Adam beta_1 (§4: 0.5).
        batch_size: int. Global batch size (§4: 32).
        steps: int. Total training steps of the run.
        frame_steps: int. Video mode: how many of `steps` come first and train the
            frame GAN alone (a warm-up; see `Trainer`).
        residual: str. Video mode: how the residual generator moves a frame,
            `"add"` (a generated residual, §3.1.1 step 3) or `"advect"` (the
            frame's pixels moved locally; see `models.Advection`).
        augment: str. DiffAugment policy of the critics' inputs:
            `"translation,color"`, a part of it, or `"none"` (see `keras_vidgan.augment`).
        clip_len: int. Frames per training clip in video mode.
        num_frames: int. Frames of generated and exported videos.
        frame_step: int. Keep every n-th frame of the source videos.
        fps: float. Target frame rate (0: use frame_step).
        resize: str. `"crop"` or `"letterbox"`.
        frame_weight: float. Frame discriminator weight (video mode).
        temporal_weight: float. Temporal discriminator weight (video mode).
        seed: int. Seed of noise, shuffling and initial weights.
        precision: str. `"float32"`, `"mixed_bfloat16"` or `"mixed_float16"`.
        checkpoint_every: int. Steps between checkpoints.
        sample_every: int. Steps between sample grids/videos (0: off).
        log_every: int. Steps between TensorBoard scalars.
        eval_every: int. Steps between quality evaluations (FVD / frame FD) into
            TensorBoard; 0 for none.
    """

    mode: str = "frame"
    data: str = ""
    frame_size: int = 64
    z_dim: int = 100
    g_filters: int = 16
    d_filters: int = 32
    d_batch_norm: bool = False
    d_minibatch_stddev: bool = False
    g_ema: float = 0.0
    loss: str = "bce"
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    batch_size: int = 32
    steps: int = 1000
    frame_steps: int = 0
    augment: str = "none"
    residual: str = "add"
    clip_len: int = 4
    num_frames: int = 16
    frame_step: int = 1
    fps: float = 0.0
    resize: str = "crop"
    frame_weight: float = 1.0
    temporal_weight: float = 1.0
    seed: int = 0
    precision: str = "float32"
    checkpoint_every: int = 200
    sample_every: int = 100
    log_every: int = 10
    eval_every: int = 0

    def validate(self):
        """Raises ValueError naming the first bad setting."""
        checks = [
            (self.mode in ("frame", "video"), "mode must be 'frame' or 'video'"),
            (self.frame_size >= 16 and not self.frame_size & (self.frame_size - 1),
             "frame_size must be a power of two >= 16"),
            (self.loss in ("bce", "lsgan"), "loss must be 'bce' or 'lsgan'"),
            (self.precision in PRECISIONS, f"precision must be one of {PRECISIONS}"),
            (self.batch_size >= 1 and self.steps >= 0 and self.z_dim >= 1,
             "batch_size and z_dim must be >= 1 and steps >= 0"),
            (self.frame_steps >= 0, "frame_steps must be >= 0"),
            (0.0 <= self.g_ema < 1.0, "g_ema must be in [0, 1) (0: no average, e.g. 0.999)"),
            (self.clip_len >= 2 or self.mode == "frame", "clip_len must be >= 2"),
            (self.num_frames >= 1, "num_frames must be >= 1"),
            (self.residual in models.RESIDUALS, f"residual must be one of {models.RESIDUALS}"),
        ]
        try:
            augment.parse_policy(self.augment)
        except ValueError as err:
            checks.append((False, f"augment: {err}"))
        for ok, message in checks:
            if not ok:
                raise ValueError(f"Invalid run config: {message}; received: {self}")
        return self

    def save(self, run_dir):
        """Writes `run_dir/config.json` atomically; returns its path."""
        os.makedirs(run_dir, exist_ok=True)
        path = os.path.join(run_dir, CONFIG_NAME)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(dataclasses.asdict(self), f, indent=2, sort_keys=True)
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, run_dir):
        """Reads `run_dir/config.json`.

        Raises:
            FileNotFoundError: if `run_dir` holds no run.
        """
        path = os.path.join(run_dir, CONFIG_NAME)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"Expected a run folder with {CONFIG_NAME}, received: {run_dir!r}; "
                "train one with `keras-vidgan train --data DIR --out RUN_DIR`."
            )
        with open(path) as f:
            values = json.load(f)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known}).validate()

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


def build_models(config, sync_bn=False):
    """Builds the run's models (uninitialised weights) from a `RunConfig`.

    Args:
        config: `RunConfig`.
        sync_bn: bool. Synchronised BatchNorm, for several replicas.

    Returns:
        Dict with `generator` and `discriminator`, plus `residual_generator` and
        `temporal_discriminator` in video mode.
    """
    common = {"dtype": keras.DTypePolicy(config.precision), "sync_bn": sync_bn}
    critic = {"batch_norm": config.d_batch_norm, "minibatch_stddev": config.d_minibatch_stddev}
    size, z, gf, df = config.frame_size, config.z_dim, config.g_filters, config.d_filters
    built = {
        "generator": models.build_generator(z, size, base_filters=gf, **common),
        "discriminator": models.build_discriminator(size, base_filters=df, **critic, **common),
    }
    if config.mode == "video":
        built["residual_generator"] = models.build_residual_generator(
            z, size, base_filters=gf, residual=config.residual, **common
        )
        built["temporal_discriminator"] = models.build_temporal_discriminator(
            size, base_filters=df, **critic, **common
        )
    return built
