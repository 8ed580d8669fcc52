"""Fault injection: what a run folder and an export survive (README, What is guaranteed).

Each case copies one small trained run (frame size 16, 10 steps, checkpoints at 5 and
10), injects a fault (kill -9, a full disk, damaged or missing files, a second trainer,
odd symlinks), and checks the one-line message, the exit code, that the newest intact
checkpoint and earlier export versions are untouched, and that a resumed run then
trains to the same step count as an uninterrupted one.
"""

import contextlib
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest
import tensorflow as tf

from keras_vidgan import _files, cli, export, runs
from keras_vidgan import config as config_lib

TINY = ["--frame-size", "16", "--g-filters", "8", "--d-filters", "8", "--z-dim", "8",
        "--batch-size", "4", "--checkpoint-every", "5", "--sample-every", "0", "--quiet"]
TARGET = 15  # every resumed case trains on to this step


def _train(run, *extra, data=None, cache=None):
    args = ["train", "--out", str(run)]
    if data:
        args += ["--data", str(data), *TINY]
    args += list(map(str, extra))
    args += ["--cache-dir", str(cache)] if cache else ["--no-cache"]
    return cli.main(args)


def _step(run):
    latest = tf.train.latest_checkpoint(os.path.join(run, "checkpoints"))
    return int(latest.rsplit("-", 1)[1]) if latest else 0


def _digest(path):
    """sha256 of every file below `path` (or of one file), by relative name."""
    files = [path] if os.path.isfile(path) else [
        os.path.join(root, f) for root, _, names in os.walk(path) for f in names
    ]
    return {os.path.relpath(f, path): hashlib.sha256(open(f, "rb").read()).hexdigest()
            for f in sorted(files)}


def _last_line(capfd):
    captured = capfd.readouterr()
    lines = [line for line in captured.err.splitlines() if line.startswith("keras-vidgan:")]
    return captured.out, (lines[-1] if lines else "")


def _resumes_to_target(run, capfd):
    assert _train(run, "--steps", TARGET) == 0, capfd.readouterr().err[-2000:]
    assert _step(run) == TARGET
    _, trainer = runs.load_trainer(str(run))
    assert int(trainer.step.numpy()) == TARGET
    assert int(trainer.g_optimizer.iterations.numpy()) == TARGET


@pytest.fixture(scope="module")
def base_run(demo_dir, tmp_path_factory):
    """A run trained to step 10 under umask 022, from a relative --data path."""
    top = tmp_path_factory.mktemp("faults")
    os.symlink(demo_dir, top / "videos")
    old_cwd, old_mask = os.getcwd(), os.umask(0o022)
    try:
        os.chdir(top)
        assert _train("run", "--steps", 10, data="videos") == 0
    finally:
        os.chdir(old_cwd)
        os.umask(old_mask)
    return top / "run"


@pytest.fixture(scope="module")
def base_export(base_run, tmp_path_factory):
    """Version 1 of the base run's export."""
    base = tmp_path_factory.mktemp("export") / "export"
    assert cli.main(["export", "--run", str(base_run), "--out", str(base), "--version", "1"]) == 0
    return base


