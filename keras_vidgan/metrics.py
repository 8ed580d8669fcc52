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
- Realism (`realism_report`, printed by `format_realism`): the classifier
  two-sample test of Lopez-Paz & Oquab (2017) on clips (`classifier_two_sample_test`)
  with its calibration on the real clips (`c2st_calibration`), the ratio of
  frame-to-frame change (`motion_ratio`) and the growth of the frame Fréchet
  distance along a rollout (`frame_drift`).

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
import math
import os
import time

import cv2
import keras
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
    "DRIFT_STEPS",
    "classifier_two_sample_test",
    "c2st_calibration",
    "mean_motion",
    "motion_ratio",
    "frame_drift",
    "realism_report",
    "format_realism",
    "class_accuracy",
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


# --------------------------------------------------------------------------------
# Realism: classifier two-sample test, motion, drift
# --------------------------------------------------------------------------------

DRIFT_STEPS = (1, 4, 8, 15)
_C2ST_SIZE = 32  # larger frames are area-downsampled to this
_C2ST_MAX_FRAMES = 16
_C2ST_STEPS = 100  # training steps per fold
_C2ST_BATCH = 32
_C2ST_LEARNING_RATE = 3e-3
_C2ST_LABELS = {
    "real_vs_real": "real vs real (disjoint videos)",
    "real_shuffled": "real shuffled in time",
    "real_still": "real frame 0 held",
}


def _unit_clips(videos, size=None, max_frames=None):
    """Videos -> float32 (n, T', s, s, 3) in [0, 1]: the first `max_frames` frames,
    resized to `size` (area interpolation when shrinking), grayscale as RGB."""
    unit = _to_unit_interval(videos[:, :max_frames])
    n, num_frames, height, width, channels = unit.shape
    if size is not None and (height, width) != (size, size):
        interpolation = cv2.INTER_AREA if min(height, width) >= size else cv2.INTER_LINEAR
        frames = [
            cv2.resize(frame, (size, size), interpolation=interpolation)
            for frame in unit.reshape(-1, height, width, channels)
        ]
        unit = np.stack(frames).reshape(n, num_frames, size, size, channels)
    if channels == 1:
        unit = np.repeat(unit, 3, axis=-1)
    return unit


def _common_size(*videos, limit=None):
    size = min(min(v.shape[2], v.shape[3]) for v in videos)
    return size if limit is None else min(size, limit)


def _c2st_inputs(clips):
    """(n, T, H, W, 3) in [0, 1] -> (n, T, H, W, 6): every frame and its change from
    the frame before (zero for frame 0)."""
    changes = np.concatenate([np.zeros_like(clips[:, :1]), np.diff(clips, axis=1)], axis=1)
    return np.concatenate([clips, changes], axis=-1)


def _c2st_classifier(input_shape, seed, outputs=1):
    """A small seeded CNN on clips: three stride-2 convolutions shared by every frame
    (with its change), spatial pooling, a convolution over time, pooling, one logit.

    Time-distributed 2D convolutions rather than Conv3D: Conv3D's gradients are
    about 50x slower on CPU; weights shared over time also need fewer clips.
    """
    layers = keras.layers

    def conv(filters, index):
        return layers.TimeDistributed(layers.Conv2D(
            filters, 3, strides=2, padding="same",
            kernel_initializer=keras.initializers.HeNormal(seed=seed + index),
        ), name=f"conv{index}")

    return keras.Sequential(
        [
            keras.Input(input_shape, name="clips"),
            conv(8, 0), layers.LeakyReLU(0.2),
            conv(16, 1), layers.LeakyReLU(0.2),
            conv(32, 2), layers.LeakyReLU(0.2),
            layers.TimeDistributed(layers.GlobalAveragePooling2D(), name="frame_pool"),
            layers.Conv1D(32, 3, padding="same", name="time_conv",
                          kernel_initializer=keras.initializers.HeNormal(seed=seed + 3)),
            layers.LeakyReLU(0.2),
            layers.GlobalAveragePooling1D(),
            layers.Dense(outputs, name="logit",
                         kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 4)),
        ],
        name="c2st_classifier",
    )


