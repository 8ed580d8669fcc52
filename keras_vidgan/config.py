"""Run configuration: every setting of a run, saved as `RUN_DIR/config.json`.

`generate`, `export` and a resumed `train` read it back, so no flag is repeated.
Each field carries its help text and choices (and, for the CLI, a lower bound) in
its metadata: the `train` flags are generated from them (`keras_vidgan.cli`).

This module imports no TensorFlow, so that `keras-vidgan --help` answers at once.
"""

import dataclasses
import json
import os

__all__ = ["RunConfig", "PRECISIONS", "MODES", "LOSSES", "RESIDUALS", "RESIZES", "CONFIG_NAME"]

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
MODES = ("frame", "video")
LOSSES = ("bce", "lsgan")
# How the residual generator's residual is made: "add", a generated residual (the
# document's), or "advect", the frame's own pixels moved within a small neighbourhood.
RESIDUALS = ("add", "advect")
RESIZES = ("crop", "letterbox")
CONFIG_NAME = "config.json"


def _setting(default, help, choices=None, **bounds):
    """A RunConfig field with its help text, choices and bounds (e.g. `min=1`) as metadata."""
    return dataclasses.field(default=default, metadata={"help": help, "choices": choices, **bounds})


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

    mode: str = _setting("frame", "frame GAN (the document's) or video GAN (§3.1.1 step 3)",
                         choices=MODES)
    data: str = _setting("", "folder of training videos (searched recursively)")
    frame_size: int = _setting(64, "frame height and width, power of two >= 16", min=16)
    z_dim: int = _setting(100, "noise length", min=1)
    g_filters: int = _setting(16, "generator width at full size, doubled per stage", min=1)
    d_filters: int = _setting(32, "discriminator width at full size", min=1)
    d_batch_norm: bool = _setting(False, "BatchNorm in the discriminators (§3.1.2; off by "
                                  "default, see README)")
    d_minibatch_stddev: bool = _setting(False, "a minibatch-stddev feature in the "
                                        "discriminators against dropped modes (off by "
                                        "default, on in make demo; see README, Quality)")
    g_ema: float = _setting(0.0, "keep a moving average of G's weights with this decay, e.g. "
                            "0.999, and sample and export with it (0: none; see README, Quality)")
    loss: str = _setting("bce", "GAN loss", choices=LOSSES)
    learning_rate: float = _setting(2e-4, "Adam learning rate of G and D")
    beta_1: float = _setting(0.5, "Adam beta_1 of G and D")
    batch_size: int = _setting(32, "global batch size", min=1)
    steps: int = _setting(1000, "total training steps of the run", min=1)
    frame_steps: int = _setting(0, "video mode: the first N of --steps train the frame GAN "
                                "alone, a cheap warm-up")
    augment: str = _setting("none", "DiffAugment of the critics' inputs: 'translation,color', "
                            "either one, or 'none' (see README, Quality)")
    residual: str = _setting("add", "video mode: 'add' a generated residual to each frame (the "
                             "document's) or 'advect' the frame's pixels (see README, Quality)",
                             choices=RESIDUALS)
    clip_len: int = _setting(4, "frames per training clip, video mode", min=1)
    num_frames: int = _setting(16, "frames of sample and exported videos", min=1)
    frame_step: int = _setting(1, "keep every n-th source frame", min=1)
    fps: float = _setting(0.0, "target frame rate; overrides --frame-step per file (0: off)")
    resize: str = _setting("crop", "how frames are made square", choices=RESIZES)
    frame_weight: float = _setting(1.0, "weight of the frame critic (video mode)")
    temporal_weight: float = _setting(1.0, "weight of the temporal critic (video mode)")
    seed: int = _setting(0, "seed of noise, shuffling and initial weights")
    precision: str = _setting("float32", "compute precision", choices=PRECISIONS)
    checkpoint_every: int = _setting(200, "steps between checkpoints", min=1)
    sample_every: int = _setting(100, "steps between samples, 0 for none")
    log_every: int = _setting(10, "steps between TensorBoard scalars (progress lines: 10x)",
                              min=1)
    eval_every: int = _setting(0, "steps between evaluations (FVD with >= 9 frames and cached "
                               "I3D weights, else frame FD) into TensorBoard; 0: off")

    def validate(self):
        """Raises ValueError naming the first bad setting."""
        checks = [
            (self.mode in MODES, "mode must be 'frame' or 'video'"),
            (self.frame_size >= 16 and not self.frame_size & (self.frame_size - 1),
             "frame_size must be a power of two >= 16"),
            (self.loss in LOSSES, "loss must be 'bce' or 'lsgan'"),
            (self.precision in PRECISIONS, f"precision must be one of {PRECISIONS}"),
            (self.batch_size >= 1 and self.steps >= 0 and self.z_dim >= 1,
             "batch_size and z_dim must be >= 1 and steps >= 0"),
            (self.frame_steps >= 0, "frame_steps must be >= 0"),
            (0.0 <= self.g_ema < 1.0, "g_ema must be in [0, 1) (0: no average, e.g. 0.999)"),
            (self.clip_len >= 2 or self.mode == "frame", "clip_len must be >= 2"),
            (self.num_frames >= 1, "num_frames must be >= 1"),
            (self.residual in RESIDUALS, f"residual must be one of {RESIDUALS}"),
        ]
        from keras_vidgan import augment  # TensorFlow: only when a run is checked

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

    @classmethod
    def from_file(cls, path):
        """Reads a JSON file of settings: a run's `config.json`, the output of
        `keras-vidgan config`, or a hand-written subset (the rest keep their defaults).

        Raises:
            FileNotFoundError: if there is no such file.
            ValueError: on bad JSON, an unknown setting or a value of the wrong type.
        """
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Expected a JSON config file, received: {path!r}")
        try:
            with open(path) as f:
                values = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f"Expected a JSON config file, {path!r} is not JSON: {err}") from None
        if not isinstance(values, dict):
            raise ValueError(f"Expected a JSON object of settings in {path!r}")
        types = {f.name: f.type for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(types))
        if unknown:
            raise ValueError(
                f"Unknown settings {unknown} in {path!r}; `keras-vidgan config` lists them all."
            )
        for name, value in values.items():
            kind = types[name]
            expected = (int, float) if kind is float else kind
            if not isinstance(value, expected) or (isinstance(value, bool) and kind is not bool):
                raise ValueError(
                    f"Expected {name} to be a {kind.__name__} in {path!r}, received: {value!r}"
                )
        return cls(**values)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)
