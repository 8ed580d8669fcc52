"""Animated video summaries and hparams reach the TensorBoard event file."""

import io

import numpy as np
import tensorflow as tf
from PIL import Image

from keras_vidgan import summaries


def _events(log_dir):
    files = list(log_dir.iterdir())
    assert len(files) == 1
    return [v for e in tf.compat.v1.train.summary_iterator(str(files[0])) for v in e.summary.value]


def test_video_summary_is_a_gif_the_image_dashboard_shows(tmp_path):
    videos = np.linspace(-1, 1, 2 * 5 * 8 * 8 * 3).reshape(2, 5, 8, 8, 3)
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        assert summaries.video_summary("rollouts", videos, step=3, columns=2)
    writer.close()
    (value,) = [v for v in _events(tmp_path) if v.tag == "rollouts"]
    assert value.metadata.plugin_data.plugin_name == "images"
    width, height, encoded = tf.make_ndarray(value.tensor)
    assert (int(width), int(height)) == (16, 8)  # two 8x8 videos side by side
    with Image.open(io.BytesIO(encoded)) as gif:
        assert gif.format == "GIF" and gif.n_frames == 5


def test_hparams_summary_writes_the_settings(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        assert summaries.hparams_summary({"g_filters": 48, "augment": "translation,color",
                                          "g_ema": 0.99, "d_minibatch_stddev": True})
    writer.close()
    values = _events(tmp_path)
    assert any(v.metadata.plugin_data.plugin_name == "hparams" for v in values)
    blob = b"".join(v.metadata.plugin_data.content for v in values)
    assert b"g_filters" in blob and b"translation,color" in blob