class _FoldClassifier:
    """One classifier and its Adam, traced once, reset to the same start for every fold.

    `fit` runs all the training steps of a fold in one graph call (a loop over the
    given batches), so small sets do not pay Python's cost per step.
    """

    def __init__(self, input_shape, seed, learning_rate):
        self.model = _c2st_classifier(input_shape, seed)
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.optimizer.build(self.model.trainable_variables)
        self._variables = list(self.model.variables) + list(self.optimizer.variables)
        self._start = [v.numpy() for v in self._variables]
        clips = tf.TensorSpec((None,) + tuple(input_shape), tf.float32)
        self.fit = tf.function(self._fit, input_signature=[
            clips, tf.TensorSpec((None,), tf.float32), tf.TensorSpec((None, None), tf.int32)
        ])
        self.logits = tf.function(
            lambda x: self.model(x, training=False)[:, 0], input_signature=[clips]
        )

    def reset(self):
        for variable, value in zip(self._variables, self._start):
            variable.assign(value)

    def _fit(self, x, y, batches):
        for step in tf.range(tf.shape(batches)[0]):
            self._train_step(tf.gather(x, batches[step]), tf.gather(y, batches[step]))
        return tf.constant(0)

    def _train_step(self, x, y):
        with tf.GradientTape() as tape:
            logits = self.model(x, training=True)[:, 0]
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits))
        grads = tape.gradient(loss, self.model.trainable_variables)
        self.optimizer.apply(grads, self.model.trainable_variables)
        return loss


@functools.lru_cache(maxsize=8)
def _fold_classifier(input_shape, seed, learning_rate, policy):
    """A `_FoldClassifier`, kept: every C2ST of one input shape and seed (the rows and
    calibration sets of a report) reuses its traced graphs. It is reset to the same
    seeded start before every fold, so a kept one gives what a new one would."""
    del policy  # part of the key only: the layers' dtype policy at build time
    return _FoldClassifier(input_shape, seed, learning_rate)


def _fold_labels(n, folds, rng):
    """A fold index per sample: as even as possible, in seeded random order."""
    return (np.arange(n) % folds)[rng.permutation(n)]


