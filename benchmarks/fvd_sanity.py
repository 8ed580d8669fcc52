"""FVD sanity case of google-research/frechet_video_distance, with this package's I3D.

16 black vs 16 white uint8 clips of 15 frames at 64x64. The reference example
prints "around 131"; identical clips make both covariances zero, so the FVD is
the squared distance between the two mean logit vectors. This port gives 133.91.

Usage (after `python -m keras_vidgan.i3d fetch`)::

    python benchmarks/fvd_sanity.py [--batch-size 16] [--cache-dir DIR]
"""

import argparse
import resource
import time

import numpy as np

from keras_vidgan import i3d, metrics

NUM_VIDEOS = 16
VIDEO_LENGTH = 15
SIZE = 64


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()

    start = time.perf_counter()
    model = i3d.build_i3d(weights=i3d.i3d_weights_path(args.cache_dir))
    built = time.perf_counter()
    black = np.zeros((NUM_VIDEOS, VIDEO_LENGTH, SIZE, SIZE, 3), np.uint8)
    white = np.full_like(black, 255)
    result = metrics.fvd(black, white, i3d_model=model, batch_size=args.batch_size)
    done = time.perf_counter()

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"FVD black vs white: {result:.3f} (reference: about 131)")
    print(f"build + load weights: {built - start:.1f} s; "
          f"FVD on {2 * NUM_VIDEOS} clips: {done - built:.1f} s; peak RSS {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
