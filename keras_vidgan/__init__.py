"""keras_vidgan: GAN video generation in Keras 3, after a tutorial document, corrected.

Public API (see README.md): settings, model builders, losses, the Trainer and its
callbacks, DiffAugment, the video-folder loader, runs on disk, sampling and its one
noise contract, export for TF Serving and as `.keras` files, and video I/O.

The names load on first use (PEP 562), so `import keras_vidgan` and `keras-vidgan
--help` import no TensorFlow. `keras.saving.load_model` of an exported `.keras` file
needs the custom layers registered: `import keras_vidgan.models` first.
"""

import importlib
import importlib.util

__version__ = "0.1.0"

_API = {
    "keras_vidgan.augment": ["diff_augment"],
    "keras_vidgan.callbacks": ["ProgressLogger", "SampleWriter", "TensorBoardLogger"],
    "keras_vidgan.config": ["RunConfig"],
    "keras_vidgan.data": [
        "LabelError",
        "NoUsableVideosError",
        "VideoFolder",
        "find_videos",
        "load_video_folder",
        "make_demo_videos",
    ],
    "keras_vidgan.evaluate": ["EvaluationCallback", "evaluate_videos"],
    "keras_vidgan.export": ["check_export", "export_keras", "export_saved_model"],
    "keras_vidgan.losses": [
        "bce_discriminator_loss",
        "bce_generator_loss",
        "get_losses",
        "hinge_discriminator_loss",
        "hinge_generator_loss",
        "least_squares_discriminator_loss",
        "least_squares_generator_loss",
    ],
    "keras_vidgan.presets": ["PRESETS", "preset_values"],
    "keras_vidgan.models": [
        "build_discriminator",
        "build_generator",
        "build_latent_motion",
        "build_models",
        "build_residual_generator",
        "build_temporal_discriminator",
        "conditional_generator",
        "conditioned",
        "frame_pairs",
        "projection_critic",
        "with_sigmoid",
    ],
    "keras_vidgan.metrics": ["class_accuracy"],
    "keras_vidgan.runs": ["load_models", "train_run"],
    "keras_vidgan.sampling": [
        "generate",
        "latent_video",
        "latent_walk",
        "rollout",
        "sample_noise",
        "seeded_noise",
        "video_from_noise",
    ],
    "keras_vidgan.scoring": ["evaluate_export", "evaluate_run"],
    "keras_vidgan.trainer": ["NonFiniteError", "Trainer"],
    "keras_vidgan.video_io": ["read_frames", "save_grid", "write_gif", "write_video"],
}
_WHERE = {name: module for module, names in _API.items() for name in names}

__all__ = ["__version__", *sorted(_WHERE)]


def __getattr__(name):
    module = _WHERE.get(name)
    if module is None:
        if importlib.util.find_spec(f"keras_vidgan.{name}") is not None:
            return importlib.import_module(f"keras_vidgan.{name}")  # e.g. kv.video_io
        raise AttributeError(f"module 'keras_vidgan' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # loaded once
    return value


def __dir__():
    return sorted(set(globals()) | set(_WHERE))
