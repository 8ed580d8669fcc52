"""TensorBoard summaries beyond scalars: animated videos and a run's settings (hparams).

TensorBoard's image dashboard shows whatever encoded image a summary holds, and browsers
animate a GIF: `video_summary` writes a batch of videos, tiled, as one GIF-encoded image
summary, so rollouts play in TensorBoard (the approach of tensorboardX's `add_video`).
"""

import numpy as np
import tensorflow as tf

from keras_vidgan import video_io

__all__ = ["video_summary", "hparams_summary"]


def video_summary(name, videos, step, fps=8.0, columns=None, description=None):
    """Writes videos `(n, T, H, W, 3)` in [-1, 1] as one animated (GIF) image summary.

    Call it inside a `tf.summary.create_file_writer(...).as_default()` block.

    Args:
        name: str. The summary's tag.
        videos: array `(n, frames, height, width, 3)`, float in [-1, 1] or uint8.
        step: int. The training step.
        fps: float. Frames per second of the animation. Defaults to 8.
        columns: int or None. Videos per row of the tiling.
        description: str or None. Shown in TensorBoard beside the image.

    Returns:
        bool. True if the summary was written (a default writer was set).
    """
    from tensorboard.plugins.image import metadata

    videos = np.asarray(videos)
    tiles = np.stack([video_io.grid(videos[:, t], columns) for t in range(videos.shape[1])])
    encoded = video_io.encode_gif(tiles, fps)
    height, width = tiles.shape[1:3]
    tensor = tf.constant([str(width), str(height), encoded], dtype=tf.string)
    return tf.summary.write(
        name, tensor, step=step,
        metadata=metadata.create_summary_metadata(display_name=name, description=description or ""),
    )


def hparams_summary(settings):
    """Writes a run's settings as TensorBoard hparams (the HPARAMS dashboard).

    Args:
        settings: dict of name -> value; values other than bool, int, float and str are
            written as their str.

    Returns:
        bool. True if the summary was written.
    """
    from tensorboard.plugins.hparams import api as hp

    clean = {k: v if isinstance(v, (bool, int, float, str)) else str(v) for k, v in settings.items()}
    return hp.hparams(clean)
