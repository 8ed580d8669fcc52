"""Reading and writing frames and videos: OpenCV, PyAV for H.264, Pillow for GIF.

Tensor convention: a video is `(frames, height, width, channels)` and a batch of
videos `(batch, frames, height, width, channels)`, float32 in [-1, 1] and RGB
inside keras_vidgan; uint8 [0, 255] RGB at the file boundary. OpenCV's BGR order
never leaves this module.
"""

import contextlib
import os
import warnings

import cv2
import numpy as np

from keras_vidgan import _files

__all__ = [
    "to_uint8",
    "to_unit_range",
    "read_frames",
    "open_video",
    "iter_frames",
    "to_rgb",
    "write_video",
    "write_gif",
    "save_grid",
    "grid",
    "write_any",
    "upscale",
    "encode_gif",
    "scale_to_width",
    "VIDEO_WRITERS",
]

# Container extension -> FourCC that OpenCV's FFMPEG backend writes here. `.mp4` is
# written as H.264 with PyAV instead (`_write_h264`): opencv-python's build cannot write
# H.264 (`avc1` fails to open), and browsers and notebooks do not play `mp4v`.
VIDEO_WRITERS = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "FFV1", ".mov": "mp4v"}

os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # FFmpeg's noise on stderr


def to_uint8(frames):
    """Maps float frames in [-1, 1] to uint8 [0, 255] (rounded, clipped).

    Args:
        frames: array-like of any shape, float in [-1, 1].

    Returns:
        `np.ndarray` of uint8, same shape.
    """
    frames = np.asarray(frames, dtype=np.float32)
    return np.clip(np.rint((frames + 1.0) * 127.5), 0, 255).astype(np.uint8)


def to_unit_range(frames):
    """Maps uint8 frames [0, 255] to float32 in [-1, 1].

    Args:
        frames: array-like of uint8, any shape.

    Returns:
        `np.ndarray` of float32, same shape.
    """
    return np.asarray(frames, dtype=np.float32) / 127.5 - 1.0


def _as_rgb(frame):
    """Converts an OpenCV frame (gray, BGR or BGRA) to RGB uint8."""
    if frame.ndim == 2 or frame.shape[-1] == 1:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
    if frame.shape[-1] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def _as_uint8(frame):
    """Scales 16-bit or float frames that some decoders return to uint8."""
    if frame.dtype == np.uint8:
        return frame
    if frame.dtype == np.uint16:
        return (frame >> 8).astype(np.uint8)
    return np.clip(frame * 255.0, 0, 255).astype(np.uint8)


def read_frames(path, max_frames=None, frame_step=1, rgb=True):
    """Yields the frames of a video file, one at a time.

    Frames are decoded one by one, so memory stays bounded whatever the length of
    the video. Skipped frames (`frame_step` > 1) are grabbed, not converted.

    Args:
        path: str or path-like. Video file.
        max_frames: int or None. Stop after this many yielded frames.
        frame_step: int. Yield every `frame_step`-th decoded frame. Defaults to 1.
        rgb: bool. Convert to RGB uint8 (grayscale and alpha too). False yields
            OpenCV's own frames (BGR, gray or BGRA), for callers that shrink frames
            first and convert the small result (see `to_rgb`).

    Yields:
        `np.ndarray` `(height, width, 3)` uint8 RGB (or OpenCV's frame).

    Raises:
        FileNotFoundError: if `path` does not exist.
        ValueError: if OpenCV cannot open `path` as a video.
    """
    with open_video(path) as capture:
        yield from iter_frames(capture, max_frames, frame_step, rgb)


