"""File helpers: the cache folder, and atomic writes (a file appears whole or not at all)."""

import os
import tempfile

import numpy as np

__all__ = ["atomic_savez", "cache_root"]


def cache_root():
    """keras_vidgan's cache folder: `$KERAS_VIDGAN_CACHE`, or `~/.cache/keras_vidgan`."""
    return os.environ.get("KERAS_VIDGAN_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "keras_vidgan"
    )


def atomic_savez(path, arrays):
    """Writes `arrays` (a dict) to the `.npz` file `path` via a temporary sibling.

    Returns:
        str. `path`.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; caches are not secret
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path
