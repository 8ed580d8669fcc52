"""keras_vidgan: GAN video generation in Keras 3, after a tutorial document, corrected.

Public API (see README.md): model builders, losses, the Trainer and its DiffAugment,
the video-folder loader, sampling, export for TF Serving and video I/O.
"""

__version__ = "0.1.0"

from keras_vidgan.augment import diff_augment
from keras_vidgan.config import RunConfig, build_models
from keras_vidgan.data import (
    NoUsableVideosError,
    VideoFolder,
    find_videos,
    load_video_folder,
    make_demo_videos,
)
from keras_vidgan.export import check_export, export_saved_model
from keras_vidgan.losses import (
    bce_discriminator_loss,
    bce_generator_loss,
    get_losses,
    least_squares_discriminator_loss,
    least_squares_generator_loss,
)
from keras_vidgan.models import (
    build_discriminator,
    build_generator,
    build_residual_generator,
    build_temporal_discriminator,
    frame_pairs,
    with_sigmoid,
)
from keras_vidgan.presets import PRESETS, preset_values
from keras_vidgan.sampling import latent_walk, rollout, sample_noise, video_from_noise
from keras_vidgan.trainer import NonFiniteError, Trainer
from keras_vidgan.video_io import read_frames, save_grid, write_gif, write_video

__all__ = [
    "__version__",
    "RunConfig",
    "build_models",
    "diff_augment",
    "NoUsableVideosError",
    "VideoFolder",
    "find_videos",
    "load_video_folder",
    "make_demo_videos",
    "check_export",
    "export_saved_model",
    "bce_discriminator_loss",
    "bce_generator_loss",
    "get_losses",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "build_discriminator",
    "build_generator",
    "build_residual_generator",
    "build_temporal_discriminator",
    "frame_pairs",
    "with_sigmoid",
    "PRESETS",
    "preset_values",
    "latent_walk",
    "rollout",
    "sample_noise",
    "video_from_noise",
    "NonFiniteError",
    "Trainer",
    "read_frames",
    "save_grid",
    "write_gif",
    "write_video",
]
