"""Sample-quality metrics for generated videos: FD, KID, frame FD and FVD.

- `frechet_distance`, `frechet_distance_from_features`: the Fréchet distance
  between two Gaussians fitted to feature sets (the distance behind FID and FVD).
- `kernel_inception_distance`: the unbiased polynomial-kernel MMD^2 of Binkowski
  et al. (2018), averaged over random subsets.
- `frame_features`, `frame_frechet_distance`: a cheap, offline, weight-free
  per-frame feature extractor and the Fréchet distance on it. A proxy for
  comparing runs of this package with each other, not FID.
- `i3d_features`, `fvd`: the Fréchet Video Distance of Unterthiner et al. (2018)
  with the Kinetics-400 I3D of `keras_vidgan.i3d`, following the protocol of
  google-research's `frechet_video_distance`.
- `feature_stats`, `save_stats`, `load_stats`: cache the statistics of a real
  data set once (`.npz`) and compare generated samples against them.

Videos follow the package's tensor convention, `(batch, frames, height, width,
channels)` float32 in [-1, 1]; uint8 arrays in [0, 255] are accepted too (the
dtype decides). Features are `(num_samples, dim)` arrays; all statistics are
computed in float64 with NumPy.

Caveats that hold for every number here: Fréchet distances and KID depend on the
sample size (FD is biased upwards for small sets, and more so the larger the
feature dimension), on the number of frames and on the resolution, so compare
only numbers computed with the same settings and the same number of samples.
"""

import collections
import functools
import os

import cv2
import numpy as np
import tensorflow as tf

from keras_vidgan import _files
from keras_vidgan import i3d as i3d_lib

__all__ = [
    "FeatureStats",
    "feature_stats",
    "frechet_distance",
    "frechet_distance_from_features",
    "kernel_inception_distance",
    "frame_features",
    "frame_frechet_distance",
    "i3d_features",
    "fvd",
    "save_stats",
    "load_stats",
]

FeatureStats = collections.namedtuple("FeatureStats", ["mu", "sigma", "num_samples", "features"])
FeatureStats.__doc__ = """Gaussian statistics of a feature set, as `load_stats` returns them.

Attributes:
    mu: (dim,) float64 mean.
    sigma: (dim, dim) float64 unbiased covariance (ddof=1).
    num_samples: int. Number of feature vectors the statistics come from.
    features: (num_samples, dim) float64 array, or None if not saved.
"""

# Frame features: working size, thumbnail size, histogram bins.
_WORK_SIZE = 64
_THUMB_SIZE = 8
_COLOUR_BINS = 8
_ORIENTATION_BINS = 8
_EDGE_THRESHOLD = 0.1
_FRAME_CHUNK = 512


# --------------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------------


def _features_2d(feats, name):
    feats = np.asarray(feats, dtype=np.float64)
    if feats.ndim != 2:
        raise ValueError(
            f"Expected `{name}` to be 2-D (num_samples, dim), received: shape={feats.shape}"
        )
    if feats.shape[0] < 2:
        raise ValueError(
            f"Expected at least 2 samples in `{name}`, received: {feats.shape[0]}"
        )
    if not np.all(np.isfinite(feats)):
        raise ValueError(f"Expected finite values in `{name}`, received: NaN or inf")
    return feats


def _same_dim(feats_a, feats_b):
    if feats_a.shape[1] != feats_b.shape[1]:
        raise ValueError(
            "Expected feature sets of the same dimension, received: "
            f"{feats_a.shape[1]} and {feats_b.shape[1]}"
        )


def _video_array(videos, name):
    """Videos as a NumPy array, checked for rank 5, 1 or 3 channels and range."""
    videos = np.asarray(videos)
    if videos.ndim != 5 or videos.shape[-1] not in (1, 3):
        raise ValueError(
            f"Expected `{name}` of shape (batch, frames, height, width, 1 or 3), "
            f"received: shape={videos.shape}"
        )
    _check_range(videos, name)
    return videos