@contextlib.contextmanager
def open_video(path, threads=None):
    """An opened `cv2.VideoCapture` of `path`, released on exit.

    Args:
        path: str or path-like. Video file.
        threads: int or None. FFmpeg decoding threads; None for FFmpeg's default
            (all cores). 1 is the most CPU-efficient when the caller decodes several
            files in parallel (measured on H.264: 1336 against 911 frames per CPU
            second).

    Raises:
        FileNotFoundError: if `path` does not exist.
        ValueError: if OpenCV cannot open `path` as a video.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"Expected a video file, received: path={path!r}")
    params = [cv2.CAP_PROP_N_THREADS, threads] if threads else []
    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG, params) if params else cv2.VideoCapture(path)
    try:
        if not capture.isOpened():
            raise ValueError(
                f"OpenCV cannot open {path!r} as a video (not a video, or corrupt)."
            )
        yield capture
    finally:
        capture.release()


def iter_frames(capture, max_frames=None, frame_step=1, rgb=True):
    """Frames of an opened capture; see `read_frames` for the arguments."""
    yielded = 0
    while max_frames is None or yielded < max_frames:
        ok, frame = capture.read()
        if not ok or frame is None:
            return
        yield to_rgb(frame) if rgb else frame
        yielded += 1
        if not all(capture.grab() for _ in range(frame_step - 1)):
            return


def to_rgb(frame):
    """An OpenCV frame (gray, BGR or BGRA; 8 or 16 bit) as RGB uint8."""
    return _as_rgb(_as_uint8(frame))


def _atomic_target(path):
    """A temporary path beside `path` with the same extension (`_files.publish` it)."""
    return _files.temp_path(path)


def _video_uint8(frames):
    frames = np.asarray(frames)
    if frames.dtype != np.uint8:
        frames = to_uint8(frames)
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3):
        raise ValueError(
            "Expected frames of shape (frames, height, width, 1 or 3), "
            f"received: shape={frames.shape}"
        )
    if len(frames) == 0:
        raise ValueError("Expected at least one frame, received: 0 frames")
    if frames.shape[-1] == 1:
        frames = np.repeat(frames, 3, axis=-1)
    return frames


def write_video(path, frames, fps=8.0):
    """Writes frames to a video file; the codec follows the extension.

    `.mp4`: H.264 (yuv420p, `faststart`), which browsers, GitHub and notebooks play,
    written with PyAV's libx264; where PyAV is missing, MPEG-4 Part 2 (`mp4v`) with
    OpenCV and a warning. `.mov`: `mp4v`, `.avi`: Motion JPEG, `.mkv`: FFV1
    (lossless). The file appears only when complete (written beside, then renamed).

    Args:
        path: str or path-like. Output file, with one of the extensions above.
        frames: array `(frames, height, width, 3)`, float in [-1, 1] or uint8 RGB.
        fps: float. Frames per second. Defaults to 8.

    Returns:
        The path written, as a str.

    Raises:
        ValueError: for an unknown extension, a bad shape, or a codec OpenCV
            cannot open here.
    """
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext not in VIDEO_WRITERS:
        raise ValueError(
            f"Expected a video extension in {sorted(VIDEO_WRITERS)} (or .gif), "
            f"received: {path!r}"
        )
    frames = _video_uint8(frames)
    if ext == ".mp4" and _h264_available():
        return _write_h264(path, frames, fps)
    if ext == ".mp4":
        warnings.warn(
            "PyAV (`pip install av`) is not installed: writing MPEG-4 Part 2 (mp4v), "
            "which browsers do not play. Install PyAV for H.264.", stacklevel=2,
        )
    height, width = frames.shape[1:3]
    tmp = _atomic_target(path)
    writer = cv2.VideoWriter(
        tmp, cv2.VideoWriter_fourcc(*VIDEO_WRITERS[ext]), float(fps), (width, height)
    )
    try:
        if not writer.isOpened():
            raise ValueError(
                f"OpenCV cannot write {VIDEO_WRITERS[ext]!r} into {ext} here; "
                "use .mp4, .avi or .mkv."
            )
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        writer.release()
        _files.publish(tmp, path)  # with the umask's mode, not mkstemp's 0600
    finally:
        writer.release()
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def _h264_available():
    """True if PyAV is installed and its FFmpeg has the libx264 encoder."""
    try:
        import av
    except ImportError:
        return False
    return "libx264" in av.codecs_available


def _write_h264(path, frames, fps):
    """H.264 yuv420p MP4 with PyAV; odd sizes are padded by one edge row/column."""
    import fractions

    import av

    pad_h, pad_w = frames.shape[1] % 2, frames.shape[2] % 2  # yuv420p needs even sizes
    if pad_h or pad_w:
        frames = np.pad(frames, [(0, 0), (0, pad_h), (0, pad_w), (0, 0)], mode="edge")
    tmp = _atomic_target(path)
    try:
        with av.open(tmp, mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
            stream = out.add_stream("libx264", rate=fractions.Fraction(fps).limit_denominator(1001))
            stream.height, stream.width = frames.shape[1:3]
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "17", "preset": "medium"}
            for frame in frames:
                out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
            out.mux(stream.encode())  # flush the encoder's delayed frames
        _files.publish(tmp, path)  # with the umask's mode, not mkstemp's 0600
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def upscale(frames, scale):
    """Nearest-neighbour upscale of `(..., height, width, channels)` by an integer.

    Args:
        frames: array, any leading dimensions.
        scale: int >= 1.

    Returns:
        `np.ndarray`, height and width multiplied by `scale` (pixels kept sharp).
    """
    if int(scale) != scale or scale < 1:
        raise ValueError(f"Expected an integer scale >= 1, received: scale={scale}")
    frames = np.asarray(frames)
    if scale == 1:
        return frames
    return np.repeat(np.repeat(frames, int(scale), axis=-3), int(scale), axis=-2)


def scale_to_width(width, min_width=256):
    """The smallest integer scale that makes `width` at least `min_width` pixels."""
    return max(1, -(-int(min_width) // int(width)))


def encode_gif(frames, fps=8.0):
    """Frames as the bytes of an animated GIF that loops (with Pillow).

    Args:
        frames: array `(frames, height, width, 3)`, float in [-1, 1] or uint8 RGB.
        fps: float. Frames per second. Defaults to 8.

    Returns:
        bytes.
    """
    import io

    from PIL import Image

    images = [Image.fromarray(frame) for frame in _video_uint8(frames)]
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=max(int(round(1000.0 / fps)), 20),
        loop=0,
    )
    return buffer.getvalue()


def write_gif(path, frames, fps=8.0):
    """Writes frames as an animated GIF that loops (`encode_gif`).

    Args:
        path: str or path-like. Output `.gif` file.
        frames: array `(frames, height, width, 3)`, float in [-1, 1] or uint8 RGB.
        fps: float. Frames per second. Defaults to 8.

    Returns:
        The path written, as a str.
    """
    path = os.fspath(path)
    encoded = encode_gif(frames, fps)
    tmp = _atomic_target(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(encoded)
        _files.publish(tmp, path)  # with the umask's mode, not mkstemp's 0600
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def grid(frames, columns=None):
    """Tiles `(n, height, width, 3)` frames into one uint8 image, row by row."""
    frames = _video_uint8(frames)
    n, height, width, channels = frames.shape
    columns = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / columns))
    canvas = np.zeros((rows * height, columns * width, channels), np.uint8)
    for i, frame in enumerate(frames):
        r, c = divmod(i, columns)
        canvas[r * height:(r + 1) * height, c * width:(c + 1) * width] = frame
    return canvas


def save_grid(path, frames, columns=None):
    """Saves frames as one PNG grid image.

    Args:
        path: str or path-like. Output `.png` file.
        frames: array `(n, height, width, 3)`, float in [-1, 1] or uint8 RGB.
        columns: int or None. Grid width; square-ish by default.

    Returns:
        The path written, as a str.
    """
    path = os.fspath(path)
    tmp = _atomic_target(path)
    try:
        if not cv2.imwrite(tmp, cv2.cvtColor(grid(frames, columns), cv2.COLOR_RGB2BGR)):
            raise ValueError(f"OpenCV could not write an image to {path!r}")
        _files.publish(tmp, path)  # with the umask's mode, not mkstemp's 0600
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def write_any(path, frames, fps=8.0):
    """Writes a video by extension: `.gif`, `.png` (a grid) or a video container."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext == ".gif":
        return write_gif(path, frames, fps)
    if ext == ".png":
        return save_grid(path, frames)
    return write_video(path, frames, fps)
