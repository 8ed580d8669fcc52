"""_files: one atomic writer for every file, modes as the umask says, folder locks."""

import os

import numpy as np
import pytest

from keras_vidgan import _files, video_io


@pytest.fixture(params=[0o022, 0o077], ids=["umask022", "umask077"])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _mode(path):
    return os.stat(path).st_mode & 0o777


def test_atomic_write_gives_the_umasks_mode(tmp_path, umask):
    path = tmp_path / "a.json"
    with _files.atomic_write(path) as f:
        f.write("{}")
    assert path.read_text() == "{}" and _mode(path) == 0o666 & ~umask
    _files.atomic_savez(tmp_path / "b.npz", {"x": np.zeros(2)})
    assert _mode(tmp_path / "b.npz") == 0o666 & ~umask
    assert sorted(os.listdir(tmp_path)) == ["a.json", "b.npz"]  # no temporary file left


def test_samples_and_videos_get_the_umasks_mode(tmp_path, umask):
    frames = np.zeros((3, 16, 16, 3), np.uint8)
    paths = [video_io.save_grid(tmp_path / "g.png", frames),
             video_io.write_gif(tmp_path / "v.gif", frames),
             video_io.write_video(tmp_path / "v.mp4", frames),
             video_io.write_video(tmp_path / "v.mkv", frames)]
    for path in paths:
        assert _mode(path) == 0o666 & ~umask, path
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with _files.atomic_write(path) as f:
            f.write("new, half")
            raise RuntimeError("disk full")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["config.json"]


def test_folder_lock_names_the_holder_and_allows_shared_readers(tmp_path):
    with _files.folder_lock(tmp_path, "train"):
        with pytest.raises(_files.FolderBusyError, match=f"process {os.getpid()} \\(train\\)"):
            with _files.folder_lock(tmp_path, "read", shared=True):
                pass
    with _files.folder_lock(tmp_path, "read", shared=True):
        with _files.folder_lock(tmp_path, "read", shared=True):
            with pytest.raises(_files.FolderBusyError):
                with _files.folder_lock(tmp_path, "train"):
                    pass


def test_remove_leftovers_removes_only_matching_names(tmp_path):
    (tmp_path / ".tmp-1").mkdir()
    (tmp_path / ".tmp-2.json").write_text("")
    (tmp_path / "keep.tmp").write_text("")
    removed = _files.remove_leftovers(tmp_path, [r"\.tmp-.*"])
    assert sorted(os.path.basename(p) for p in removed) == [".tmp-1", ".tmp-2.json"]
    assert os.listdir(tmp_path) == ["keep.tmp"]


def test_describe_os_error_names_the_cause():
    assert "no space left" in _files.describe_os_error(OSError(28, "No space left on device", "x"))
    assert _files.describe_os_error(PermissionError(13, "Permission denied", "/r")).startswith(
        "permission denied (/r)")
    assert "symbolic link loop" in _files.describe_os_error(OSError(40, "Too many levels", "l"))