@pytest.fixture
def run(base_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(base_run, copy, symlinks=True)
    return copy


def test_base_run_paths_are_absolute_and_modes_follow_the_umask(base_run):
    config = config_lib.RunConfig.load(str(base_run))
    assert os.path.isabs(config.data) and os.path.isdir(config.data)
    for root, _dirs, files in os.walk(base_run):
        assert os.stat(root).st_mode & 0o777 == 0o755, root
        for name in files:
            if name != _files.LOCK_NAME:
                assert os.stat(os.path.join(root, name)).st_mode & 0o777 == 0o644, name


def test_resume_from_another_working_directory(run, tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)  # the run's relative --data does not exist here
    _resumes_to_target(run, capfd)


@pytest.mark.parametrize("damage", ["garbage", "deleted", "names-a-missing-checkpoint"])
def test_damaged_state_file_resumes_from_the_newest_intact_checkpoint(run, damage, capfd):
    state = run / "checkpoints" / "checkpoint"
    if damage == "garbage":
        state.write_text("garbage {{{\n")
    elif damage == "deleted":
        state.unlink()
    else:
        state.write_text('model_checkpoint_path: "ckpt-99"\nall_model_checkpoint_paths: "ckpt-99"\n')
    newest = _digest(str(run / "checkpoints" / "ckpt-10.index"))
    assert _train(run, "--steps", TARGET) == 0
    out = capfd.readouterr().out
    assert "state file" in out and "rewrote it" in out and "Restored step 10" in out
    assert _step(run) == TARGET
    assert newest == _digest(str(run / "checkpoints" / "ckpt-10.index"))


def test_truncated_newest_checkpoint_falls_back_and_is_moved_aside(run, capfd):
    (data,) = [p for p in (run / "checkpoints").iterdir() if p.name.startswith("ckpt-10.data")]
    data.write_bytes(data.read_bytes()[:100])
    assert _train(run, "--steps", TARGET) == 0
    out = capfd.readouterr().out
    assert "checkpoint ckpt-10 is damaged" in out and "resuming from ckpt-5" in out
    assert "Restored step 5" in out
    assert (run / "checkpoints" / "damaged" / data.name).exists()
    assert _step(run) == TARGET


def test_no_intact_checkpoint_refuses_and_changes_nothing(run, capfd):
    for path in (run / "checkpoints").iterdir():
        if ".data" in path.name:
            path.write_bytes(b"")
    before = _digest(str(run))
    assert _train(run, "--steps", TARGET) == 2
    _, line = _last_line(capfd)
    assert "No intact checkpoint" in line and "--restart" in line
    assert _digest(str(run)) == before
    assert _train(run, "--steps", 5, "--restart") == 0  # what the message says to do
    assert "from step 0" in capfd.readouterr().out and _step(run) == 5


def test_checkpoints_without_config_are_never_overwritten(run, demo_dir, capfd):
    (run / "config.json").unlink()
    before = _digest(str(run / "checkpoints"))
    assert _train(run, "--steps", TARGET, data=demo_dir) == 2
    _, line = _last_line(capfd)
    assert "holds checkpoints but no config.json" in line and "--restart" in line
    assert _digest(str(run / "checkpoints")) == before


@pytest.mark.parametrize(
    "edit, message",
    [
        ('{"frame_size": 65536', "damaged (not JSON"),
        ('{"frame_size": 65536}', "frame_size (--frame-size) must be in [16, 512]"),
        ('{"frame_size": "16"}', "frame_size (--frame-size) must be an integer"),
        ('{"learning_rate": NaN}', "learning_rate (--learning-rate) must be finite"),
        ('[1, 2]', "not a JSON object"),
    ],
)
def test_damaged_or_out_of_bounds_config_is_one_line_exit_2(run, edit, message, capfd):
    (run / "config.json").write_text(edit)
    before = _digest(str(run / "checkpoints"))
    assert _train(run, "--steps", TARGET) == 2
    _, line = _last_line(capfd)
    assert message in line and "config.json" in line
    assert _digest(str(run / "checkpoints")) == before


@pytest.mark.parametrize("flag, value", [("--fps", "-1"), ("--learning-rate", "nan"),
                                         ("--sample-every", "-1"), ("--frame-size", "1024")])
def test_out_of_bounds_flags_are_refused_before_any_model(demo_dir, tmp_path, flag, value, capfd):
    assert _train(tmp_path / "new", "--steps", 1, flag, value, data=demo_dir) == 2
    _, line = _last_line(capfd)
    assert flag in line and "must be" in line
    assert not (tmp_path / "new" / "checkpoints").exists()


def test_steps_below_the_runs_step_are_refused(run, capfd):
    config = (run / "config.json").read_text()
    assert _train(run, "--steps", 7) == 2
    _, line = _last_line(capfd)
    assert "below the step this run reached (10)" in line
    assert (run / "config.json").read_text() == config


def test_leftovers_of_a_crash_are_removed_and_nothing_else(run, capfd):
    (run / "checkpoints" / "ckpt-12_temp").mkdir()
    (run / "checkpoints" / "ckpt-12_temp" / "part-00000-of-00001.index").write_bytes(b"x")
    (run / "config.json.tmp").write_text("{")
    (run / ".tmp-abc.json").write_text("{")
    (run / "notes.txt").write_text("mine")
    (run / "checkpoints" / "ckpt-notes").write_text("mine too")
    _resumes_to_target(run, capfd)
    assert not (run / "checkpoints" / "ckpt-12_temp").exists()
    assert not (run / "config.json.tmp").exists() and not (run / ".tmp-abc.json").exists()
    assert (run / "notes.txt").read_text() == "mine"
    assert (run / "checkpoints" / "ckpt-notes").read_text() == "mine too"


@contextlib.contextmanager
def _other_process_holds(folder, what):
    code = ("import importlib.util, time\n"  # _files alone: no TensorFlow to import
            f"spec = importlib.util.spec_from_file_location('f', {_files.__file__!r})\n"
            "_files = importlib.util.module_from_spec(spec); spec.loader.exec_module(_files)\n"
            f"with _files.folder_lock({str(folder)!r}, {what!r}):\n"
            "    print('locked', flush=True); time.sleep(600)\n")  # killed when done
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_a_second_trainer_or_an_export_gets_the_holders_pid(run, tmp_path, capfd):
    before = _digest(str(run / "checkpoints"))
    with _other_process_holds(run, "train") as pid:
        assert _train(run, "--steps", TARGET) == 2
        _, line = _last_line(capfd)
        assert f"in use by process {pid} (train)" in line
        assert cli.main(["export", "--run", str(run), "--out", str(tmp_path / "e")]) == 2
        _, line = _last_line(capfd)
        assert f"in use by process {pid} (train)" in line
    assert _digest(str(run / "checkpoints")) == before
    _resumes_to_target(run, capfd)  # the lock died with its process


def test_permission_denied_is_named_as_such(run, monkeypatch, capfd):
    def denied(run_dir):
        raise PermissionError(13, "Permission denied", os.path.join(run_dir, "config.json"))

    monkeypatch.setattr(config_lib.RunConfig, "load", staticmethod(denied))
    assert _train(run, "--steps", TARGET) == 2
    _, line = _last_line(capfd)
    assert line.startswith("keras-vidgan: error: permission denied (") and "config.json" in line


def test_symlinks_in_the_data_folder(demo_dir, tmp_path, capfd):
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in sorted(os.listdir(demo_dir))[:2]:
        os.symlink(os.path.join(demo_dir, name), videos / name)
    os.symlink("..", videos / "up")
    os.symlink(videos / "gone.mp4", videos / "dangling.mp4")
    os.symlink(videos / "b.mp4", videos / "a.mp4")
    os.symlink(videos / "a.mp4", videos / "b.mp4")
    assert _train(tmp_path / "run", "--steps", 2, data=videos) == 0
    out = capfd.readouterr().out
    assert "skipped: link to a folder outside the data folder" in out
    assert "skipped: dangling symbolic link" in out and "skipped: symbolic link loop" in out
    assert "2 of 2 files used" in out
    os.symlink(tmp_path / "loop", tmp_path / "loop")
    assert _train(tmp_path / "run2", "--steps", 2, data=tmp_path / "loop") == 2
    _, line = _last_line(capfd)
    assert "Expected a folder of videos" in line


# --- A full disk ------------------------------------------------------------------------


@contextlib.contextmanager
def _full_disk(tmp_path, free_kb):
    """A small tmpfs with `free_kb` left, or None where it cannot be mounted (not root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.environ.get("KERAS_VIDGAN_TEST_NO_TMPFS"):  # to test the fallback where mount works
        yield None
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode != 0:
        yield None
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(mount, free_kb):
    stat = os.statvfs(mount)
    left = stat.f_bavail * stat.f_frsize - free_kb * 1024
    with open(mount / "filler", "wb") as f:
        f.write(b"\0" * max(left, 0))


def test_disk_full_while_checkpointing_keeps_the_newest_checkpoint(run, tmp_path, monkeypatch, capfd):
    with _full_disk(tmp_path, 0) as mount:
        if mount is None:  # no tmpfs here: a patched writer fails as a full disk does
            def full(self):
                raise OSError(28, "No space left on device", str(run / "checkpoints"))

            monkeypatch.setattr(runs.Trainer, "save", full)
            where = run
        else:
            where = mount / "run"
            shutil.copytree(run, where, symlinks=True)
            _fill(mount, 12)  # config.json fits, a checkpoint does not
        newest = _digest(str(where / "checkpoints" / "ckpt-10.index"))
        assert _train(where, "--steps", TARGET) == 2
        _, line = _last_line(capfd)
        assert line.startswith("keras-vidgan: error: no space left on the device")
        assert _step(where) == 10 and runs.checkpoint_damage(str(where / "checkpoints" / "ckpt-10")) is None
        assert newest == _digest(str(where / "checkpoints" / "ckpt-10.index"))
        if mount is None:
            monkeypatch.undo()
        else:
            os.remove(mount / "filler")
        _resumes_to_target(where, capfd)


def test_disk_full_writing_config_json_keeps_the_old_one(run, tmp_path, monkeypatch, capfd):
    before = (run / "config.json").read_bytes()

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)  # every atomic write fsyncs before its rename
    assert _train(run, "--steps", TARGET) == 2
    _, line = _last_line(capfd)
    assert "no space left on the device" in line
    assert (run / "config.json").read_bytes() == before
    assert not [p for p in os.listdir(run) if p.startswith(".tmp-")]
    monkeypatch.undo()
    _resumes_to_target(run, capfd)


def _no_space(*args, **kwargs):
    raise OSError(28, "No space left on device")


def test_disk_full_for_the_frame_cache_warns_and_trains_on(run, tmp_path, monkeypatch, capfd):
    from keras_vidgan import data

    with _full_disk(tmp_path, 0) as mount:
        if mount is None:  # no tmpfs here: a patched writer
            monkeypatch.setattr(data, "_save_cache", _no_space)
            mount = tmp_path
        else:
            _fill(mount, 4)
        assert _train(run, "--steps", TARGET, cache=mount / "cache") == 0
        err = capfd.readouterr().err
        assert "could not write the frame cache: no space left" in err
        assert _step(run) == TARGET


def test_disk_full_during_export_keeps_earlier_versions(base_run, base_export, tmp_path, monkeypatch, capfd):
    with _full_disk(tmp_path, 0) as mount:
        if mount is None:  # no tmpfs here: a patched writer
            monkeypatch.setattr(export, "_write_version", _no_space)
            mount = tmp_path
        base = mount / "export"
        shutil.copytree(base_export, base)
        first = _digest(str(base / "1"))
        if mount != tmp_path:
            _fill(mount, 40)
        assert cli.main(["export", "--run", str(base_run), "--out", str(base)]) == 2
        _, line = _last_line(capfd)
        assert "no space left on the device" in line
        assert sorted(os.listdir(base)) == ["1"] and _digest(str(base / "1")) == first


# --- kill -9 ----------------------------------------------------------------------------


def _cli_process(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.Popen([sys.executable, "-m", "keras_vidgan", *map(str, args)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


@pytest.mark.parametrize("seed", [0, 1])
def test_kill_9_at_a_random_moment_of_train(run, seed, capfd):
    random.seed(seed)
    proc = _cli_process("train", "--out", run, "--steps", 100000, "--no-cache")
    deadline = time.time() + 600  # a busy host (the other pytest worker) is slow to step 15
    while _step(run) < 15 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(random.uniform(0.0, 0.3))  # between, or during, checkpoint writes
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    newest, damaged = runs.newest_intact_checkpoint(str(run))
    assert newest is not None and int(newest.rsplit("-", 1)[1]) >= 10
    # Only a checkpoint being written at the kill may be damaged; a resume sets it aside.
    assert all(int(p.rsplit("-", 1)[1]) > int(newest.rsplit("-", 1)[1]) for p, _ in damaged)
    reached = int(newest.rsplit("-", 1)[1])
    assert _train(run, "--steps", reached + 5) == 0
    assert _step(run) == reached + 5
    assert not list((run / "checkpoints").glob("*_temp"))


@pytest.mark.parametrize("seed", [0, 1])
def test_kill_9_at_a_random_moment_of_export(base_run, base_export, tmp_path, seed, capfd):
    base = tmp_path / "export"
    shutil.copytree(base_export, base)
    first = _digest(str(base / "1"))
    random.seed(seed)
    proc = _cli_process("export", "--run", base_run, "--out", base, "--version", 2)
    while not [p for p in os.listdir(base) if p.startswith(".tmp-")] and proc.poll() is None:
        time.sleep(0.02)
    time.sleep(random.uniform(0.0, 1.0))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _digest(str(base / "1")) == first
    assert not (base / "2").exists() or (base / "2" / "saved_model.pb").exists()
    export.remove_leftovers(str(base))  # what the next export does first, under its lock
    assert [p for p in sorted(os.listdir(base)) if not p[0].isdigit()] == []
    assert _digest(str(base / "1")) == first


def test_generate_and_export_skip_a_damaged_newest_checkpoint_saying_so(run, tmp_path, capfd):
    (data,) = [p for p in (run / "checkpoints").iterdir() if p.name.startswith("ckpt-10.data")]
    data.write_bytes(data.read_bytes()[:100])
    before = _digest(str(run))
    assert cli.main(["generate", "--run", str(run), "--out", str(tmp_path / "g.png")]) == 0
    captured = capfd.readouterr()
    assert "checkpoint ckpt-10 is damaged" in captured.err and "using ckpt-5" in captured.err
    assert (tmp_path / "g.png").exists()
    assert _digest(str(run)) == before  # a reader changes nothing in the run folder
