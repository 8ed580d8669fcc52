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


def _moving_square(n=8, size=32):
    """A red square moving right on a grey field: smooth content, as samples are."""
    clip = np.full((n, size, size, 3), 96, np.uint8)
    for t in range(n):
        clip[t, 8:20, 2 + 2 * t:14 + 2 * t] = (220, 40, 40)
    return clip


def test_mp4_is_h264_yuv420p_and_decodes_to_the_frames_written(tmp_path):
    av = pytest.importorskip("av")
    clip = video_io.upscale(_moving_square(), 4)  # 128x128, as `generate --scale` writes
    path = video_io.write_video(tmp_path / "a.mp4", clip, fps=8)
    with av.open(path) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        decoded = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    assert decoded.shape == clip.shape  # every frame, at the size written
    error = np.abs(decoded.astype(int) - clip.astype(int))
    assert error.mean() < 2.0, error.mean()
    # the square is where it was written in every frame (no frame dropped or repeated)
    centres = [np.argwhere(f[..., 0] > 160)[:, 1].mean() for f in decoded]
    assert np.allclose(np.diff(centres), 8, atol=1)
    # OpenCV, which the loader uses, reads it back too
    assert len(list(video_io.read_frames(path))) == len(clip)


def test_mp4_pads_odd_sizes_for_yuv420p(tmp_path):
    pytest.importorskip("av")
    path = video_io.write_video(tmp_path / "odd.mp4", _moving_square(4, 33))
    frames = np.stack(list(video_io.read_frames(path)))
    assert frames.shape == (4, 34, 34, 3)


def test_mp4_falls_back_to_mp4v_with_a_warning_without_pyav(tmp_path, monkeypatch):
    monkeypatch.setattr(video_io, "_h264_available", lambda: False)
    with pytest.warns(UserWarning, match="PyAV"):
        path = video_io.write_video(tmp_path / "a.mp4", _clip())
    assert len(list(video_io.read_frames(path))) == 6


def test_upscale_is_nearest_neighbour_and_scale_to_width():
    frames = np.arange(2 * 2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 2, 3)
    big = video_io.upscale(frames, 3)
    assert big.shape == (2, 6, 6, 3)
    np.testing.assert_array_equal(big[:, ::3, ::3], frames)
    np.testing.assert_array_equal(big[:, 2, 5], frames[:, 0, 1])
    assert video_io.scale_to_width(64) == 4 and video_io.scale_to_width(300) == 1
    assert video_io.scale_to_width(100) == 3
    with pytest.raises(ValueError, match="scale"):
        video_io.upscale(frames, 0)
