import os

import numpy as np
import pytest

from keras_vidgan import data


def test_demo_videos_load_with_count_range_and_shape(demo_dir):
    folder = data.load_video_folder(demo_dir, frame_size=32, cache_dir=False)
    assert folder.num_videos == 8 and len(folder.frames) == 8 * 48  # frames counted by reading
    batch = next(iter(folder.dataset(5))).numpy()
    assert batch.shape == (5, 32, 32, 3) and batch.dtype == np.float32
    assert -1.0 <= batch.min() < 0 < batch.max() <= 1.0


def test_clips_are_consecutive_frames_of_one_video(demo_dir):
    folder = data.load_video_folder(demo_dir, frame_size=16, cache_dir=False)
    starts = folder.clip_starts(4)
    assert len(starts) == 8 * (48 - 4 + 1)
    assert not np.isin(np.arange(45, 48), starts).any()  # no clip crosses into video 2
    clips = next(iter(folder.dataset(3, clip_len=4, shuffle=False, repeat=False))).numpy()
    expected = folder.frames[0:4].astype(np.float32) / 127.5 - 1
    np.testing.assert_allclose(clips[0], expected, atol=1e-6)


def test_demo_data_is_rgb_and_moves(demo_dir):
    folder = data.load_video_folder(demo_dir, frame_size=64, cache_dir=False)
    video = folder.frames[: folder.starts[1]].astype(np.float32)
    assert np.abs(np.diff(video, axis=0)).mean() > 0.5  # shapes move
    assert video.std() > 10


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(data.NoUsableVideosError, match="make-demo-data"):
        data.load_video_folder(tmp_path, cache_dir=False)
    with pytest.raises(FileNotFoundError, match="not a directory"):
        data.load_video_folder(tmp_path / "missing", cache_dir=False)


def test_cache_is_used_and_invalidated(tmp_path):
    videos, cache = tmp_path / "v", tmp_path / "cache"
    paths = data.make_demo_videos(videos, n=2, frames=10, size=32)
    first = data.load_video_folder(videos, frame_size=16, cache_dir=cache)
    again = data.load_video_folder(videos, frame_size=16, cache_dir=cache)
    assert not first.from_cache and again.from_cache
    np.testing.assert_array_equal(first.frames, again.frames)
    data.make_demo_videos(videos, n=1, frames=12, size=32, seed=5)  # rewrites demo_000
    os.utime(paths[0], ns=(1, 1))
    changed = data.load_video_folder(videos, frame_size=16, cache_dir=cache)
    assert not changed.from_cache and len(changed.frames) == 22
