"""Run configuration: every setting of a run, saved as `RUN_DIR/config.json`.

`generate`, `export` and a resumed `train` read it back, so no flag is repeated.
Each field carries its help text and choices (and, for the CLI, a lower bound) in
its metadata: the `train` flags are generated from them (`keras_vidgan.cli`).

This module imports no TensorFlow, so that `keras-vidgan --help` answers at once.
"""

import dataclasses
import json
import math
import os

from keras_vidgan import _files

__all__ = ["RunConfig", "PRECISIONS", "MODES", "LOSSES", "RESIDUALS", "TEMPORAL_CRITICS",
           "UPSAMPLES", "MOTION_SCALES", "MOTION_FIELD_RESIDUALS", "RESIZES", "LABELS",
           "CONFIG_NAME", "BOUNDS"]

# "auto": the machine's choice (keras_vidgan.precision.resolve).
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
MODES = ("frame", "video")
LOSSES = ("bce", "lsgan", "hinge")
# How the residual generator's residual is made: "add", a generated residual (the
# document's), "advect", the frame's own pixels moved within a small neighbourhood,
# "kernels", moved by a few whole-frame motions, or "composite", the advected frame,
# frame 0 and a drawn frame mixed per pixel (SAVP); or "latent": no pixels are moved,
# a recurrent motion model moves G's noise and G draws every frame (MoCoGAN-HD).
RESIDUALS = ("add", "advect", "kernels", "composite", "latent")
MOTION_FIELD_RESIDUALS = ("advect", "composite")  # the ones with a motion field
# What the temporal critic sees of a clip: "pairs" of consecutive frames, "gaps", pairs
# of any two frames with their time gap (DIGAN), or the whole "clip" (DVD-GAN, MoCoGAN).
TEMPORAL_CRITICS = ("pairs", "gaps", "clip")
# How the generators double their size: the document's "transpose"d convolution, or a
# nearest-neighbour "resize" and a 3x3 convolution (no checkerboard).
UPSAMPLES = ("transpose", "resize")
# The advection's motion field at 1/N of the frame size (1: per pixel).
MOTION_SCALES = (1, 2, 4)
RESIZES = ("crop", "letterbox")
LABELS = ("none", "subfolders")  # where a video's class comes from (`load_video_folder`)
CONFIG_NAME = "config.json"
_MAX_STEPS = 10**9

# Bounds of the numeric fields of `RunConfig`, inclusive (`validate`): `(low, high)`,
# or `(low, high, False)` where `high` itself is excluded. Documented caps: a frame
# size of 512, batches of 1024, clips of 64 and videos of 1024 frames.
BOUNDS = {
    "frame_size": (16, 512),
    "z_dim": (1, 4096),
    "g_filters": (1, 1024),
    "d_filters": (1, 1024),
    "g_ema": (0.0, 1.0, False),
    "learning_rate": (1e-8, 1.0),
    "beta_1": (0.0, 1.0, False),
    "batch_size": (1, 1024),
    "steps": (0, _MAX_STEPS),
    "frame_steps": (0, _MAX_STEPS),
    "clip_len": (1, 64),
    "num_frames": (1, 1024),
    "frame_step": (1, 1000),
    "fps": (0.0, 1000.0),
    "frame_weight": (0.0, 1000.0),
    "temporal_weight": (0.0, 1000.0),
    "seed": (0, 2**31 - 1),
    "checkpoint_every": (1, _MAX_STEPS),
    "sample_every": (0, _MAX_STEPS),
    "log_every": (1, _MAX_STEPS),
    "eval_every": (0, _MAX_STEPS),
}


