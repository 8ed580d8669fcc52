import numpy as np
import pytest
from PIL import Image

from keras_vidgan import video_io


def _clip(n=6, size=32):
    t = np.linspace(-1, 1, n)[:, None, None, None]
    return np.broadcast_to(t, (n, size, size, 3)).astype(np.float32)


@pytest.mark.parametrize("ext", [".mp4", ".avi", ".mkv"])
def test_write_video_reads_back(tmp_path, ext):
    path = video_io.write_video(tmp_path / f"a{ext}", _clip())
    frames = np.stack(list(video_io.read_frames(path)))
    assert frames.shape == (6, 32, 32, 3) and frames.dtype == np.uint8
    np.testing.assert_allclose(frames.mean(axis=(1, 2, 3)), video_io.to_uint8(_clip()).mean(axis=(1, 2, 3)), atol=8)


def test_lossless_mkv_is_exact_and_rgb_order_kept(tmp_path):
    clip = np.zeros((3, 16, 16, 3), np.uint8)
    clip[..., 0] = 200  # red
    frames = np.stack(list(video_io.read_frames(video_io.write_video(tmp_path / "r.mkv", clip))))
    np.testing.assert_array_equal(frames, clip)


def test_gif_and_grid(tmp_path):
    gif = video_io.write_gif(tmp_path / "a.gif", _clip())
    with Image.open(gif) as image:
        assert image.n_frames == 6 and image.size == (32, 32)
    png = video_io.save_grid(tmp_path / "g.png", _clip(5))
    with Image.open(png) as image:
        assert image.size == (96, 64)  # 3 columns x 2 rows


def test_bad_extension_and_shape_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="extension"):
        video_io.write_video(tmp_path / "a.xyz", _clip())
    with pytest.raises(ValueError, match="shape"):
        video_io.write_video(tmp_path / "a.mp4", np.zeros((4, 4)))
    assert not list(tmp_path.iterdir())  # nothing half-written
