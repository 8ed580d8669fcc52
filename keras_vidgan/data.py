"""Video folders as training data: scan, decode, preprocess, cache, batch.

listing defect 6: the listing fed D a symbolic `keras.layers.Input` instead of data;
here real frames come from a folder of video files through `tf.data`.

Preprocessing rule: each frame is made square, by a centre crop (default) or by
letterboxing (black bars), then resized to `frame_size` with area interpolation
(`INTER_AREA`) when shrinking and bilinear when enlarging; RGB, float32 in [-1, 1].
When the square is 2 or more times `frame_size`, its side is snapped to a multiple
of `frame_size` if that changes it by at most 1/8 (a crop trims a few more pixels,
a letterbox pads a few more): area resize by an integer factor is an exact box
average, four times cheaper than a fractional one (480 -> 448 -> 64 for a 640x480
video at 64x64).

Frames are decoded one at a time and preprocessed at once, so memory is bounded by
the preprocessed size, whatever the length or resolution of the source videos.
Files are decoded in parallel threads (OpenCV releases the GIL while decoding), and
the result is cached as `.npz`, keyed by the files' paths, sizes and modification
times and by the settings, so a second run decodes nothing.
"""

import concurrent.futures
import dataclasses
import errno
import hashlib
import json
import math
import os
import sys

import cv2
import numpy as np
import tensorflow as tf

from keras_vidgan import _files, video_io

__all__ = [
    "VIDEO_EXTENSIONS",
    "VideoEntry",
    "VideoFolder",
    "NoUsableVideosError",
    "LabelError",
    "find_videos",
    "scan_videos",
    "load_video_folder",
    "make_demo_videos",
    "preprocess_frame",
]

VIDEO_EXTENSIONS = frozenset(
    ".mp4 .avi .mkv .mov .webm .mpeg .mpg .m4v .wmv .flv .3gp .ogv .ts .mts .m2ts "
    ".vob .asf .divx .mjpeg".split()
)
RESIZE_MODES = ("crop", "letterbox")
_CACHE_VERSION = 3  # bump when preprocessing changes


class NoUsableVideosError(ValueError):
    """Raised when a folder has no video that can be used for training."""


class LabelError(ValueError):
    """Raised when a folder's subfolders cannot serve as class labels."""


@dataclasses.dataclass
class VideoEntry:
    """What the loader found in one file.

    Attributes:
        path: str. Path relative to the scanned folder.
        frames: int. Frames kept (decoded, after the frame step); 0 if skipped.
        width: int. Source width in pixels (0 if unknown).
        height: int. Source height in pixels (0 if unknown).
        fps: float. Source frame rate from the container (0 if unknown).
        frame_step: int. Every `frame_step`-th decoded frame was kept.
        skipped: str or None. Why the file was not used, or None if it was.
    """

    path: str
    frames: int = 0
    width: int = 0
    height: int = 0
    fps: float = 0.0
    frame_step: int = 1
    skipped: str = None

    @property
    def duration(self):
        """Seconds covered by the kept frames (0 when the fps is unknown)."""
        return self.frames * self.frame_step / self.fps if self.fps > 0 else 0.0

    def clips(self, clip_len):
        """How many clips of `clip_len` consecutive kept frames start in this file."""
        return max(self.frames - clip_len + 1, 0) if not self.skipped else 0


def find_videos(folder):
    """Lists video files below `folder`, recursively, in a stable order.

    Extensions are matched case-insensitively against `VIDEO_EXTENSIONS`; see
    `scan_videos` for links and what is skipped.

    Args:
        folder: str or path-like. Folder to scan.

    Returns:
        Sorted list of paths (str).

    Raises:
        FileNotFoundError: if `folder` is not a directory.
    """
    return scan_videos(folder)[0]