def _check_range(array, name):
    if array.dtype == np.uint8:
        return
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(
            f"Expected `{name}` as float in [-1, 1] or uint8 in [0, 255], "
            f"received: dtype={array.dtype}"
        )
    low, high = float(np.min(array)), float(np.max(array))
    if low < -1.001 or high > 1.001:
        raise ValueError(
            f"Expected float `{name}` in [-1, 1] (pass uint8 for [0, 255]), "
            f"received: min={low:.4g}, max={high:.4g}"
        )


def _to_unit_interval(frames):
    """uint8 [0, 255] or float [-1, 1] -> float32 [0, 1]."""
    if frames.dtype == np.uint8:
        return frames.astype(np.float32) / 255.0
    return np.clip((frames.astype(np.float32) + 1.0) * 0.5, 0.0, 1.0)


# --------------------------------------------------------------------------------
# Fréchet distance
# --------------------------------------------------------------------------------


def feature_stats(feats):
    """Mean and unbiased covariance of a feature set, in float64.

    Args:
        feats: (num_samples, dim) array, num_samples >= 2.

    Returns:
        (mu, sigma): (dim,) mean and (dim, dim) covariance with ddof=1,
        sigma = (X - mu)^T (X - mu) / (n - 1).

    Raises:
        ValueError: if `feats` is not 2-D, has fewer than 2 rows or non-finite values.
    """
    feats = _features_2d(feats, "feats")
    mu = feats.mean(axis=0)
    centred = feats - mu
    sigma = centred.T @ centred / (feats.shape[0] - 1)
    return mu, sigma


def _sqrtm_psd(matrix):
    """Square root of a symmetric PSD matrix by eigh (negative eigenvalues -> 0)."""
    eigenvalues, eigenvectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def _trace_sqrt_product(sigma1, sigma2):
    """Tr((S1 S2)^{1/2}) = Tr((S1^{1/2} S2 S1^{1/2})^{1/2}), the latter symmetric PSD."""
    sqrt_sigma1 = _sqrtm_psd(sigma1)
    inner = sqrt_sigma1 @ sigma2 @ sqrt_sigma1
    eigenvalues = np.linalg.eigvalsh((inner + inner.T) / 2.0)
    return float(np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None))))