def _field_problem(field, value):
    """What is wrong with `value` for the dataclass `field` (None if nothing)."""
    kind = field.type
    name = f"{field.name} (--{field.name.replace('_', '-')})"
    if kind is bool:
        return None if isinstance(value, bool) else f"{name} must be true or false, received: {value!r}"
    if kind is str:
        return None if isinstance(value, str) else f"{name} must be a string, received: {value!r}"
    if kind is tuple:
        ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) and v for v in value)
        return None if ok else f"{name} must be a list of names, received: {value!r}"
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        return f"{name} must be an integer, received: {value!r}"
    if kind is float and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return f"{name} must be a number, received: {value!r}"
    if not math.isfinite(value):
        return f"{name} must be finite, received: {value!r}"
    low, high, *closed = BOUNDS.get(field.name, (-math.inf, math.inf))
    top = "]" if not closed or closed[0] else ")"
    if value < low or value > high or (top == ")" and value >= high):
        return f"{name} must be in [{low}, {high}{top}, received: {value!r}"
    return None


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
        loss: str. `"bce"`, `"lsgan"` or `"hinge"`.
        learning_rate: float. Adam learning rate of both optimizers (§4: 2e-4).
        beta_1: float. Adam beta_1 (§4: 0.5).
        batch_size: int. Global batch size (§4: 32).
        steps: int. Total training steps of the run.
        frame_steps: int. Video mode: how many of `steps` come first and train the
            frame GAN alone (a warm-up; see `Trainer`).
        residual: str. Video mode: how the residual generator moves a frame,
            `"add"` (a generated residual, §3.1.1 step 3), `"advect"` (the
            frame's pixels moved locally; see `models.Advection`), `"kernels"` or
            `"composite"` (see `models.build_residual_generator`), or `"latent"`:
            G draws every frame from a noise that a motion model moves, G itself
            frozen after the `frame_steps` warm-up (`models.build_latent_motion`).
        g_skips: bool. Video mode: U-Net skip connections in the residual generator
            (see `models.build_residual_generator`).
        motion_scale: int. Video mode, `"advect"` and `"composite"`: the motion
            field's resolution is 1/N of the frame's (see
            `models.build_residual_generator`).
        g_upsample: str. How the generators (the frame generator and, in video
            mode, the residual generator's decoder) double their size,
            `"transpose"` or `"resize"` (see `models.build_generator`).
        temporal_critic: str. Video mode: what the temporal critic judges, `"pairs"`
            of consecutive frames, `"gaps"` (two frames of a clip and their time
            gap) or the whole `"clip"` (see `models.build_temporal_discriminator`).
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
        precision: str. `"auto"`, `"float32"`, `"mixed_bfloat16"` or `"mixed_float16"`;
            a run resolves `"auto"` when it starts (`keras_vidgan.precision.resolve`).
        precision_reason: str. Why the run trains in its precision, `"asked"` or
            `"auto: ..."` (the CPU's bfloat16 units and the rule); set when a run
            starts, not a flag.
        checkpoint_every: int. Steps between checkpoints.
        sample_every: int. Steps between sample grids/videos (0: off).
        log_every: int. Steps between TensorBoard scalars.
        eval_every: int. Steps between quality evaluations (FVD / frame FD) into
            TensorBoard; 0 for none.
        labels: str. `"none"` (unconditional) or `"subfolders"`: each video's class
            is its first-level subfolder, and the models are class-conditional.
        class_names: tuple of str. The classes in order (index = `class_id`), set
            from the data when a labelled run starts; not a flag.
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
                             "document's), 'advect' the frame's pixels, move them by a few "
                             "whole-frame 'kernels', 'composite' (advected pixels, frame 0's "
                             "and freshly drawn ones, mixed by masks), or 'latent': G draws "
                             "every frame from a noise a recurrent net moves (needs "
                             "--frame-steps; see README, Quality)",
                             choices=RESIDUALS)
    g_skips: bool = _setting(False, "video mode: U-Net skip connections from the residual "
                             "generator's frame encoder to its decoder")
    motion_scale: int = _setting(1, "video mode, advect and composite: the motion field is "
                                 "predicted at 1/N of the frame size and upsampled bilinearly, "
                                 "so neighbouring pixels move alike (1: per pixel)",
                                 choices=MOTION_SCALES)
    g_upsample: str = _setting("transpose", "how the generators double their size: the "
                               "document's 'transpose'd convolution, or a nearest-neighbour "
                               "'resize' and a 3x3 convolution", choices=UPSAMPLES)
    temporal_critic: str = _setting("pairs", "video mode: the temporal critic judges 'pairs' of "
                                    "consecutive frames, 'gaps' (any two frames and their time "
                                    "gap) or the whole 'clip'", choices=TEMPORAL_CRITICS)
    clip_len: int = _setting(4, "frames per training clip, video mode", min=1)
    num_frames: int = _setting(16, "frames of sample and exported videos", min=1)
    frame_step: int = _setting(1, "keep every n-th source frame", min=1)
    fps: float = _setting(0.0, "target frame rate; overrides --frame-step per file (0: off)")
    resize: str = _setting("crop", "how frames are made square", choices=RESIZES)
    frame_weight: float = _setting(1.0, "weight of the frame critic (video mode)")
    temporal_weight: float = _setting(1.0, "weight of the temporal critic (video mode)")
    seed: int = _setting(0, "seed of noise, shuffling and initial weights")
    precision: str = _setting("float32", "compute precision; auto: the machine's choice, "
                              "recorded with its reason in config.json (float32 for now: "
                              "README, Precision)", choices=PRECISIONS)
    checkpoint_every: int = _setting(200, "steps between checkpoints", min=1)
    sample_every: int = _setting(100, "steps between samples, 0 for none")
    log_every: int = _setting(10, "steps between TensorBoard scalars (progress lines: 10x)",
                              min=1)
    eval_every: int = _setting(0, "steps between evaluations (FVD with >= 9 frames and cached "
                               "I3D weights, else frame FD) into TensorBoard; 0: off")

    labels: str = _setting("none", "'subfolders': each video's class is its first-level "
                           "subfolder, and the models are class-conditional (see README, "
                           "Classes)", choices=LABELS)
    class_names: tuple = _setting((), "the classes in order, from the data (not a flag)",
                                  cli=False)
    precision_reason: str = _setting("", "why the run trains in its precision (not a flag)",
                                     cli=False)

    def __post_init__(self):
        if isinstance(self.class_names, list):
            self.class_names = tuple(self.class_names)

    def validate(self):
        """Checks every field's type, finiteness and range (`BOUNDS`) and the choices.

        Runs before any model is built, so that a bad flag or a hand-edited
        config.json never allocates (a frame size of 65536 would).

        Raises:
            ValueError: naming the first bad field, its bounds and the value.
        """
        for field in dataclasses.fields(self):
            problem = _field_problem(field, getattr(self, field.name))
            if problem:
                raise ValueError(f"Invalid run config: {problem}")
        checks = [
            (self.mode in MODES, "mode must be 'frame' or 'video'"),
            (not self.frame_size & (self.frame_size - 1), "frame_size must be a power of two"),
            (self.loss in LOSSES, f"loss must be one of {LOSSES}"),
            (self.precision in PRECISIONS, f"precision must be one of {PRECISIONS}"),
            (self.resize in RESIZES, "resize must be 'crop' or 'letterbox'"),
            (self.clip_len >= 2 or self.mode == "frame", "clip_len must be >= 2 in video mode"),
            (self.residual in RESIDUALS, f"residual must be one of {RESIDUALS}"),
            (self.g_upsample in UPSAMPLES, f"g_upsample must be one of {UPSAMPLES}"),
            (self.motion_scale in MOTION_SCALES, f"motion_scale must be one of {MOTION_SCALES}"),
            (self.residual != "latent" or self.mode == "frame" or self.frame_steps >= 1,
             "residual 'latent' moves the noise of a trained frame G, which it keeps frozen: "
             "set frame_steps (--frame-steps) to train G first, e.g. the quick preset's 1800"),
            (self.motion_scale == 1 or self.residual in MOTION_FIELD_RESIDUALS,
             f"motion_scale > 1 needs residual in {MOTION_FIELD_RESIDUALS} (the others have "
             "no motion field)"),
            (self.temporal_critic in TEMPORAL_CRITICS,
             f"temporal_critic must be one of {TEMPORAL_CRITICS}"),
            (self.labels in LABELS, f"labels must be one of {LABELS}"),
            (self.labels != "none" or not self.class_names,
             "class_names are set but labels is 'none'"),
            (len(set(self.class_names)) == len(self.class_names), "class_names repeat a name"),
            (not self.class_names or len(self.class_names) >= 2,
             "class_names must name at least 2 classes"),
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
        """Writes `run_dir/config.json` atomically; returns its path.

        `data` is stored as an absolute path, so the run resumes from any folder.
        """
        os.makedirs(run_dir, exist_ok=True)
        path = os.path.join(run_dir, CONFIG_NAME)
        values = dataclasses.asdict(self)
        if values["data"]:
            values["data"] = os.path.abspath(values["data"])
        with _files.atomic_write(path) as f:
            json.dump(values, f, indent=2, sort_keys=True)
        return path

    @classmethod
    def load(cls, run_dir):
        """Reads and validates `run_dir/config.json`.

        A relative `data` is taken relative to the run folder.

        Raises:
            FileNotFoundError: if `run_dir` holds no run.
            ValueError: if the file is damaged or a value is out of bounds.
        """
        path = os.path.join(run_dir, CONFIG_NAME)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"Expected a run folder with {CONFIG_NAME}, received: {run_dir!r}; "
                "train one with `keras-vidgan train --data DIR --out RUN_DIR`."
            )
        fix = ("restore the file, or start the run over with `train --restart` "
               "and its flags")
        with open(path, "rb") as f:
            raw = f.read()
        try:
            values = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"{path} is damaged (not JSON: {err}); {fix}") from None
        if not isinstance(values, dict):
            raise ValueError(f"{path} is damaged (not a JSON object); {fix}")
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in values.items() if k in known}
        data = values.get("data")
        if isinstance(data, str) and data and not os.path.isabs(data):
            beside = os.path.join(os.path.abspath(run_dir), data)
            values["data"] = beside if os.path.exists(beside) else os.path.abspath(data)
        try:
            return cls(**values).validate()
        except ValueError as err:
            raise ValueError(f"{path}: {err}; {fix}") from None

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
            expected = (int, float) if kind is float else (list, tuple) if kind is tuple else kind
            if not isinstance(value, expected) or (isinstance(value, bool) and kind is not bool):
                raise ValueError(
                    f"Expected {name} to be a {kind.__name__} in {path!r}, received: {value!r}"
                )
        return cls(**values)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)
