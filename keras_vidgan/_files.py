"""File helpers: the cache folder, atomic writes, file modes, folder locks, leftovers.

Every file keras_vidgan writes goes through `atomic_write` (or `publish` for a file
or folder a library wrote to a temporary path): it appears whole or not at all, and
with the mode the umask gives a newly created file (0644 files and 0755 folders
under umask 022), although `tempfile.mkstemp` makes 0600 files and `mkdtemp` 0700
folders (a model server often runs as another user).
"""

import contextlib
import errno
import fcntl
import os
import re
import shutil
import tempfile

__all__ = [
    "atomic_savez",
    "atomic_write",
    "cache_root",
    "describe_os_error",
    "folder_lock",
    "FolderBusyError",
    "publish",
    "remove_leftovers",
    "umask_modes",
]

TMP_PREFIX = ".tmp-"  # every temporary file or folder of `atomic_write` / exports
LOCK_NAME = ".lock"


def cache_root():
    """keras_vidgan's cache folder: `$KERAS_VIDGAN_CACHE`, or `~/.cache/keras_vidgan`."""
    return os.environ.get("KERAS_VIDGAN_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "keras_vidgan"
    )


# --- Modes ----------------------------------------------------------------------------


def _umask():
    try:  # Linux: read it without changing it (os.umask sets it, racing threads)
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def umask_modes():
    """`(file_mode, folder_mode)` a new file and folder get under the current umask."""
    mask = _umask()
    return 0o666 & ~mask, 0o777 & ~mask


def _fix_modes(path):
    """Gives `path` (a file, or a folder tree) the umask's modes."""
    file_mode, folder_mode = umask_modes()
    if not os.path.isdir(path):
        os.chmod(path, file_mode)
        return
    os.chmod(path, folder_mode)
    for root, dirs, files in os.walk(path):
        for name in dirs:
            os.chmod(os.path.join(root, name), folder_mode)
        for name in files:
            os.chmod(os.path.join(root, name), file_mode)


def publish(tmp, path):
    """Moves the finished temporary file or folder `tmp` to `path`, with umask modes.

    `tmp` must be on the same file system (a sibling): the rename is atomic.
    """
    _fix_modes(tmp)
    os.replace(tmp, path)
    return path


def temp_path(path, folder=False):
    """A new temporary sibling of `path` (a file or a folder), named `.tmp-*`."""
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    suffix = "" if folder else os.path.splitext(path)[1]
    if folder:
        return tempfile.mkdtemp(prefix=TMP_PREFIX, dir=parent)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=suffix, dir=parent)
    os.close(fd)
    return tmp


@contextlib.contextmanager
def atomic_target(path):
    """Yields a temporary path beside `path`; on success it becomes `path`.

    For writers that take a file name (OpenCV, Pillow, NumPy). On any error the
    temporary file is removed and `path` is untouched.
    """
    tmp = temp_path(path)
    try:
        yield tmp
        publish(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.remove(tmp)


@contextlib.contextmanager
def atomic_write(path, mode="w"):
    """Opens a temporary sibling of `path` for writing; on success it becomes `path`.

    The data is flushed and fsynced before the rename, so after a crash `path`
    holds the old or the new content, never a part of it.

    Args:
        path: str or path-like.
        mode: `"w"` (text) or `"wb"` (binary).
    """
    path = os.fspath(path)
    with atomic_target(path) as tmp:
        with open(tmp, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())


def atomic_savez(path, arrays):
    """Writes `arrays` (a dict) to the `.npz` file `path` via a temporary sibling.

    Returns:
        str. `path`.
    """
    import numpy as np  # here: the CLI imports this module before --help answers

    path = os.fspath(path)
    with atomic_write(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path


# --- Errors ---------------------------------------------------------------------------


def describe_os_error(err):
    """One line naming what failed and what to do, for an `OSError` a user can cause."""
    where = err.filename or ""
    if err.filename2:
        where = f"{where} -> {err.filename2}"
    where = f" ({where})" if where else ""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"no space left on the device{where}; free some space and run again "
                "(finished checkpoints and exports are kept)")
    if err.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied{where}; check the owner and mode of that path"
    if err.errno == errno.ELOOP:
        return f"symbolic link loop{where}; fix or remove the link"
    if err.errno == errno.EROFS:
        return f"read-only file system{where}; write the output elsewhere"
    return f"{err.strerror or err}{where}"


# --- Locks ----------------------------------------------------------------------------


class FolderBusyError(RuntimeError):
    """Raised when another process holds a folder's lock."""


@contextlib.contextmanager
def folder_lock(folder, what, shared=False, lock_file=True):
    """Holds an advisory `fcntl.flock` on `folder/.lock` while the block runs.

    The kernel releases the lock when the process ends, also by kill -9, so a
    crash never leaves a folder locked. The exclusive holder writes its pid and
    `what` into the file; a process that finds the folder busy raises
    `FolderBusyError` naming them.

    Args:
        folder: str. The folder (created if missing).
        what: str. What the holder does (e.g. `"train"`), for the message.
        shared: bool. A shared lock (readers, e.g. `export`): several may hold it,
            but not while an exclusive holder (`train`) does.
        lock_file: bool. False locks the folder itself and writes nothing into it
            (for an export base folder, which holds only versions).
    """
    os.makedirs(folder, exist_ok=True)
    if lock_file:
        path = os.path.join(folder, LOCK_NAME)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, umask_modes()[0] | 0o600)
    else:
        fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() if lock_file else ""
            raise FolderBusyError(
                f"{folder} is in use by {holder or 'another process'}; wait for it to "
                "finish (or stop it), or use another folder"
            ) from None
        if lock_file and not shared:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"process {os.getpid()} ({what})".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


# --- Leftovers ------------------------------------------------------------------------


def remove_leftovers(folder, patterns):
    """Removes entries of `folder` whose names match one of `patterns` (regexes).

    For the temporary files and folders an earlier crash left (call it while
    holding the folder's lock): nothing else is touched.

    Returns:
        List of the removed paths.
    """
    if not os.path.isdir(folder):
        return []
    compiled = [re.compile(p) for p in patterns]
    removed = []
    for name in sorted(os.listdir(folder)):
        if not any(c.fullmatch(name) for c in compiled):
            continue
        path = os.path.join(folder, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
        removed.append(path)
    return removed