def _check_gaussian(mu, sigma, index):
    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    if mu.ndim != 1:
        raise ValueError(f"Expected `mu{index}` to be 1-D, received: shape={mu.shape}")
    if sigma.shape != (mu.shape[0], mu.shape[0]):
        raise ValueError(
            f"Expected `sigma{index}` of shape {(mu.shape[0], mu.shape[0])}, "
            f"received: shape={sigma.shape}"
        )
    return mu, sigma


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Fréchet (2-Wasserstein) distance between two Gaussians, in float64.

        d = |mu1 - mu2|^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^{1/2})

    As in TF-GAN, Tr((sigma1 sigma2)^{1/2}) is computed stably as the trace of the
    square root of the symmetric PSD matrix sigma1^{1/2} sigma2 sigma1^{1/2}:
    sigma1^{1/2} by a symmetric eigendecomposition, then the square roots of the
    eigenvalues of that product (round-off negatives clipped to 0) summed.

    This is the squared distance (FID and FVD report it without a square root).
    The result is clipped at 0, which it can only undershoot by round-off.

    Args:
        mu1: (dim,) mean of the first Gaussian.
        sigma1: (dim, dim) covariance of the first Gaussian (symmetric PSD).
        mu2: (dim,) mean of the second Gaussian.
        sigma2: (dim, dim) covariance of the second Gaussian (symmetric PSD).

    Returns:
        float. The Fréchet distance, >= 0.

    Raises:
        ValueError: if the shapes are inconsistent.
    """
    mu1, sigma1 = _check_gaussian(mu1, sigma1, 1)
    mu2, sigma2 = _check_gaussian(mu2, sigma2, 2)
    if mu1.shape != mu2.shape:
        raise ValueError(
            f"Expected means of the same dimension, received: {mu1.shape[0]} and {mu2.shape[0]}"
        )
    diff = mu1 - mu2
    trace = np.trace(sigma1) + np.trace(sigma2) - 2.0 * _trace_sqrt_product(sigma1, sigma2)
    return max(float(diff @ diff + trace), 0.0)


def frechet_distance_from_features(feats_a, feats_b):
    """Fréchet distance between Gaussians fitted to two feature sets.

    Fits mean and unbiased covariance (ddof=1) to each set (see `feature_stats`)
    and applies `frechet_distance`. The estimate is biased upwards for finite
    samples (identical distributions give a positive value that shrinks as the
    sample size grows), and with fewer samples than dimensions the covariances
    are singular: compare only values computed with the same sample sizes.

    Args:
        feats_a: (n_a, dim) array, n_a >= 2.
        feats_b: (n_b, dim) array, n_b >= 2, same dim.

    Returns:
        float. The Fréchet distance, >= 0.

    Raises:
        ValueError: if a set is not 2-D, has fewer than 2 samples, or the
            dimensions differ.
    """
    feats_a = _features_2d(feats_a, "feats_a")
    feats_b = _features_2d(feats_b, "feats_b")
    _same_dim(feats_a, feats_b)
    return frechet_distance(*feature_stats(feats_a), *feature_stats(feats_b))


# --------------------------------------------------------------------------------
# Kernel inception distance
# --------------------------------------------------------------------------------


def _polynomial_kernel(x, y):
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _unbiased_mmd2(x, y):
    """Unbiased MMD^2 of two equal-size sets (diagonals of K_xx, K_yy excluded)."""
    m = x.shape[0]
    k_xx = _polynomial_kernel(x, x)
    k_yy = _polynomial_kernel(y, y)
    k_xy = _polynomial_kernel(x, y)
    same = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return same - 2.0 * k_xy.sum() / (m * m)


def kernel_inception_distance(feats_a, feats_b, num_subsets=100, subset_size=1000, seed=0):
    """Kernel Inception Distance (KID): unbiased MMD^2, polynomial kernel.

        k(x, y) = (x . y / dim + 1)^3
        MMD^2 = sum_{i != j} k(a_i, a_j) / (m (m - 1))
              + sum_{i != j} k(b_i, b_j) / (m (m - 1))
              - 2 sum_{i, j} k(a_i, b_j) / m^2

    as in Binkowski et al. (2018), "Demystifying MMD GANs": the estimate is
    computed on `num_subsets` random subsets of `subset_size` samples drawn
    without replacement from each set, and the mean and standard deviation over
    subsets are returned. The estimator is unbiased, so it can be slightly
    negative when both sets come from the same distribution. It works with any
    features (e.g. `i3d_features` for a "KVD", or `frame_features`).

    Args:
        feats_a: (n_a, dim) array, n_a >= 2.
        feats_b: (n_b, dim) array, n_b >= 2, same dim.
        num_subsets: int >= 1. Number of random subsets.
        subset_size: int >= 2. Samples per subset and set; reduced to
            min(n_a, n_b) if larger.
        seed: int. Seed of the subset sampling; equal seeds give equal results.

    Returns:
        (mean, std): floats, the mean and standard deviation of MMD^2 over subsets.

    Raises:
        ValueError: on invalid feature sets or parameters.
    """
    feats_a = _features_2d(feats_a, "feats_a")
    feats_b = _features_2d(feats_b, "feats_b")
    _same_dim(feats_a, feats_b)
    if num_subsets < 1 or subset_size < 2:
        raise ValueError(
            "Expected num_subsets >= 1 and subset_size >= 2, received: "
            f"num_subsets={num_subsets}, subset_size={subset_size}"
        )
    size = min(subset_size, feats_a.shape[0], feats_b.shape[0])
    rng = np.random.default_rng(seed)
    estimates = np.empty(num_subsets)
    for i in range(num_subsets):
        a = feats_a[rng.choice(feats_a.shape[0], size, replace=False)]
        b = feats_b[rng.choice(feats_b.shape[0], size, replace=False)]
        estimates[i] = _unbiased_mmd2(a, b)
    return float(estimates.mean()), float(estimates.std())


# --------------------------------------------------------------------------------
# Frame features (offline proxy)
# --------------------------------------------------------------------------------


def _resize_to_work_size(frame):
    height, width = frame.shape[:2]
    shrinking = height >= _WORK_SIZE and width >= _WORK_SIZE
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    resized = cv2.resize(frame, (_WORK_SIZE, _WORK_SIZE), interpolation=interpolation)
    return resized.reshape(_WORK_SIZE, _WORK_SIZE, -1)


def _thumbnails(frames):
    """(n, 64, 64, 3) -> (n, 8*8*3) block means (exact area downsampling)."""
    n, block = frames.shape[0], _WORK_SIZE // _THUMB_SIZE
    blocks = frames.reshape(n, _THUMB_SIZE, block, _THUMB_SIZE, block, 3)
    return blocks.mean(axis=(2, 4)).reshape(n, -1)


def _histograms(bin_index, weights, num_bins):
    """Per-row histograms: (n, k) bin indices and weights -> (n, num_bins) sums."""
    n = bin_index.shape[0]
    flat = (np.arange(n)[:, None] * num_bins + bin_index).ravel()
    counts = np.bincount(flat, weights=weights.ravel(), minlength=n * num_bins)
    return counts.reshape(n, num_bins)


def _colour_histograms(frames):
    """(n, 64, 64, 3) -> (n, 3 * 8): per-channel histograms of [0, 1] values, as fractions."""
    n = frames.shape[0]
    bins = np.minimum((frames * _COLOUR_BINS).astype(np.int64), _COLOUR_BINS - 1)
    bins = bins.reshape(n, -1, 3).transpose(0, 2, 1).reshape(n * 3, -1)
    hist = _histograms(bins, np.ones(bins.shape), _COLOUR_BINS) / bins.shape[1]
    return hist.reshape(n, 3 * _COLOUR_BINS)


def _gradient_stats(frames):
    """(n, 64, 64, 3) -> (n, 8 + 3): magnitude-weighted orientation histogram,
    mean and std of the gradient magnitude, fraction of edge pixels (luma)."""
    n = frames.shape[0]
    luma = frames @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    gx = (luma[:, 1:-1, 2:] - luma[:, 1:-1, :-2]) * 0.5
    gy = (luma[:, 2:, 1:-1] - luma[:, :-2, 1:-1]) * 0.5
    magnitude = np.sqrt(gx * gx + gy * gy).reshape(n, -1)
    orientation = np.mod(np.arctan2(gy, gx), np.pi).reshape(n, -1)  # unsigned, [0, pi)
    bins = np.minimum((orientation / np.pi * _ORIENTATION_BINS).astype(np.int64),
                      _ORIENTATION_BINS - 1)
    orientation_hist = _histograms(bins, magnitude, _ORIENTATION_BINS) / magnitude.shape[1]
    edges = (magnitude > _EDGE_THRESHOLD).mean(axis=1)
    return np.concatenate(
        [orientation_hist, magnitude.mean(axis=1)[:, None],
         magnitude.std(axis=1)[:, None], edges[:, None]],
        axis=1,
    )


def _channel_moments(frames):
    flat = frames.reshape(frames.shape[0], -1, 3)
    return np.concatenate([flat.mean(axis=1), flat.std(axis=1)], axis=1)


def _frame_chunk_features(frames):
    """Features of (n, H, W, C) frames already in [0, 1] float32."""
    work = np.stack([_resize_to_work_size(frame) for frame in frames])
    if work.shape[-1] == 1:
        work = np.repeat(work, 3, axis=-1)
    return np.concatenate(
        [_thumbnails(work), _colour_histograms(work), _gradient_stats(work),
         _channel_moments(work)],
        axis=1,
    ).astype(np.float64)


def frame_features(frames):
    """Cheap, deterministic, weight-free per-frame features (a proxy, not FID).

    Every frame is resized to 64x64 (area interpolation when shrinking, bilinear
    when enlarging; grayscale replicated to RGB), values in [0, 1], and described
    by a 233-dim vector: an 8x8 RGB thumbnail (192), per-channel 8-bin colour
    histograms (24), a gradient-magnitude-weighted 8-bin orientation histogram
    of the luma plus the mean and std of the gradient magnitude and the fraction
    of edge pixels (11), and per-channel mean and std (6).

    These features see layout, colour and sharpness but no semantics; a Fréchet
    distance on them (`frame_frechet_distance`) is useful to compare checkpoints
    and runs of this package with each other, offline. It is not FID and its
    values are not comparable with any published number.

    Args:
        frames: (n, height, width, channels) frames or (batch, frames, height,
            width, channels) videos (flattened to frames), channels 1 or 3;
            float in [-1, 1] or uint8 in [0, 255].

    Returns:
        (n, 233) float64 array (n = batch * frames for videos).

    Raises:
        ValueError: on a wrong rank, channel count, dtype or range.
    """
    frames = np.asarray(frames)
    if frames.ndim == 5:
        frames = frames.reshape((-1,) + frames.shape[2:])
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3) or frames.shape[0] == 0:
        raise ValueError(
            "Expected frames (n, height, width, 1 or 3) or videos (batch, frames, "
            f"height, width, 1 or 3), received: shape={frames.shape}"
        )
    _check_range(frames, "frames")
    chunks = [
        _frame_chunk_features(_to_unit_interval(frames[start:start + _FRAME_CHUNK]))
        for start in range(0, frames.shape[0], _FRAME_CHUNK)
    ]
    return np.concatenate(chunks, axis=0)


def frame_frechet_distance(videos_a, videos_b):
    """Fréchet distance between the `frame_features` of all frames of two video sets.

    A cheap offline proxy (see `frame_features`): it compares the distribution
    of single frames, not motion. Biased for small sets like every Fréchet
    distance, and more so because the features have 233 dimensions: use well over
    233 frames per set and the same numbers of frames when comparing values.

    Args:
        videos_a: (batch, frames, height, width, channels), float in [-1, 1] or uint8.
        videos_b: same layout; the sizes may differ.

    Returns:
        float. The Fréchet distance, >= 0.

    Raises:
        ValueError: on invalid videos.
    """
    feats_a = frame_features(_video_array(videos_a, "videos_a"))
    feats_b = frame_features(_video_array(videos_b, "videos_b"))
    return frechet_distance_from_features(feats_a, feats_b)


# --------------------------------------------------------------------------------
# FVD
# --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _default_i3d(weights_path):
    return i3d_lib.build_i3d(weights=weights_path)


def _preprocess_for_i3d(videos):
    """FVD protocol input: every frame bilinearly resized to 224x224, RGB in [-1, 1]."""
    # Follows google-research/frechet_video_distance `preprocess`: values in
    # [0, 255], TF1 `resize_bilinear` (align_corners=False, no half-pixel
    # centres), then 2 * x / 255 - 1.
    batch, num_frames, height, width, channels = videos.shape
    frames = _to_unit_interval(videos).reshape(-1, height, width, channels) * 255.0
    if channels == 1:
        frames = np.repeat(frames, 3, axis=-1)
    size = (i3d_lib.INPUT_SIZE, i3d_lib.INPUT_SIZE)
    if (height, width) != size:
        frames = tf.raw_ops.ResizeBilinear(
            images=frames, size=size, align_corners=False, half_pixel_centers=False
        )
    frames = 2.0 * tf.convert_to_tensor(frames, tf.float32) / 255.0 - 1.0
    return tf.reshape(frames, (batch, num_frames) + size + (3,))


def i3d_features(videos, model=None, batch_size=16):
    """I3D Kinetics-400 logits of videos, the features of FVD.

    Each video is preprocessed as in the FVD protocol (frames bilinearly resized
    to 224x224, values scaled to [-1, 1]) and run through I3D in inference mode;
    the 400 logits (averaged over time by the network) are the features. Run it
    once on the real data and keep the result with `save_stats`.

    Args:
        videos: (batch, frames, height, width, channels), channels 1 or 3, float
            in [-1, 1] or uint8 in [0, 255], frames >= 9 (I3D's minimum).
        model: a model from `keras_vidgan.i3d.build_i3d`; None loads the cached
            pretrained weights (`keras_vidgan.i3d.i3d_weights_path()`), once.
        batch_size: int >= 1. Videos per forward pass; memory grows with it
            (about 1.7 GB peak for 16 clips of 15 frames on CPU).

    Returns:
        (batch, 400) float64 array.

    Raises:
        ValueError: on invalid videos or batch size.
        FileNotFoundError: if `model` is None and the weights were never fetched.
    """
    videos = _video_array(videos, "videos")
    if videos.shape[1] < i3d_lib.MIN_FRAMES:
        raise ValueError(
            f"Expected at least {i3d_lib.MIN_FRAMES} frames per video for I3D, "
            f"received: {videos.shape[1]}"
        )
    if batch_size < 1:
        raise ValueError(f"Expected batch_size >= 1, received: {batch_size}")
    if model is None:
        model = _default_i3d(i3d_lib.i3d_weights_path())
    # predict_on_batch runs a compiled graph: about 4x less peak memory than an
    # eager call (intermediate activations are freed as soon as they are used).
    logits = [
        np.asarray(model.predict_on_batch(_preprocess_for_i3d(videos[start:start + batch_size])))
        for start in range(0, videos.shape[0], batch_size)
    ]
    return np.concatenate(logits, axis=0).astype(np.float64)


def fvd(videos_a, videos_b, i3d_model=None, batch_size=16):
    """Fréchet Video Distance (Unterthiner et al. 2018).

        FVD = |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2})

    over the I3D Kinetics-400 logits of the two sets (see `i3d_features`), as in
    google-research's `frechet_video_distance` (whose example, 16 black vs 16
    white 15-frame 64x64 clips, gives about 131; this port gives about 134).

    Caveats: FVD is biased by the sample size (published numbers typically use
    256 or 2048 videos of 16 frames) and depends on frames per clip and on the
    source resolution; compare only numbers computed with the same settings. For
    repeated evaluation against the same real set, compute its features once
    with `i3d_features` and use `frechet_distance_from_features`.

    Args:
        videos_a: (batch, frames, height, width, channels), float in [-1, 1] or
            uint8 in [0, 255], batch >= 2, frames >= 9.
        videos_b: same layout; the number of videos may differ.
        i3d_model: see `i3d_features`.
        batch_size: see `i3d_features`.

    Returns:
        float. The FVD, >= 0.

    Raises:
        ValueError: on invalid videos.
        FileNotFoundError: if `i3d_model` is None and the weights were never fetched.
    """
    feats_a = i3d_features(videos_a, i3d_model, batch_size)
    feats_b = i3d_features(videos_b, i3d_model, batch_size)
    return frechet_distance_from_features(feats_a, feats_b)


# --------------------------------------------------------------------------------
# Cached statistics
# --------------------------------------------------------------------------------


def save_stats(path, feats, keep_features=True):
    """Saves the Gaussian statistics of a feature set to an `.npz`, atomically.

    Args:
        path: file to write (used as given; no `.npz` is appended). Written to a
            temporary file in the same folder, then moved with `os.replace`.
        feats: (num_samples, dim) array, num_samples >= 2.
        keep_features: bool. Also store the features themselves (needed for KID).

    Returns:
        str. `path`.

    Raises:
        ValueError: on an invalid feature set.
    """
    feats = _features_2d(feats, "feats")
    mu, sigma = feature_stats(feats)
    arrays = {"mu": mu, "sigma": sigma, "num_samples": np.array(feats.shape[0])}
    if keep_features:
        arrays["features"] = feats
    return _files.atomic_savez(path, arrays)


def load_stats(path):
    """Loads statistics written by `save_stats`.

    Args:
        path: the `.npz` file.

    Returns:
        FeatureStats(mu, sigma, num_samples, features); `features` is None if
        they were not saved.

    Raises:
        ValueError: if the file lacks `mu`, `sigma` or `num_samples`.
    """
    with np.load(os.fspath(path), allow_pickle=False) as npz:
        missing = {"mu", "sigma", "num_samples"} - set(npz.files)
        if missing:
            raise ValueError(
                f"Expected mu, sigma and num_samples in {path}, received: {sorted(npz.files)}"
            )
        return FeatureStats(
            mu=npz["mu"],
            sigma=npz["sigma"],
            num_samples=int(npz["num_samples"]),
            features=npz["features"] if "features" in npz.files else None,
        )
