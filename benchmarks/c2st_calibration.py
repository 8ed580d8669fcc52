"""C2ST calibration on real footage: what the test gives with no generator involved.

For the `make demo` videos (`keras_vidgan.data.make_demo_videos`, 64 videos) and, when
present, `../shared/data/real-clips`, N real clips of T frames (`evaluate.real_clips`,
with their source videos) at the quality benchmark's frame size go through
`metrics.c2st_calibration`: real vs real on disjoint videos, real vs the same clips
shuffled in time, real vs frame 0 held still. Prints one block per data set and writes
benchmarks/results/c2st_calibration.json.

    python benchmarks/c2st_calibration.py [--samples 128] [--frames 8] [--seed 0]
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REAL_CLIPS = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "real-clips"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


def calibrate(name, folder, args):
    from keras_vidgan import metrics

    real, ids = folder.sample_clips(args.samples, args.frames, args.seed, with_video_ids=True)
    started = time.perf_counter()
    calibration = metrics.c2st_calibration(real, ids, seed=args.seed)
    seconds = time.perf_counter() - started
    print(f"{name}: {folder.num_videos} videos, {len(real)} clips of {args.frames} frames at "
          f"{folder.frame_size}x{folder.frame_size} ({seconds:.0f} s)")
    for key, result in calibration.items():
        shown = result.get("skipped") or (f"{result['accuracy']:.3f} ± {result['std']:.3f} "
                                          f"({result['num_per_set']} vs {result['num_per_set']})")
        print(f"  {metrics._C2ST_LABELS[key]:<30} {shown}", flush=True)
    return {"num_videos": folder.num_videos, "calibration": calibration,
            "seconds": round(seconds, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=128)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--frame-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--real-clips", default=REAL_CLIPS)
    parser.add_argument("--out", default=os.path.join(HERE, "results", "c2st_calibration.json"))
    args = parser.parse_args(argv)
    from keras_vidgan import data, runs
    from keras_vidgan.config import RunConfig

    report = {"settings": vars(args), "machine": platform.processor() or platform.machine(),
              "cpus": os.cpu_count(), "datasets": {}}
    with tempfile.TemporaryDirectory() as workdir:
        data.make_demo_videos(workdir, n=64)  # as make demo
        demo = data.load_video_folder(workdir, frame_size=args.frame_size, cache_dir=False)
        report["datasets"]["demo"] = calibrate("demo", demo, args)
    if os.path.isdir(args.real_clips):
        config = RunConfig(data=args.real_clips, frame_size=args.frame_size)
        folder = runs.load_data(config, cache_dir=False)
        report["datasets"]["real-clips"] = calibrate("real-clips", folder, args)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
