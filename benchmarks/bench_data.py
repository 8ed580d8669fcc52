"""Video loading speed: keras_vidgan's loader against a bare OpenCV read loop.

On the same files (`../shared/data/real-clips` when present, else generated videos):
- decode + preprocess frames/s of `load_video_folder` (first pass, no cache; with one
  worker and with all cores) against a bare `cv2.VideoCapture.read` loop (decode only,
  FFmpeg's default threads), in wall time and per core (frames per CPU-second, all
  threads counted); best of three alternating passes each;
- the cached pass (frames from the `.npz` cache) against the bare loop;
- training steps/s from the folder's `tf.data` pipeline against the same Trainer fed an
  in-memory tensor, after a first epoch, in alternating blocks.

    python benchmarks/bench_data.py [--quick]
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import cv2  # noqa: E402
import keras  # noqa: E402

from benchmarks import _common  # noqa: E402
from keras_vidgan import data, models  # noqa: E402
from keras_vidgan.trainer import Trainer  # noqa: E402


def bare_loop(paths):
    """A plain read loop (FFmpeg's default threads): frames, wall s and CPU s."""
    start, cpu, frames = time.perf_counter(), time.process_time(), 0
    for path in paths:
        capture = cv2.VideoCapture(path)
        while capture.read()[0]:
            frames += 1
        capture.release()
    return frames, time.perf_counter() - start, time.process_time() - cpu


def loader_pass(folder, size, cache_dir, workers):
    start, cpu = time.perf_counter(), time.process_time()
    loaded = data.load_video_folder(folder, frame_size=size, cache_dir=cache_dir, workers=workers)
    return loaded, time.perf_counter() - start, time.process_time() - cpu


def bench_decode(folder, size, results, repeats=3):
    paths = data.find_videos(folder)
    bare_loop(paths[:2])  # warm the file cache and FFmpeg
    bare_runs, loader_runs = [], []
    for _ in range(repeats):  # alternate the two; each side keeps its least disturbed pass
        bare_runs.append(bare_loop(paths))
        loader_runs.append(loader_pass(folder, size, False, None)[1:])
    frames = bare_runs[0][0]
    bare, bare_cpu = min(r[1] for r in bare_runs), min(r[2] for r in bare_runs)
    all_cores, all_cpu = min(r[0] for r in loader_runs), min(r[1] for r in loader_runs)
    cache = tempfile.mkdtemp()
    try:
        _, one, _ = loader_pass(folder, size, False, 1)
        loader_pass(folder, size, cache, None)  # fills the cache
        loaded, cached, _ = loader_pass(folder, size, cache, None)
        assert loaded.from_cache
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    results["decode"] = {
        "files": len(paths),
        "frames": frames,
        "bare_loop_frames_per_s": frames / bare,
        "bare_loop_frames_per_cpu_s": frames / bare_cpu,
        "loader_1_worker_frames_per_s": frames / one,
        "loader_all_cores_frames_per_s": frames / all_cores,
        "loader_frames_per_cpu_s": frames / all_cpu,
        # "per core": frames per CPU-second (all threads counted), loader vs bare loop.
        "loader_per_core_vs_bare": bare_cpu / all_cpu,
        "per_core_ratios_by_pass": [b[2] / lo[1] for b, lo in zip(bare_runs, loader_runs)],
        "loader_wall_vs_bare": bare / all_cores,
        "cached_frames_per_s": frames / cached,
        "cached_vs_bare": bare / cached,
    }
    return loaded


def bench_training_input(loaded, args, results):
    keras.utils.set_random_seed(0)
    trainer = Trainer(models.build_generator(frame_size=args.size),
                      models.build_discriminator(frame_size=args.size))
    folder_ds = iter(loaded.dataset(args.batch, seed=0))
    memory = next(iter(loaded.dataset(args.batch, seed=1)))
    epoch = max(len(loaded.frames) // args.batch, 1)
    for _ in range(min(epoch, args.warmup_steps)):  # the first epoch: warm-up
        trainer.train_step(next(folder_ds))
    trainer.train_step(memory)
    ratio, t_memory, t_folder = _common.paired_ratio(
        lambda: trainer.train_step(memory)["d_loss"].numpy(),
        lambda: trainer.train_step(next(folder_ds))["d_loss"].numpy(),
        args.blocks, args.steps,
    )
    results["training_input"] = {
        "in_memory_steps_per_s": 1 / t_memory,
        "folder_steps_per_s": 1 / t_folder,
        "folder_vs_in_memory": 1 / ratio,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run on generated videos")
    parser.add_argument("--data", help="folder of videos (default: real clips, else generated)")
    parser.add_argument("--size", type=int, default=64, help="frame size (default 64)")
    parser.add_argument("--batch", type=int, default=32, help="batch (default 32)")
    parser.add_argument("--steps", type=int, default=15, help="steps per timed block (default 15)")
    parser.add_argument("--blocks", type=int, default=5, help="alternating blocks (default 5)")
    parser.add_argument("--warmup-steps", type=int, default=60, help="first-epoch steps (default 60)")
    args = parser.parse_args()
    folder = args.data
    if args.quick:
        args.size, args.batch, args.steps, args.blocks, args.warmup_steps = 16, 8, 3, 2, 3
    if not folder:
        if os.path.isdir(_common.REAL_CLIPS) and not args.quick:
            folder = _common.REAL_CLIPS
        else:
            folder = tempfile.mkdtemp()
            data.make_demo_videos(folder, n=6, frames=60, size=64 if args.quick else 256)
    results = {"machine": _common.machine(), "data": folder, "size": args.size,
               "command": "python benchmarks/bench_data.py" + (" --quick" if args.quick else "")}
    loaded = bench_decode(folder, args.size, results)
    bench_training_input(loaded, args, results)
    d, t = results["decode"], results["training_input"]
    print(f"machine: {results['machine']}")
    print(f"data: {folder} ({d['files']} files, {d['frames']} frames) at {args.size}x{args.size}")
    print(f"  bare cv2 read loop      {d['bare_loop_frames_per_s']:8.0f} frames/s, "
          f"{d['bare_loop_frames_per_cpu_s']:.0f} per CPU-s (decode only)")
    print(f"  loader, 1 worker        {d['loader_1_worker_frames_per_s']:8.0f} frames/s")
    print(f"  loader, all cores       {d['loader_all_cores_frames_per_s']:8.0f} frames/s "
          f"(x{d['loader_wall_vs_bare']:.2f} the bare loop), {d['loader_frames_per_cpu_s']:.0f} per CPU-s "
          f"(x{d['loader_per_core_vs_bare']:.2f} per core; by pass "
          + ", ".join(f"{r:.2f}" for r in d["per_core_ratios_by_pass"]) + ")")
    print(f"  loader, cached          {d['cached_frames_per_s']:8.0f} frames/s (x{d['cached_vs_bare']:.1f})")
    print(f"  training from folder    {t['folder_steps_per_s']:6.2f} steps/s vs in memory "
          f"{t['in_memory_steps_per_s']:.2f} (x{t['folder_vs_in_memory']:.3f})")
    _common.write_json("bench_data_quick.json" if args.quick else "bench_data.json", results)


if __name__ == "__main__":
    main()