def scan_videos(folder):
    """Video files below `folder`, and every folder or file skipped with its reason.

    The scan stays inside `folder` and visits each real file and folder once: a
    link to a folder is followed when it points inside `folder` to a folder not yet
    scanned; links out of it (e.g. to `..`), dangling links, link loops, hidden
    folders and folders that cannot be listed are skipped. Files of other
    extensions are not candidates (not listed).

    Returns:
        `(paths, skipped)`: sorted video paths (str), and `[(path relative to
        folder, reason)]`.

    Raises:
        FileNotFoundError: if `folder` is not a directory.
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"Expected a folder of videos, received: {folder!r} (not a directory)"
        )
    top = os.path.realpath(folder)
    found, skipped, seen = [], [], set()
    pending = [folder]
    while pending:
        current = pending.pop()
        real = os.path.realpath(current)
        rel = os.path.relpath(current, folder)
        if real != top and not real.startswith(top + os.sep):
            skipped.append((rel, f"link to a folder outside the data folder ({real})"))
            continue
        if real in seen:
            skipped.append((rel, "link to a folder scanned already (each folder is read once)"))
            continue
        seen.add(real)
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError as err:
            skipped.append((rel, f"cannot list the folder: {_files.describe_os_error(err)}"))
            continue
        subfolders = []
        for entry in entries:
            reason, is_dir = _scan_entry(entry)
            name = os.path.relpath(entry.path, folder)
            if reason:
                skipped.append((name, reason))
            elif is_dir:
                subfolders.append(entry.path)
            elif os.path.splitext(entry.name)[1].lower() in VIDEO_EXTENSIONS:
                target = os.path.realpath(entry.path)
                if target in seen:
                    skipped.append((name, "the same file as another one (a link)"))
                else:
                    seen.add(target)
                    found.append(entry.path)
        pending.extend(reversed(subfolders))
    return sorted(found), sorted(skipped)


def _scan_entry(entry):
    """`(reason to skip or None, is a folder)` of one `os.DirEntry`."""
    try:
        is_dir = entry.is_dir()  # follows links
        if not is_dir and not entry.is_file():
            if not entry.is_symlink():
                return None, False  # a socket, fifo...: not a candidate
            os.stat(entry.path)  # raises for a dangling link or a loop
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "symbolic link loop", False
        if err.errno == errno.ENOENT:
            return f"dangling symbolic link (to {os.readlink(entry.path)!r})", False
        return _files.describe_os_error(err), False
    if is_dir and entry.name.startswith("."):
        return "hidden folder", True
    if not is_dir and not os.access(entry.path, os.R_OK):
        if os.path.splitext(entry.name)[1].lower() in VIDEO_EXTENSIONS:
            return "permission denied (cannot read the file)", False
    return None, is_dir


def _square_side(height, width, frame_size, resize):
    """Side of the square taken from a frame (module docstring rule)."""
    side = min(height, width) if resize == "crop" else max(height, width)
    factor = side // frame_size if resize == "crop" else -(-side // frame_size)
    snapped = factor * frame_size
    if factor >= 2 and abs(side - snapped) * 8 <= side:
        return snapped  # an integer factor: area resize becomes a fast box average
    return side


def preprocess_frame(frame, frame_size, resize="crop"):
    """Makes a frame square and `frame_size` wide (module docstring rule).

    Channels are kept as they come: the loader converts OpenCV's BGR (or gray,
    BGRA) to RGB after this, on the small frame, which keeps it near the speed of
    a bare decode loop.

    Args:
        frame: `np.ndarray` `(height, width[, channels])` uint8.
        frame_size: int. Output height and width.
        resize: str. `"crop"` (centre crop) or `"letterbox"` (pad with black).

    Returns:
        `np.ndarray` `(frame_size, frame_size[, channels])` uint8.
    """
    height, width = frame.shape[:2]
    side = _square_side(height, width, frame_size, resize)
    if resize == "crop":
        top, left = (height - side) // 2, (width - side) // 2
        square = frame[top:top + side, left:left + side]
    else:
        square = np.zeros((side, side) + frame.shape[2:], frame.dtype)
        top, left = (side - height) // 2, (side - width) // 2
        square[top:top + height, left:left + width] = frame
    if side == frame_size:
        return np.ascontiguousarray(square)
    interp = cv2.INTER_AREA if side > frame_size else cv2.INTER_LINEAR
    return cv2.resize(square, (frame_size, frame_size), interpolation=interp)


@dataclasses.dataclass(frozen=True)
class _Settings:
    frame_size: int
    frame_step: int
    fps: float
    resize: str
    max_frames: int
    min_frames: int


def _properties(capture):
    return {
        "fps": float(capture.get(cv2.CAP_PROP_FPS) or 0.0),
        "width": int(capture.get(cv2.CAP_PROP_FRAME_WIDTH) or 0),
        "height": int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0),
    }


def _frame_step(settings, fps):
    if settings.fps and fps > 0:
        return max(int(round(fps / settings.fps)), 1)
    return settings.frame_step


def _decode(path, rel, settings, threads=None):
    """Decodes and preprocesses one file -> (VideoEntry, uint8 frames or None)."""
    if os.path.getsize(path) == 0:
        return VideoEntry(rel, skipped="empty file (0 bytes)"), None
    try:
        with video_io.open_video(path, threads) as capture:
            info = _properties(capture)
            step = _frame_step(settings, info["fps"])
            entry = VideoEntry(rel, 0, info["width"], info["height"], info["fps"], step)
            frames = [
                video_io.to_rgb(preprocess_frame(frame, settings.frame_size, settings.resize))
                for frame in video_io.iter_frames(
                    capture, settings.max_frames or None, step, rgb=False
                )
            ]
    except ValueError:
        return VideoEntry(rel, skipped="cannot be opened: corrupt or not a video"), None
    except cv2.error as err:
        return VideoEntry(rel, skipped=f"decode error: {err}"), None
    entry.frames = len(frames)
    if not frames:
        entry.skipped = "no frame could be decoded (truncated or corrupt)"
    elif len(frames) < settings.min_frames:
        entry.skipped = f"too short: {len(frames)} frames < {settings.min_frames} needed"
    if entry.skipped:
        entry.frames = 0
        return entry, None
    return entry, np.stack(frames)


class VideoFolder:
    """Preprocessed frames of a folder of videos, with what was used and skipped.

    Build one with `load_video_folder`. Frames of all usable videos are held as one
    uint8 array; `starts[i]:starts[i + 1]` are the frames of the i-th usable video,
    so a clip never crosses from one video into the next.

    Attributes:
        folder: str. The scanned folder.
        frames: `np.ndarray` `(total_frames, frame_size, frame_size, 3)` uint8 RGB.
        starts: `np.ndarray` int64 of offsets, one per usable video plus the end.
        entries: list of `VideoEntry`, one per file found, used or skipped.
        from_cache: bool. Whether the frames came from the cache.
        skipped: list of `(path, reason)`: folders and links the scan skipped
            (see `scan_videos`).
        class_names: tuple of str. The classes in order (`labels="subfolders"`),
            or `()` for an unlabelled folder.
        labels: `np.ndarray` int32, the class of each usable video, or None.
    """

    def __init__(self, folder, frames, starts, entries, from_cache=False, skipped=(),
                 class_names=(), labels=None):
        self.folder = folder
        self.frames = frames
        self.starts = starts
        self.entries = entries
        self.from_cache = from_cache
        self.skipped = list(skipped)
        self.class_names = tuple(class_names)
        self.labels = labels

    @property
    def frame_size(self):
        return int(self.frames.shape[1])

    @property
    def num_videos(self):
        return len(self.starts) - 1

    def fingerprint(self, *settings):
        """A short hex digest of the frames' layout and `settings` (e.g. batching).

        Two folders with the same videos and frame counts give the same digest;
        `Trainer.fit(data_key=...)` uses it to resume the data where it stopped.
        """
        digest = hashlib.sha1(repr((self.frames.shape, *settings)).encode())
        digest.update(np.ascontiguousarray(self.starts, np.int64).tobytes())
        if self.labels is not None:  # balanced batches are another pipeline
            digest.update(repr(self.class_names).encode() + self.labels.tobytes())
        return digest.hexdigest()[:16]

    def clip_starts(self, clip_len):
        """Indices into `frames` of every clip of `clip_len` consecutive frames."""
        if clip_len < 1:
            raise ValueError(f"Expected clip_len >= 1, received: clip_len={clip_len}")
        ranges = [
            np.arange(begin, end - clip_len + 1)
            for begin, end in zip(self.starts[:-1], self.starts[1:])
        ]
        return np.concatenate(ranges or [np.zeros(0, np.int64)]).astype(np.int64)

    def sample_clips(self, n, num_frames, seed=0, with_video_ids=False):
        """`n` real clips of `num_frames` consecutive frames, as training draws them.

        Clips never cross from one video into the next. The `n` clips are evenly
        spaced, with a seeded offset, over every clip of the folder (the starts that
        `dataset` shuffles for training), so each video gives clips in proportion to
        its length, as it gives training batches: the reference is a sample of the
        distribution the generator learns. The same folder, `n`, `num_frames` and
        `seed` give the same clips; all clips are distinct.

        Args:
            n: int >= 1. Number of clips.
            num_frames: int >= 1. Frames per clip.
            seed: int. Seed of the start offsets.
            with_video_ids: bool. Also return the source video of every clip (its
                index among the folder's usable videos), e.g. for
                `metrics.realism_report(real_video_ids=...)`.

        Returns:
            `np.ndarray` `(n, num_frames, H, W, 3)` float32 in [-1, 1], grouped by video;
            with `with_video_ids`, `(clips, ids)` with `ids` an `(n,)` int64 array.

        Raises:
            ValueError: if no video has `num_frames` frames, or the folder holds fewer
                than `n` distinct clips.
        """
        for name, value in (("n", n), ("num_frames", num_frames)):
            if value is None or int(value) < 1:
                raise ValueError(f"Expected {name} >= 1, received: {value}")
        every = self.clip_starts(num_frames)
        if len(every) < n:
            longest = int(np.diff(self.starts).max()) if self.num_videos else 0
            raise ValueError(
                f"Expected at least {n} distinct clips of {num_frames} frames in "
                f"{self.folder!r}, received: {len(every)} (longest video: {longest} "
                "frames); lower --samples or --frames, or add videos."
            )
        offset = np.random.default_rng(seed).random()  # n evenly spaced starts, seeded offset
        starts = every[np.floor((np.arange(n) + offset) * len(every) / n).astype(np.int64)]
        index = starts[:, None] + np.arange(num_frames)[None, :]
        clips = self.frames[index].astype(np.float32) / 127.5 - 1.0
        if not with_video_ids:
            return clips
        return clips, np.searchsorted(self.starts, starts, side="right") - 1

    def split_videos(self):
        """Splits the videos into two disjoint halves: even and odd positions.

        For a real-vs-real baseline: clips of one half against clips of the other
        show how far apart two samples of the same footage are, with no clip shared.

        Returns:
            `(VideoFolder, VideoFolder)`: videos 0, 2, 4, ... and 1, 3, 5, ...

        Raises:
            ValueError: if the folder holds fewer than 2 videos.
        """
        if self.num_videos < 2:
            raise ValueError(f"Expected at least 2 videos to split, received: {self.num_videos}")
        indices = np.arange(self.num_videos)
        return self._subset(indices[0::2]), self._subset(indices[1::2])

    def _subset(self, videos):
        pieces = [self.frames[self.starts[i]:self.starts[i + 1]] for i in videos]
        starts = np.concatenate([[0], np.cumsum([len(p) for p in pieces])]).astype(np.int64)
        used = [e for e in self.entries if not e.skipped]
        return VideoFolder(
            self.folder, np.concatenate(pieces), starts, [used[i] for i in videos],
            self.from_cache, class_names=self.class_names,
            labels=None if self.labels is None else self.labels[np.asarray(videos)],
        )

    def of_class(self, class_id):
        """The videos of class `class_id` (an index into `class_names`), as a `VideoFolder`."""
        if self.labels is None:
            raise ValueError("Expected a labelled folder (labels='subfolders').")
        return self._subset(np.flatnonzero(self.labels == class_id))

    def _clip_labels(self, starts):
        """The class of each clip start (an index into `frames`)."""
        return self.labels[np.searchsorted(self.starts, starts, side="right") - 1]

    def dataset(self, batch_size, clip_len=None, shuffle=True, repeat=True, seed=None):
        """A `tf.data.Dataset` of float32 batches in [-1, 1].

        Args:
            batch_size: int. Batch size.
            clip_len: int or None. None for frames `(batch, H, W, 3)`; an int T for
                clips `(batch, T, H, W, 3)` of consecutive frames of one video.
            shuffle: bool. Shuffle every epoch. Defaults to True.
            repeat: bool. Repeat forever, dropping the short last batch of each
                pass. Defaults to True.
            seed: int or None. Shuffle seed.

        A labelled folder yields `(batch, class_ids)` pairs (int32 `(batch,)`) with
        the classes balanced: the clips of each class are shuffled apart and taken
        in turn, class 0, 1, ..., so every batch holds about `batch_size / K` clips
        of each of the K classes, however few videos a class has.

        Returns:
            A `tf.data.Dataset`, prefetched.

        Raises:
            ValueError: if no clip of `clip_len` frames fits in any video.
        """
        starts = self.clip_starts(clip_len or 1)
        if len(starts) == 0:
            longest = int(np.max(np.diff(self.starts))) if self.num_videos else 0
            raise ValueError(
                f"Expected videos with at least clip_len={clip_len} frames, "
                f"received: the longest usable video has {longest}; "
                "lower --clip-len or --frame-step."
            )
        frames = tf.constant(self.frames)
        offsets = tf.range(clip_len or 1, dtype=tf.int64)
        if self.labels is None:
            ds = _shuffled(tf.data.Dataset.from_tensor_slices(starts), len(starts), shuffle,
                           repeat, seed)
        else:
            ds = self._balanced(starts, shuffle, repeat, seed)
        ds = ds.batch(batch_size, drop_remainder=repeat)

        def gather(index, labels=None):
            if clip_len is None:
                batch = tf.gather(frames, index)
            else:
                batch = tf.gather(frames, index[:, None] + offsets[None, :])
            batch = tf.cast(batch, tf.float32) / 127.5 - 1.0
            return batch if labels is None else (batch, labels)

        return ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(
            tf.data.AUTOTUNE
        )

    def _balanced(self, starts, shuffle, repeat, seed):
        """`(start, class)` elements, the classes in turn (see `dataset`)."""
        labels = self._clip_labels(starts).astype(np.int32)
        per_class = []
        for c in range(len(self.class_names)):
            mine = starts[labels == c]
            if len(mine) == 0:
                raise ValueError(f"Expected clips of class {self.class_names[c]!r}, found none; "
                                 "lower --clip-len or add videos of that class.")
            ds = tf.data.Dataset.from_tensor_slices((mine, np.full(len(mine), c, np.int32)))
            per_class.append(_shuffled(ds, len(mine), shuffle, True,
                                       None if seed is None else seed + c))
        if not repeat:  # one pass: each clip once, the classes as the folder holds them
            return _shuffled(tf.data.Dataset.from_tensor_slices((starts, labels)), len(starts),
                             shuffle, False, seed)
        turns = tf.data.Dataset.range(len(per_class)).repeat()
        return tf.data.Dataset.choose_from_datasets(per_class, turns)

    def summary(self, clip_len=1, max_rows=None):
        """A printable table: one row per file, then totals.

        Args:
            clip_len: int. Clip length for the clip counts.
            max_rows: int or None. List at most this many usable files (skipped ones
                are always listed), then how many more; None lists every file.
        """
        named = bool(self.class_names)
        label = f" {'label':<16}" if named else ""
        header = (f"{'file':<40}{label} {'frames':>7} {'size':>10} {'fps':>6} {'secs':>6} "
                  f"{'clips':>6}  status")
        rows = [header, "-" * len(header)]
        shown = [e for e in self.entries if e.skipped]
        usable = [e for e in self.entries if not e.skipped]
        hidden = max(0, len(usable) - max_rows) if max_rows is not None else 0
        shown = set(map(id, shown + usable[:len(usable) - hidden]))
        for e in self.entries:
            if id(e) not in shown:
                continue
            size = f"{e.width}x{e.height}" if e.width else "?"
            status = f"skipped: {e.skipped}" if e.skipped else "ok"
            label = f" {_shorten(_first_folder(e.path), 16):<16}" if named else ""
            rows.append(
                f"{_shorten(e.path, 40):<40}{label} {e.frames:>7} {size:>10} {e.fps:>6.1f} "
                f"{e.duration:>6.1f} {e.clips(clip_len):>6}  {status}"
            )
        if hidden:
            rows.append(f"... and {hidden} more usable files (`keras-vidgan inspect-data` lists all)")
        for path, reason in self.skipped:
            rows.append(f"{_shorten(path, 40):<40} {'':>7} {'':>10} {'':>6} {'':>6} {'':>6}  "
                        f"skipped: {reason}")
        used = [e for e in self.entries if not e.skipped]
        rows.append("-" * len(header))
        rows.append(
            f"{len(used)} of {len(self.entries)} files used, "
            f"{len(self.entries) - len(used)} skipped; {sum(e.frames for e in used)} frames, "
            f"{sum(e.clips(clip_len) for e in used)} clips of {clip_len} frames, "
            f"{sum(e.duration for e in used):.1f} s at {self.frame_size}x{self.frame_size}"
            + (" (from cache)" if self.from_cache else "")
            + (f"; {len(self.skipped)} other path(s) skipped by the scan" if self.skipped else "")
        )
        if named:
            used = [e for e in self.entries if not e.skipped]
            counts = [
                f"{name}: {int(np.sum(self.labels == c))} videos, "
                f"{sum(e.clips(clip_len) for e, y in zip(used, self.labels) if y == c)} clips"
                for c, name in enumerate(self.class_names)
            ]
            rows.append(f"{len(self.class_names)} classes (balanced in training): "
                        + "; ".join(counts))
        return "\n".join(rows)


def _shorten(text, width):
    return text if len(text) <= width else "..." + text[-(width - 3):]


def _shuffled(ds, size, shuffle, repeat, seed):
    if shuffle:
        ds = ds.shuffle(size, seed=seed, reshuffle_each_iteration=True)
    return ds.repeat() if repeat else ds


def _first_folder(rel_path):
    """The first-level subfolder of a path relative to the data folder ('' at the top)."""
    parts = rel_path.replace(os.sep, "/").split("/")
    return parts[0] if len(parts) > 1 else ""


def _with_labels(result):
    """`result` labelled by first-level subfolder (`labels="subfolders"`).

    Raises:
        LabelError: files at the top level, fewer than 2 classes, or a class
            whose videos are all unusable.
    """
    rels = [e.path for e in result.entries]
    top = [r for r in rels if not _first_folder(r)]
    if top:
        raise LabelError(
            f"labels='subfolders' takes each video's class from its subfolder, but "
            f"{len(top)} video(s) lie at the top of {result.folder!r} ({', '.join(top[:3])}); "
            "move them into a subfolder named after their class."
        )
    names = sorted({_first_folder(r) for r in rels})
    if len(names) < 2:
        raise LabelError(
            f"labels='subfolders' needs at least 2 classes (subfolders with videos), "
            f"{result.folder!r} has {len(names)} ({', '.join(names) or 'none'}); add a "
            "subfolder per class, or train without --labels."
        )
    used = [e for e in result.entries if not e.skipped]
    labels = np.array([names.index(_first_folder(e.path)) for e in used], np.int32)
    empty = [n for c, n in enumerate(names) if not np.any(labels == c)]
    if empty:
        reasons = "; ".join(f"{e.path}: {e.skipped}" for e in result.entries
                            if e.skipped and _first_folder(e.path) in empty)
        raise LabelError(
            f"Class(es) {', '.join(map(repr, empty))} in {result.folder!r} have no usable "
            f"video ({reasons[:300]}); add usable videos there or remove the subfolder."
        )
    result.class_names, result.labels = tuple(names), labels
    return result


def default_cache_dir():
    """`$KERAS_VIDGAN_CACHE/frames`, or `~/.cache/keras_vidgan/frames`."""
    return os.path.join(_files.cache_root(), "frames")


def _cache_key(folder, paths, settings):
    stats = []
    for path in paths:
        st = os.stat(path)
        stats.append([os.path.relpath(path, folder), st.st_size, st.st_mtime_ns])
    blob = json.dumps(
        [_CACHE_VERSION, os.path.realpath(folder), dataclasses.asdict(settings), stats]
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _load_cache(path, folder):
    with np.load(path, allow_pickle=False) as data:
        entries = [VideoEntry(**e) for e in json.loads(str(data["entries"]))]
        return VideoFolder(folder, data["frames"], data["starts"], entries, True)


def _save_cache(path, result):
    entries = json.dumps([dataclasses.asdict(e) for e in result.entries])
    _files.atomic_savez(
        path, {"frames": result.frames, "starts": result.starts, "entries": np.array(entries)}
    )


def load_video_folder(
    folder,
    frame_size=64,
    frame_step=1,
    fps=None,
    resize="crop",
    min_frames=1,
    max_frames=None,
    cache_dir=None,
    workers=None,
    labels=None,
):
    """Decodes every usable video below `folder` into preprocessed frames.

    Bad files never stop the load: empty, corrupt, truncated-to-nothing, non-video
    and too-short files are skipped, each with its reason in `entries`.

    Args:
        folder: str or path-like. Folder of videos, scanned recursively.
        frame_size: int. Output height and width. Defaults to 64.
        frame_step: int. Keep every `frame_step`-th frame. Defaults to 1.
        fps: float or None. Target frame rate; overrides `frame_step` per file as
            `round(source_fps / fps)`.
        resize: str. `"crop"` (centre crop) or `"letterbox"`. Defaults to `"crop"`.
        min_frames: int. Files with fewer kept frames are skipped. Defaults to 1.
        max_frames: int or None. Keep at most this many frames per file.
        cache_dir: str, None or False. Cache folder; None for
            `default_cache_dir()`, False for no cache.
        workers: int or None. Decoding threads; defaults to the CPU count.
        labels: None (or `"none"`) or `"subfolders"`: each video's class is the
            name of its first-level subfolder (`a/x.mp4` and `a/b/y.mp4` are both
            class `a`); classes are sorted by name, `class_id` is the index.

    Returns:
        A `VideoFolder` (with `class_names` and `labels` when labelled).

    Raises:
        FileNotFoundError: if `folder` is not a directory.
        NoUsableVideosError: if no file in `folder` can be used.
        LabelError: with `labels="subfolders"`, videos at the top level, fewer than
            2 classes, or a class with no usable video.
        ValueError: for a bad setting.
    """
    if labels not in (None, "none", "subfolders"):
        raise ValueError(f"Expected labels None or 'subfolders', received: {labels!r}")
    result = _load(folder, frame_size, frame_step, fps, resize, min_frames, max_frames,
                   cache_dir, workers)
    if labels == "subfolders":
        return _with_labels(result)
    return result


def _load(folder, frame_size, frame_step, fps, resize, min_frames, max_frames, cache_dir,
          workers):
    if resize not in RESIZE_MODES:
        raise ValueError(f"Expected resize in {RESIZE_MODES}, received: {resize!r}")
    if frame_step < 1 or frame_size < 1 or min_frames < 1:
        raise ValueError(
            "Expected frame_step, frame_size and min_frames >= 1, received: "
            f"frame_step={frame_step}, frame_size={frame_size}, min_frames={min_frames}"
        )
    folder = os.fspath(folder)
    paths, skipped = scan_videos(folder)
    settings = _Settings(frame_size, frame_step, fps or 0.0, resize, max_frames or 0, min_frames)
    cache_path = None
    if cache_dir is not False and paths:
        cache_path = os.path.join(
            cache_dir or default_cache_dir(), _cache_key(folder, paths, settings) + ".npz"
        )
        cached = _try_cache(cache_path, folder)
        if cached is not None:
            cached.skipped = skipped
            return _check_usable(cached, paths)
    result = _decode_all(folder, paths, settings, workers)
    result.skipped = skipped
    _check_usable(result, paths)
    if cache_path:
        try:
            _save_cache(cache_path, result)
        except OSError as err:  # the cache is an optimisation: train on without it
            _note(f"could not write the frame cache: {_files.describe_os_error(err)}; "
                  "going on without it")
    return result


def _note(message):
    print(f"keras-vidgan: note: {message}", file=sys.stderr, flush=True)


def _try_cache(cache_path, folder):
    """The cached `VideoFolder`, or None (a damaged or unreadable cache is noted)."""
    if not os.path.exists(cache_path):
        return None
    try:
        return _load_cache(cache_path, folder)
    except OSError as err:
        reason = _files.describe_os_error(err)
    except Exception as err:  # noqa: BLE001 (zipfile, EOF, pickle-free npz errors...)
        reason = f"damaged: {type(err).__name__}: {err}"
    _note(f"the frame cache {cache_path} is unreadable ({' '.join(reason.split())[:200]}); "
          "rebuilding it")
    return None


def _decode_all(folder, paths, settings, workers):
    workers = workers or os.cpu_count() or 1
    rels = [os.path.relpath(p, folder) for p in paths]
    with concurrent.futures.ThreadPoolExecutor(max(workers, 1)) as pool:
        # One decoding thread per file when files are decoded in parallel.
        threads = 1 if workers > 1 else None
        decoded = list(pool.map(lambda pr: _decode(*pr, settings, threads), zip(paths, rels)))
    entries = [entry for entry, _ in decoded]
    arrays = [frames for _, frames in decoded if frames is not None]
    size = settings.frame_size
    frames = np.concatenate(arrays) if arrays else np.zeros((0, size, size, 3), np.uint8)
    starts = np.concatenate([[0], np.cumsum([len(a) for a in arrays])]).astype(np.int64)
    return VideoFolder(folder, frames, starts, entries)


def _check_usable(result, paths):
    if result.num_videos == 0:
        reasons = "; ".join(f"{e.path}: {e.skipped}" for e in result.entries[:5])
        found = (
            f"{len(paths)} video file(s) found, none usable ({reasons})"
            if paths
            else "no video file found (extensions: "
            + ", ".join(sorted(VIDEO_EXTENSIONS)[:8])
            + ", ...)"
        )
        if result.skipped:
            found += "; skipped by the scan: " + "; ".join(
                f"{path}: {why}" for path, why in result.skipped[:5])
        raise NoUsableVideosError(
            f"No usable video in {result.folder!r}: {found}. "
            "Point --data at a folder of videos, or make one with "
            "`keras-vidgan make-demo-data DIR`."
        )
    return result


def _draw_demo_frame(canvas, shapes, t):
    frame = canvas.copy()
    size = frame.shape[0]
    for kind, color, radius, pos, vel in shapes:
        # Bounce off the walls: reflect the straight-line path into [r, size - r].
        span = size - 2 * radius
        x, y = (
            radius + abs((p + v * t) % (2 * span) - span) for p, v in zip(pos, vel)
        )
        center = (int(round(x)), int(round(y)))
        if kind == "circle":
            cv2.circle(frame, center, radius, color, -1, cv2.LINE_AA)
        else:
            cv2.rectangle(
                frame,
                (center[0] - radius, center[1] - radius),
                (center[0] + radius, center[1] + radius),
                color,
                -1,
            )
    return frame


def _demo_background(rng, size):
    top, bottom = rng.integers(0, 120, 3), rng.integers(60, 200, 3)
    ramp = np.linspace(0.0, 1.0, size)[:, None, None]
    column = top[None, None, :] * (1 - ramp) + bottom[None, None, :] * ramp
    return np.repeat(column, size, axis=1).astype(np.uint8)


# The kinds of `make_demo_videos(classes=N)`: which shape moves, and along which axis
# (degrees; either way along it).
DEMO_CLASSES = (
    ("circles-across", "circle", 0), ("squares-updown", "square", 90),
    ("circles-diagonal", "circle", 45), ("squares-antidiagonal", "square", 135),
    ("circles-updown", "circle", 90), ("squares-across", "square", 0),
    ("circles-antidiagonal", "circle", 135), ("squares-diagonal", "square", 45),
)


def _demo_shapes(rng, size, kind=None):
    """1-3 random shapes; with a `kind` of `DEMO_CLASSES`, its shape along its axis."""
    shapes = []
    for _ in range(int(rng.integers(1, 4))):
        radius = int(rng.integers(max(size // 12, 2), max(size // 6, 3)))
        speed = rng.uniform(0.8, 2.0) * size / 32
        angle = rng.uniform(0, 2 * math.pi)
        shape = "circle" if rng.random() < 0.5 else "square"
        if kind is not None:
            _, shape, degrees = kind
            angle = math.radians(degrees) + (math.pi if rng.random() < 0.5 else 0.0)
        shapes.append(
            (
                shape,
                tuple(int(c) for c in rng.integers(90, 256, 3)),
                radius,
                tuple(rng.uniform(0, size - 2 * radius, 2)),
                (speed * math.cos(angle), speed * math.sin(angle)),
            )
        )
    return shapes


def make_demo_videos(folder, n=8, frames=48, size=64, fps=12, seed=0, ext=".mp4", classes=0):
    """Writes a small synthetic video set: coloured shapes bouncing over a gradient.

    This is keras_vidgan's embedded default data: real video files written with
    `cv2.VideoWriter`, so they go through the same loader as a user's footage.

    With `classes=N` the videos are of N visibly different kinds, one subfolder
    each (for `load_video_folder(labels="subfolders")`): the first N of
    `DEMO_CLASSES`, e.g. `circles-across/` (only circles, moving left and right)
    and `squares-updown/` (only squares, moving up and down).

    Args:
        folder: str or path-like. Output folder (created).
        n: int. Number of videos (all classes together). Defaults to 8.
        frames: int. Frames per video. Defaults to 48 (4 s at 12 fps).
        size: int. Width and height in pixels. Defaults to 64.
        fps: float. Frame rate. Defaults to 12.
        seed: int. Random seed; the same seed writes the same videos.
        ext: str. `.mp4` (mp4v), `.avi` (MJPG) or `.mkv` (FFV1, lossless).
        classes: int. 0 for one unlabelled set; 2 to `len(DEMO_CLASSES)` for that
            many kinds, `n` videos shared out among them (class i gets video i, i + N, ...).

    Returns:
        Sorted list of the written paths.

    Raises:
        ValueError: if `classes` is 1 or above `len(DEMO_CLASSES)`, or `n < classes`.
    """
    if classes and not 2 <= classes <= len(DEMO_CLASSES) or classes and n < classes:
        raise ValueError(
            f"Expected classes 0 or 2 to {len(DEMO_CLASSES)}, and at least one video per "
            f"class, received: classes={classes}, videos={n}"
        )
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i in range(n):
        kind = DEMO_CLASSES[i % classes] if classes else None
        shapes = _demo_shapes(rng, size, kind)
        canvas = _demo_background(rng, size)
        video = np.stack([_draw_demo_frame(canvas, shapes, t) for t in range(frames)])
        out = os.path.join(os.fspath(folder), kind[0]) if kind else os.fspath(folder)
        os.makedirs(out, exist_ok=True)
        paths.append(video_io.write_video(os.path.join(out, f"demo_{i:03d}{ext}"), video, fps))
    return sorted(paths)
