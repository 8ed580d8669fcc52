"""Any folder of real videos: bad files are skipped with a reason, odd ones converted."""

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from keras_vidgan import data, video_io


def _write(path, frames, fps=12.0, fourcc="mp4v", color=True):
    path = str(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), fps, (w, h), color)
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def _moving(n, h=48, w=64):
    frames = np.zeros((n, h, w, 3), np.uint8)
    for i in range(n):
        frames[i, :, :, 1] = 60
        cv2.circle(frames[i], (8 + 3 * i, h // 2), 6, (255, 255, 255), -1)
    return frames


def _entries(folder, **kwargs):
    try:
        loaded = data.load_video_folder(folder, frame_size=16, cache_dir=False, **kwargs)
    except data.NoUsableVideosError:
        return None
    return {e.path: e for e in loaded.entries}


@pytest.fixture
def mixed(tmp_path):
    """A folder with one good video and every kind of bad file."""
    good = _write(tmp_path / "good.mp4", _moving(20))
    truncated = tmp_path / "truncated.mp4"
    with open(good, "rb") as f:
        truncated.write_bytes(f.read()[: os.path.getsize(good) // 2])
    (tmp_path / "notes.mp4").write_text("this is not a video\n" * 50)
    (tmp_path / "empty.avi").write_bytes(b"")
    (tmp_path / "noise.mkv").write_bytes(np.random.default_rng(0).bytes(5000))
    _write(tmp_path / "short.avi", _moving(3), fourcc="MJPG")
    (tmp_path / "readme.txt").write_text("not scanned")
    return tmp_path


def test_bad_files_are_skipped_with_reasons(mixed):
    entries = _entries(mixed, min_frames=4)
    assert set(entries) == {"good.mp4", "truncated.mp4", "notes.mp4", "empty.avi", "noise.mkv",
                            "short.avi"}
    assert entries["good.mp4"].skipped is None and entries["good.mp4"].frames == 20
    assert "empty file" in entries["empty.avi"].skipped
    for name in ("truncated.mp4", "notes.mp4", "noise.mkv"):
        assert entries[name].skipped and entries[name].frames == 0, name
    assert "too short: 3 frames < 4" in entries["short.avi"].skipped


def test_a_three_frame_video_is_used_when_short_clips_are_enough(mixed):
    assert _entries(mixed, min_frames=1)["short.avi"].frames == 3


def test_truncated_mjpg_keeps_the_frames_that_decode(tmp_path):
    path = _write(tmp_path / "full.avi", _moving(30), fourcc="MJPG")
    cut = tmp_path / "cut" / "cut.avi"
    cut.parent.mkdir()
    with open(path, "rb") as f:
        cut.write_bytes(f.read()[: os.path.getsize(path) // 3])
    entry = _entries(cut.parent)["cut.avi"]
    decoded = len(list(video_io.read_frames(str(cut))))
    assert 0 < entry.frames == decoded < 30  # counted by reading, not from the header


def test_grayscale_becomes_rgb(tmp_path):
    gray = [np.full((32, 32), 10 * i, np.uint8) for i in range(5)]
    _write(tmp_path / "gray.avi", gray, fourcc="MJPG", color=False)
    folder = data.load_video_folder(tmp_path, frame_size=16, cache_dir=False)
    assert folder.frames.shape == (5, 16, 16, 3)
    assert np.abs(folder.frames[..., 0].astype(int) - folder.frames[..., 2]).max() <= 2


def test_bgra_frames_become_rgb():
    bgra = np.zeros((4, 4, 4), np.uint8)
    bgra[..., 0], bgra[..., 3] = 255, 128  # blue, half transparent
    rgb = video_io._as_rgb(bgra)
    assert rgb.shape == (4, 4, 3) and rgb[0, 0].tolist() == [0, 0, 255]


def _full_hd_with_red_sides(n=2):
    frames = np.zeros((n, 1080, 1920, 3), np.uint8)
    frames[:, :, :, 1] = 200  # green centre (BGR)
    frames[:, :, :420, 2] = 255  # red bands left and right, outside the centre square
    frames[:, :, -420:, 2] = 255
    frames[:, :, :420, 1] = 0
    frames[:, :, -420:, 1] = 0
    return frames


def test_full_hd_centre_crop_and_letterbox(tmp_path):
    _write(tmp_path / "hd.avi", _full_hd_with_red_sides(), fourcc="MJPG")
    crop = data.load_video_folder(tmp_path, frame_size=32, cache_dir=False)
    entry = crop.entries[0]
    assert (entry.width, entry.height) == (1920, 1080)
    assert crop.frames.shape == (2, 32, 32, 3)
    assert crop.frames[..., 0].max() < 40 and crop.frames[..., 1].mean() > 150  # red cropped away
    box = data.load_video_folder(tmp_path, frame_size=32, resize="letterbox", cache_dir=False)
    frame = box.frames[0].astype(int)
    assert frame[:5].max() < 20 and frame[-5:].max() < 20  # black bars top and bottom
    assert frame[16, 1, 0] > 150 and frame[16, 16, 1] > 150  # red sides kept, green centre


def test_large_frames_snap_to_an_integer_factor_box_average():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    out = data.preprocess_frame(frame, 64)  # 480 -> centre 448 (7 x 64) -> 7x7 box mean
    centre = frame[16:464, 96:544].reshape(64, 7, 64, 7, 3).astype(np.float64)
    assert np.abs(out - centre.mean(axis=(1, 3))).max() <= 1  # only rounding differs
    white = np.full((400, 600, 3), 255, np.uint8)
    boxed = data.preprocess_frame(white, 64, resize="letterbox")  # 600 -> padded to 640 = 10 x 64
    assert boxed.shape == (64, 64, 3)
    assert boxed[32, :2].max() == 0 and boxed[32, -2:].max() == 0  # 20 px bars -> 2 columns
    assert boxed[:12].max() == 0 and boxed[12:52, 2:62].min() == 255  # 120 px bars -> 12 rows


def test_small_frames_keep_the_whole_square():
    ramp = np.tile(np.arange(100, dtype=np.uint8)[None, :, None], (100, 1, 3))
    out = data.preprocess_frame(ramp, 64)  # 100 < 2 x 64: no snapping, plain area resize
    assert out[0, 0, 0] <= 2 and out[0, -1, 0] >= 97  # both edges of the frame are kept


def test_nested_unicode_spaces_uppercase_and_symlink_loops(tmp_path):
    _write(tmp_path / "vidéo été" / "clip 1.MP4", _moving(6))
    _write(tmp_path / "a" / "b" / "c" / "deep.Mkv", _moving(6), fourcc="FFV1")
    os.symlink(tmp_path, tmp_path / "a" / "loop")  # a folder link back to the top
    os.symlink(tmp_path / "a" / "b", tmp_path / "b-again")
    found = data.find_videos(tmp_path)
    names = sorted(os.path.basename(p) for p in found)
    assert names == ["clip 1.MP4", "deep.Mkv"]  # each real file once, no loop
    folder = data.load_video_folder(tmp_path, frame_size=16, cache_dir=False)
    assert folder.num_videos == 2 and len(folder.frames) == 12


def test_target_fps_keeps_every_nth_frame(tmp_path):
    _write(tmp_path / "fast.avi", _moving(30), fps=30.0, fourcc="MJPG")
    folder = data.load_video_folder(tmp_path, frame_size=16, fps=10, cache_dir=False)
    entry = folder.entries[0]
    assert entry.frame_step == 3 and entry.frames == 10
    assert entry.duration == pytest.approx(1.0)


def test_cache_invalidated_by_settings_and_files(tmp_path):
    videos, cache = tmp_path / "v", tmp_path / "c"
    _write(videos / "a.avi", _moving(8), fourcc="MJPG")
    data.load_video_folder(videos, frame_size=16, cache_dir=cache)
    assert data.load_video_folder(videos, frame_size=16, cache_dir=cache).from_cache
    assert not data.load_video_folder(videos, frame_size=32, cache_dir=cache).from_cache
    assert not data.load_video_folder(videos, frame_size=16, frame_step=2, cache_dir=cache).from_cache
    _write(videos / "b.avi", _moving(5), fourcc="MJPG")  # a new file
    again = data.load_video_folder(videos, frame_size=16, cache_dir=cache)
    assert not again.from_cache and again.num_videos == 2
    os.remove(videos / "b.avi")
    assert data.load_video_folder(videos, frame_size=16, cache_dir=cache).from_cache  # back to a


def test_a_corrupt_cache_file_is_rebuilt(tmp_path):
    videos, cache = tmp_path / "v", tmp_path / "c"
    _write(videos / "a.avi", _moving(8), fourcc="MJPG")
    data.load_video_folder(videos, frame_size=16, cache_dir=cache)
    for name in os.listdir(cache):
        (cache / name).write_bytes(b"garbage")
    rebuilt = data.load_video_folder(videos, frame_size=16, cache_dir=cache)
    assert not rebuilt.from_cache and len(rebuilt.frames) == 8


def _cli(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, "-m", "keras_vidgan", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=300)


def test_inspect_data_prints_table_with_reasons_and_totals(mixed):
    done = _cli("inspect-data", mixed, "--clip-len", 4, "--frame-size", 16)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "good.mp4" in out and "ok" in out
    assert "skipped: empty file" in out and "skipped: too short" in out
    assert "1 of 6 files used, 5 skipped; 20 frames, 17 clips of 4 frames" in out


def test_inspect_and_train_on_an_unusable_folder_exit_2(tmp_path):
    (tmp_path / "bad.mp4").write_text("nope")
    for args in (("inspect-data", tmp_path), ("train", "--data", tmp_path, "--out", tmp_path / "r")):
        done = _cli(*args)
        assert done.returncode == 2
        assert "No usable video" in done.stderr and "bad.mp4" in done.stderr
        ours = [line for line in done.stderr.splitlines() if line.startswith("keras-vidgan")]
        assert len(ours) == 1 and "Traceback" not in done.stderr  # TF's own log lines aside


def test_real_clips_load_and_counts_come_from_reading(real_clips):
    folder = data.load_video_folder(real_clips, frame_size=32, cache_dir=False)
    assert len(folder.entries) == 21 and folder.num_videos == 21
    over_reported = 0
    for entry in folder.entries:
        path = os.path.join(real_clips, entry.path)
        capture = cv2.VideoCapture(path)
        header = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        decoded = 0
        while capture.read()[0]:
            decoded += 1
        capture.release()
        assert entry.frames == decoded, entry.path
        over_reported += header > decoded
    assert over_reported >= 1  # the container's count is not to be trusted
    assert folder.frames.shape[1:] == (32, 32, 3)


def test_scan_stays_inside_visits_once_and_lists_what_it_skips(tmp_path):
    top = tmp_path / "videos"
    _write(top / "a.avi", _moving(6), fourcc="MJPG")
    _write(tmp_path / "outside" / "o.avi", _moving(6), fourcc="MJPG")
    os.symlink("..", top / "up")  # a folder link to the parent: would leave the folder
    os.symlink(tmp_path / "outside", top / "elsewhere")
    os.symlink(top / "nowhere.mp4", top / "dangling.mp4")
    os.symlink(top / "loop2.mp4", top / "loop1.mp4")
    os.symlink(top / "loop1.mp4", top / "loop2.mp4")
    os.symlink(top / "a.avi", top / "same.avi")  # the same file again
    (top / ".hidden").mkdir()
    paths, skipped = data.scan_videos(top)
    assert [os.path.basename(p) for p in paths] == ["a.avi"]
    reasons = dict(skipped)
    assert "outside the data folder" in reasons["up"]
    assert "outside the data folder" in reasons["elsewhere"]
    assert "dangling symbolic link" in reasons["dangling.mp4"]
    assert reasons["loop1.mp4"] == reasons["loop2.mp4"] == "symbolic link loop"
    assert "same file" in reasons["same.avi"]
    assert reasons[".hidden"] == "hidden folder"
    folder = data.load_video_folder(top, frame_size=16, cache_dir=False)
    assert folder.num_videos == 1 and len(folder.frames) == 6
    summary = folder.summary()
    for name in ("up", "elsewhere", "dangling.mp4", "loop1.mp4", "same.avi", ".hidden"):
        assert any(line.startswith(name) and "skipped:" in line for line in summary.splitlines()), name


def test_a_truncated_cache_is_rebuilt_with_a_note(tmp_path, capfd):
    videos, cache = tmp_path / "v", tmp_path / "c"
    _write(videos / "a.avi", _moving(8), fourcc="MJPG")
    data.load_video_folder(videos, frame_size=16, cache_dir=cache)
    (name,) = os.listdir(cache)
    blob = (cache / name).read_bytes()
    (cache / name).write_bytes(blob[: len(blob) // 2])  # as a full disk or a crash leaves it
    rebuilt = data.load_video_folder(videos, frame_size=16, cache_dir=cache)
    assert not rebuilt.from_cache and len(rebuilt.frames) == 8
    err = capfd.readouterr().err
    assert "frame cache" in err and "is unreadable" in err and "rebuilding it" in err
    assert data.load_video_folder(videos, frame_size=16, cache_dir=cache).from_cache  # rewritten whole


def test_a_cache_that_cannot_be_written_warns_and_loads(tmp_path, capfd):
    videos = tmp_path / "v"
    _write(videos / "a.avi", _moving(8), fourcc="MJPG")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    folder = data.load_video_folder(videos, frame_size=16, cache_dir=blocker)
    assert len(folder.frames) == 8
    err = capfd.readouterr().err
    assert "could not write the frame cache" in err and "going on without it" in err


def test_train_lists_a_few_usable_files_and_every_skipped_one(demo_folder):
    full = demo_folder.summary(4).splitlines()
    assert sum(line.startswith("demo_") for line in full) == 8
    short = demo_folder.summary(4, max_rows=3).splitlines()
    assert sum(line.startswith("demo_") for line in short) == 3
    assert "... and 5 more usable files (`keras-vidgan inspect-data` lists all)" in short
    assert short[-1] == full[-1]  # the totals still count every file