def _fold_accuracy(classifier, x, y, test, steps, batch_size, rng):
    """Trains `steps` steps on the samples outside `test` (a boolean mask, batches
    drawn epoch by epoch in seeded random order), returns the accuracy on `test`."""
    classifier.reset()
    x_train, y_train = x[~test], y[~test]
    axes = tuple(range(x.ndim - 1))  # per input channel, from the training folds only
    mean = x_train.mean(axis=axes)
    std = x_train.std(axis=axes) + 1e-3
    x_train = (x_train - mean) / std
    batch_size = min(batch_size, len(x_train))
    epochs = -(-steps * batch_size // len(x_train))
    order = np.concatenate([rng.permutation(len(x_train)) for _ in range(epochs)])
    batches = order[:steps * batch_size].reshape(steps, batch_size).astype(np.int32)
    classifier.fit(x_train, y_train, batches)
    logits = classifier.logits((x[test] - mean) / std).numpy()
    return float(np.mean((logits > 0.0) == (y[test] > 0.5)))


def _binomial_p_value(correct, total):
    """P(X >= correct) for X ~ Binomial(total, 1/2): chance of this accuracy under H0."""
    tail = sum(math.comb(total, i) for i in range(correct, total + 1))
    return float(tail / 2**total)


def classifier_two_sample_test(
    videos_a,
    videos_b,
    folds=5,
    seed=0,
    paired=False,
    size=_C2ST_SIZE,
    max_frames=_C2ST_MAX_FRAMES,
    steps=_C2ST_STEPS,
    batch_size=_C2ST_BATCH,
    learning_rate=_C2ST_LEARNING_RATE,
):
    """Classifier two-sample test (C2ST, Lopez-Paz & Oquab 2017) on video clips.

    A small CNN learns to tell clips of `videos_a` (label 0) from clips of
    `videos_b` (label 1); its accuracy on held-out clips estimates how
    distinguishable the two distributions are: 0.5 when they are the same, 1.0
    when every clip is told apart. The input of a clip is every frame and its
    change from the frame before (zero for frame 0) as 6 channels, so appearance
    and motion are both visible (standardised per channel with the training
    folds' mean and std); the CNN shares its weights over frames and ends with a
    convolution over time.

    Protocol: the larger set is subsampled (seeded) to the size n of the smaller;
    each set is split into `folds` folds of near-equal size (stratified), and for
    every fold the classifier (the same seeded initial weights each time) is
    trained for `steps` steps of Adam on the other folds (the same budget
    whatever n, so that small sets are trained enough), minimising

        L = -mean(y log sigmoid(f(x)) + (1 - y) log(1 - sigmoid(f(x)))),

    and scored on the fold (logit > 0 means label 1). Under H0 (same
    distribution) the number of correct held-out predictions is Binomial(2n, 1/2);
    `p_value` is its upper tail.

    Args:
        videos_a: `(n_a, T, H, W, C)` float in [-1, 1] or uint8, C 1 or 3.
        videos_b: `(n_b, T, H', W', C')`, the same T.
        folds: int >= 2. Number of folds k; each set needs at least k clips.
        seed: int. Seed of the subsampling, the folds, the weights and the batch
            order; equal seeds give equal results.
        paired: bool. `videos_a[i]` and `videos_b[i]` are versions of one clip (e.g.
            the clip shuffled in time): keep both in the same fold, so that the
            classifier cannot win by memorising a clip's content.
        size: int. Frames larger than `size` x `size` are area-downsampled to it
            (both sets to the same size).
        max_frames: int. Only the first `max_frames` frames of a clip are used.
        steps: int >= 1. Training steps per fold.
        batch_size: int >= 1. Clips per training step.
        learning_rate: float. Adam's learning rate.

    Returns:
        Dict: `accuracy` (mean held-out accuracy over folds), `std` (its standard
        deviation over folds), `fold_accuracies`, `p_value`, `num_per_set` (n),
        `folds`, `frames`, `size`, `seed`, `seconds`.

    Raises:
        ValueError: on invalid videos, different clip lengths, fewer than `folds`
            clips in a set, or `paired` with sets of different sizes.
    """
    started = time.perf_counter()
    videos_a = _video_array(videos_a, "videos_a")
    videos_b = _video_array(videos_b, "videos_b")
    if videos_a.shape[1] != videos_b.shape[1]:
        raise ValueError(
            "Expected clips of the same length in both sets, received: "
            f"{videos_a.shape[1]} and {videos_b.shape[1]} frames"
        )
    if folds < 2 or steps < 1 or batch_size < 1:
        raise ValueError(
            "Expected folds >= 2, steps >= 1 and batch_size >= 1, received: "
            f"folds={folds}, steps={steps}, batch_size={batch_size}"
        )
    n = min(len(videos_a), len(videos_b))
    if n < folds:
        raise ValueError(
            f"Expected at least {folds} clips per set for a {folds}-fold C2ST, received: "
            f"{len(videos_a)} and {len(videos_b)}"
        )
    if paired and len(videos_a) != len(videos_b):
        raise ValueError(
            "Expected sets of the same size with paired=True, received: "
            f"{len(videos_a)} and {len(videos_b)}"
        )
    rng = np.random.default_rng(seed)
    keep_a = np.sort(rng.permutation(len(videos_a))[:n])
    keep_b = keep_a if paired else np.sort(rng.permutation(len(videos_b))[:n])
    common = _common_size(videos_a, videos_b, limit=size)
    x = _c2st_inputs(np.concatenate([
        _unit_clips(videos_a[keep_a], common, max_frames),
        _unit_clips(videos_b[keep_b], common, max_frames),
    ]))
    y = np.repeat(np.array([0.0, 1.0], np.float32), n)
    fold_a = _fold_labels(n, folds, rng)
    fold_of = np.concatenate([fold_a, fold_a if paired else _fold_labels(n, folds, rng)])
    make = _FoldClassifier if tf.distribute.has_strategy() else functools.partial(
        _fold_classifier, policy=keras.config.dtype_policy().name)
    classifier = make(tuple(x.shape[1:]), int(seed), float(learning_rate))
    accuracies = [
        _fold_accuracy(classifier, x, y, fold_of == k, steps, batch_size, rng)
        for k in range(folds)
    ]
    correct = int(round(sum(acc * np.sum(fold_of == k) for k, acc in enumerate(accuracies))))
    return {
        "accuracy": float(np.mean(accuracies)),
        "std": float(np.std(accuracies)),
        "fold_accuracies": accuracies,
        "p_value": _binomial_p_value(correct, 2 * n),
        "num_per_set": int(n),
        "folds": int(folds),
        "frames": int(min(videos_a.shape[1], max_frames)),
        "size": int(common),
        "seed": int(seed),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _shuffled_in_time(videos, rng):
    """Every clip with its frames in a seeded random order other than the original."""
    num_frames = videos.shape[1]
    out = np.empty_like(videos)
    for i, clip in enumerate(videos):
        order = rng.permutation(num_frames)
        while num_frames > 1 and np.all(order == np.arange(num_frames)):
            order = rng.permutation(num_frames)
        out[i] = clip[order]
    return out


def _split_by_video_ids(video_ids, rng):
    """Clip indices of two disjoint groups of videos with about half the clips each.

    Videos in seeded random order, larger first, each to the group with fewer clips.
    """
    videos, counts = np.unique(np.asarray(video_ids), return_counts=True)
    order = rng.permutation(len(videos))
    order = order[np.argsort(-counts[order], kind="stable")]
    groups, sizes = ([], []), [0, 0]
    for index in order:
        side = 0 if sizes[0] <= sizes[1] else 1
        groups[side].append(videos[index])
        sizes[side] += counts[index]
    first = np.isin(video_ids, groups[0])
    return np.flatnonzero(first), np.flatnonzero(~first)


def _skipped(reason):
    return {"skipped": reason}


def c2st_calibration(real, real_video_ids=None, seed=0, folds=5, **kwargs):
    """What the C2ST gives on the real clips themselves: the scale to read it against.

    - `real_vs_real`: clips of one half of the source videos against clips of the
      other half (no video on both sides; needs `real_video_ids`): how far apart
      two samples of the footage itself are, the floor a generator can reach.
    - `real_shuffled`: the clips against the same clips with their frames in a
      random order (paired folds): the test sees temporal order.
    - `real_still`: the clips against their frame 0 held for every frame (paired
      folds): the test sees motion.

    Args:
        real: `(n, T, H, W, C)` real clips, float in [-1, 1] or uint8.
        real_video_ids: length-n sequence, the source video of every clip, or None
            (then `real_vs_real` is skipped).
        seed: int. Seed of the split, the shuffles and the tests.
        folds: int. Folds of every test.
        **kwargs: passed to `classifier_two_sample_test` (size, steps, ...);
            `paired` is ignored (each test sets its own).

    Returns:
        Dict with the three keys above, each a `classifier_two_sample_test` result
        or `{"skipped": reason}`.

    Raises:
        ValueError: on invalid clips, or ids of another length than the clips.
    """
    real = _video_array(real, "real")
    kwargs.pop("paired", None)
    rng = np.random.default_rng(seed)
    calibration = {}
    if real_video_ids is None:
        calibration["real_vs_real"] = _skipped("no source-video ids of the real clips")
    elif len(real_video_ids) != len(real):
        raise ValueError(
            f"Expected one video id per real clip ({len(real)}), received: {len(real_video_ids)}"
        )
    elif len(np.unique(np.asarray(real_video_ids))) < 2:
        calibration["real_vs_real"] = _skipped("the real clips come from a single video")
    else:
        first, second = _split_by_video_ids(real_video_ids, rng)
        calibration["real_vs_real"] = _c2st_or_skip(
            real[first], real[second], folds=folds, seed=seed, **kwargs
        )
    calibration["real_shuffled"] = _c2st_or_skip(
        real, _shuffled_in_time(real, rng), folds=folds, seed=seed, paired=True, **kwargs
    )
    still = np.repeat(real[:, :1], real.shape[1], axis=1)
    calibration["real_still"] = _c2st_or_skip(
        real, still, folds=folds, seed=seed, paired=True, **kwargs
    )
    return calibration


def _c2st_or_skip(videos_a, videos_b, folds, **kwargs):
    if min(len(videos_a), len(videos_b)) < folds:
        return _skipped(
            f"{min(len(videos_a), len(videos_b))} clips in a set, fewer than the {folds} folds"
        )
    return classifier_two_sample_test(videos_a, videos_b, folds=folds, **kwargs)


def mean_motion(videos):
    """Mean absolute frame-to-frame change of videos, on a 0-255 scale.

        m = 255 * mean_{i, t, pixel, channel} |x_i[t + 1] - x_i[t]|,  x in [0, 1]

    Args:
        videos: `(n, T, H, W, C)`, T >= 2, float in [-1, 1] or uint8.

    Returns:
        float. 0 for still videos.

    Raises:
        ValueError: on invalid videos or T < 2.
    """
    videos = _video_array(videos, "videos")
    if videos.shape[1] < 2:
        raise ValueError(f"Expected at least 2 frames per clip, received: {videos.shape[1]}")
    return _motion_of_unit(_to_unit_interval(videos))


def _motion_of_unit(unit):
    return float(np.mean(np.abs(np.diff(unit, axis=1)), dtype=np.float64) * 255.0)


def motion_ratio(generated, real):
    """Generated / real mean absolute frame-to-frame change (`mean_motion`).

    1.0 when the generated clips change as much per frame as the real ones; below 1
    they move too little (morphing or frozen), above 1 too much (flicker). Sets of
    different frame sizes are both resized to the smaller one first.

    Args:
        generated: `(n, T, H, W, C)`, T >= 2, float in [-1, 1] or uint8.
        real: `(m, T', H', W', C')`, T' >= 2.

    Returns:
        Dict: `ratio` (None if the real clips never change), `generated` and `real`
        (mean absolute change, 0-255 scale).

    Raises:
        ValueError: on invalid videos or clips of fewer than 2 frames.
    """
    generated = _video_array(generated, "generated")
    real = _video_array(real, "real")
    if min(generated.shape[1], real.shape[1]) < 2:
        raise ValueError(
            "Expected at least 2 frames per clip, received: "
            f"{generated.shape[1]} and {real.shape[1]}"
        )
    size = _common_size(generated, real)
    gen_motion = _motion_of_unit(_unit_clips(generated, size))
    real_motion = _motion_of_unit(_unit_clips(real, size))
    return {
        "ratio": gen_motion / real_motion if real_motion > 0 else None,
        "generated": gen_motion,
        "real": real_motion,
    }


def frame_drift(generated, real, steps=DRIFT_STEPS):
    """Frame Fréchet distance of generated frame t against all real frames, per t.

    For every t in `steps` (0-based frame index, only t < the clip length), the
    `frame_features` of frame t of every generated clip are compared with those
    of all frames of the real clips: a rollout that degrades over time shows the
    distance growing with t. The same for the real clips' own frame t is the
    reference (about flat for footage whose frames look alike over time). With n
    clips, every distance comes from n frames in 233 dimensions, so it is biased
    upwards: compare values of one call (same n) with each other.

    Args:
        generated: `(n, T, H, W, C)`, n >= 2, float in [-1, 1] or uint8.
        real: `(m, T', H', W', C')`, m >= 2.
        steps: frame indices t.

    Returns:
        Dict: `steps` (the t used), `frame_fd` and `real_frame_fd` (one per t),
        `ratio` and `real_ratio` (the last t's distance over the first t's).

    Raises:
        ValueError: on invalid videos, or no t shorter than both clip lengths.
    """
    generated = _video_array(generated, "generated")
    real = _video_array(real, "real")
    length = min(generated.shape[1], real.shape[1])
    steps = [int(t) for t in steps if 0 <= int(t) < length]
    if not steps:
        raise ValueError(
            f"Expected a drift step t < the clip length ({length}), received: none"
        )
    real_feats = frame_features(real)
    real_stats = feature_stats(real_feats)
    per_step = real_feats.reshape(real.shape[0], real.shape[1], -1)
    gen_feats = frame_features(generated[:, steps]).reshape(generated.shape[0], len(steps), -1)

    def distance(feats):
        return frechet_distance(*feature_stats(feats), *real_stats)

    fd = [distance(gen_feats[:, i]) for i in range(len(steps))]
    real_fd = [distance(per_step[:, t]) for t in steps]
    return {
        "steps": steps,
        "frame_fd": fd,
        "real_frame_fd": real_fd,
        "ratio": fd[-1] / fd[0] if fd[0] > 0 else None,
        "real_ratio": real_fd[-1] / real_fd[0] if real_fd[0] > 0 else None,
    }


def realism_report(generated, real, real_video_ids=None, seed=0, folds=5, calibrate=True,
                   **c2st_kwargs):
    """C2ST (with its calibration), motion ratio and drift of generated vs real clips.

    Args:
        generated: `(n, T, H, W, C)` generated clips, float in [-1, 1] or uint8.
        real: `(m, T, H', W', C')` real clips, the same T.
        real_video_ids: length-m sequence, the source video of every real clip (for
            the real-vs-real calibration on disjoint videos), or None.
        seed: int. Seed of every test; equal seeds give equal reports.
        folds: int. Folds of every C2ST.
        calibrate: bool. Also `c2st_calibration` of the real clips.
        **c2st_kwargs: passed to `classifier_two_sample_test`.

    Returns:
        A JSON-serialisable dict: `num_generated`, `num_real`, `num_frames`, `seed`,
        `c2st` (`classifier_two_sample_test` result, or `{"skipped": reason}` with
        fewer than `folds` clips), `c2st_calibration` (with `calibrate`), `motion`
        (`motion_ratio`; None for 1-frame clips), `drift` (`frame_drift`; None if no
        drift step fits), `seconds`.

    Raises:
        ValueError: on invalid videos or clips of different lengths.
    """
    started = time.perf_counter()
    generated = _video_array(generated, "generated")
    real = _video_array(real, "real")
    if generated.shape[1] != real.shape[1]:
        raise ValueError(
            "Expected generated and real clips of the same length, received: "
            f"{generated.shape[1]} and {real.shape[1]} frames"
        )
    num_frames = int(real.shape[1])
    report = {
        "num_generated": int(len(generated)),
        "num_real": int(len(real)),
        "num_frames": num_frames,
        "seed": int(seed),
        "c2st": _c2st_or_skip(generated, real, folds=folds, seed=seed, **c2st_kwargs),
    }
    if calibrate:
        report["c2st_calibration"] = c2st_calibration(
            real, real_video_ids, seed=seed, folds=folds, **c2st_kwargs
        )
    report["motion"] = motion_ratio(generated, real) if num_frames >= 2 else None
    fits = num_frames > min(DRIFT_STEPS) and min(len(generated), len(real)) >= 2
    report["drift"] = frame_drift(generated, real) if fits else None
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def _c2st_text(result):
    if "skipped" in result:
        return f"- (skipped: {result['skipped']})"
    return f"{result['accuracy']:.3f} ± {result['std']:.3f}"


def format_realism(report, indent="  "):
    """The measures of `realism_report` as one printed block (C2ST, calibration,
    motion, drift), in the layout of `keras_vidgan.evaluate.format_results`."""
    c2st = report["c2st"]
    sizes = "" if "skipped" in c2st else (
        f"{c2st['num_per_set']} vs {c2st['num_per_set']} clips, {c2st['folds']}-fold, "
        f"{c2st['size']}x{c2st['size']}; "
    )
    lines = [f"{indent}C2ST      {_c2st_text(c2st):>14}   ({sizes}held-out accuracy of a clip "
             "classifier: 0.5 = indistinguishable, 1.0 = told apart)"]
    for key, result in report.get("c2st_calibration", {}).items():
        lines.append(f"{indent}  {_C2ST_LABELS[key]:<30} {_c2st_text(result)}")
    motion = report.get("motion")
    if motion is not None:
        ratio = "-" if motion["ratio"] is None else f"{motion['ratio']:.2f}x"
        lines.append(f"{indent}motion    {ratio:>14}   (mean |frame change| {motion['generated']:.2f} "
                     f"generated vs {motion['real']:.2f} real, 0-255; 1.0x = as much motion)")
    drift = report.get("drift")
    if drift is not None:
        ratio = "-" if drift["ratio"] is None else f"{drift['ratio']:.2f}x"
        steps = ", ".join(f"t={t} {fd:.1f}" for t, fd in zip(drift["steps"], drift["frame_fd"]))
        real_ratio = "-" if drift["real_ratio"] is None else f"{drift['real_ratio']:.2f}x"
        lines.append(f"{indent}drift     {ratio:>14}   (frame FD of generated frame t vs real "
                     f"frames, last/first t: {steps}; real clips {real_ratio})")
    return "\n".join(lines)


_CLASS_STEPS = 300  # training steps of the class classifier


def class_accuracy(real, real_labels, generated, generated_labels, num_classes, seed=0,
                   real_video_ids=None, holdout=0.25, steps=_CLASS_STEPS, batch_size=_C2ST_BATCH,
                   learning_rate=_C2ST_LEARNING_RATE, size=_C2ST_SIZE, max_frames=_C2ST_MAX_FRAMES):
    """How often a classifier trained on real clips gives generated clips their asked class.

    The clip CNN of the C2ST (`classifier_two_sample_test`: frames and their
    changes, 6 channels, standardised with the training clips' statistics), with
    `num_classes` outputs, is trained for `steps` steps of Adam on the real clips
    minimising the softmax cross-entropy `-mean(log softmax(f(x))[y])`, then labels
    every generated clip. A generated clip of class c is "right" when the
    classifier's most likely class is c: a conditional generator whose samples of
    c look and move like the real clips of c scores near the classifier's own
    accuracy on held-out real clips (`real_accuracy`, the ceiling); one that
    ignores its class scores about `1 / num_classes` (chance).

    Args:
        real: `(n, T, H, W, C)` real clips, float in [-1, 1] or uint8.
        real_labels: `(n,)` int, the class of each real clip.
        generated: `(m, T, H', W', C)` generated clips, the same T.
        generated_labels: `(m,)` int, the class each was asked for.
        num_classes: int >= 2.
        seed: int. Seed of the split, the weights and the batch order.
        real_video_ids: `(n,)` the source video of each real clip, or None: the
            held-out real clips are whole videos (about `holdout` of each class's),
            so that the ceiling is not inflated by clips of videos seen in training.
        holdout: float in (0, 1). Share of each class's real videos (or clips) held out.
        steps, batch_size, learning_rate: the classifier's training.
        size, max_frames: frames are area-downsampled to `size`, clips cut to `max_frames`.

    Returns:
        Dict: `per_class` (generated accuracy of each class), `accuracy` (their
        mean), `real_per_class` and `real_accuracy` (held-out real clips; None for
        a class with no held-out clip), `chance` (`1 / num_classes`), `num_real`,
        `num_generated`, `seed`, `seconds`.

    Raises:
        ValueError: on invalid videos, labels outside `[0, num_classes)`, or a class
            with no real clip.
    """
    started = time.perf_counter()
    real, generated = _video_array(real, "real"), _video_array(generated, "generated")
    y_real = np.asarray(real_labels, np.int64)
    y_fake = np.asarray(generated_labels, np.int64)
    if y_real.shape != (len(real),) or y_fake.shape != (len(generated),):
        raise ValueError("Expected one label per clip, received: "
                         f"{y_real.shape} for {len(real)} real, {y_fake.shape} for "
                         f"{len(generated)} generated clips")
    for name, y in (("real", y_real), ("generated", y_fake)):
        if len(y) and (y.min() < 0 or y.max() >= num_classes):
            raise ValueError(f"Expected {name} labels in [0, {num_classes}), received: "
                             f"{sorted(set(y.tolist()))}")
    missing = [c for c in range(num_classes) if not np.any(y_real == c)]
    if missing:
        raise ValueError(f"Expected real clips of every class, received none of {missing}")
    rng = np.random.default_rng(seed)
    test = _held_out(y_real, real_video_ids, holdout, rng)
    common = _common_size(real, generated, limit=size)
    x_real = _c2st_inputs(_unit_clips(real, common, max_frames))
    x_fake = _c2st_inputs(_unit_clips(generated, common, max_frames))
    train = ~test if test.any() else np.ones(len(real), bool)
    axes = tuple(range(x_real.ndim - 1))
    mean, std = x_real[train].mean(axis=axes), x_real[train].std(axis=axes) + 1e-3
    model = _c2st_classifier(x_real.shape[1:], seed, outputs=num_classes)
    model.compile(keras.optimizers.Adam(learning_rate),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x_train, y_train = (x_real[train] - mean) / std, y_real[train]
    batch = min(batch_size, len(x_train))
    order = np.concatenate([rng.permutation(len(x_train))
                            for _ in range(-(-steps * batch // len(x_train)))])[:steps * batch]
    model.fit(x_train[order], y_train[order], batch_size=batch, epochs=1, shuffle=False, verbose=0)

    def predict(x):
        return np.argmax(model.predict((x - mean) / std, batch_size=64, verbose=0), axis=-1)

    def per_class(predicted, y):
        return [float(np.mean(predicted[y == c] == c)) if np.any(y == c) else None
                for c in range(num_classes)]

    fake_acc = per_class(predict(x_fake), y_fake)
    real_acc = per_class(predict(x_real[test]), y_real[test]) if test.any() else [None] * num_classes
    known = [a for a in fake_acc if a is not None]
    known_real = [a for a in real_acc if a is not None]
    return {
        "per_class": fake_acc,
        "accuracy": float(np.mean(known)) if known else None,
        "real_per_class": real_acc,
        "real_accuracy": float(np.mean(known_real)) if known_real else None,
        "chance": 1.0 / num_classes,
        "num_real": int(len(real)),
        "num_generated": int(len(generated)),
        "seed": int(seed),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _held_out(labels, video_ids, share, rng):
    """A mask of held-out real clips: about `share` of each class's videos (or clips)."""
    groups = np.arange(len(labels)) if video_ids is None else np.asarray(video_ids)
    test = np.zeros(len(labels), bool)
    for c in np.unique(labels):
        mine = np.unique(groups[labels == c])
        count = max(int(round(share * len(mine))), 1)
        if count < len(mine):  # a class of one video (or clip) trains only
            test |= np.isin(groups, rng.choice(mine, count, replace=False)) & (labels == c)
    return test
