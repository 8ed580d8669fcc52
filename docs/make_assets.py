"""Makes the pictures in docs/assets/ from trained runs (`make docs-assets`).

    python docs/make_assets.py --run demo_output/run [--name demo] [--data DIR]

For a run it writes `NAME.gif` (four videos from noise, tiled, 16 frames) and
`NAME_strip.png` (a film strip: one row per video, frames 0, 3, 7, 11 and 15 left to
right; with `--data`, a first row of a real clip of that folder for comparison).
Regenerate them whenever the model or the demo's recipe changes; the README opens with
`demo.gif`.
"""

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

STRIP_FRAMES = (0, 3, 7, 11, 15)
GAP = 2  # pixels between the frames of a strip


def film_strip(videos, frames=STRIP_FRAMES, gap=GAP):
    """Videos `(n, T, H, W, 3)` uint8 as one image: a row per video, chosen frames across."""
    n, _, height, width, _ = videos.shape
    canvas = np.full((n * (height + gap) - gap, len(frames) * (width + gap) - gap, 3), 255, np.uint8)
    for row in range(n):
        for col, t in enumerate(frames):
            y, x = row * (height + gap), col * (width + gap)
            canvas[y:y + height, x:x + width] = videos[row, t]
    return canvas


def _real_clip(data_dir, frame_size, num_frames):
    from keras_vidgan import data, video_io

    folder = data.load_video_folder(data_dir, frame_size=frame_size, min_frames=num_frames,
                                    cache_dir=False)
    clip = next(iter(folder.dataset(1, clip_len=num_frames, seed=0))).numpy()
    return video_io.to_uint8(clip)


def make_assets(run_dir, name, out_dir, data_dir=None, num_frames=16, seed=0):
    """Writes `NAME.gif` and `NAME_strip.png` of `run_dir` into `out_dir`; returns the paths."""
    from keras_vidgan import runs, sampling, video_io

    config, models, _ = runs.load_models(run_dir)
    videos = video_io.to_uint8(sampling.generate(models, 4, seed=seed, num_frames=num_frames))
    scale = video_io.scale_to_width(2 * config.frame_size, 256)
    tiles = np.stack([video_io.grid(videos[:, t], columns=2) for t in range(num_frames)])
    gif = video_io.write_gif(os.path.join(out_dir, f"{name}.gif"),
                             video_io.upscale(tiles, scale), fps=8)
    rows = videos if data_dir is None else np.concatenate(
        [_real_clip(data_dir, config.frame_size, num_frames), videos])
    strip = video_io.upscale(film_strip(rows), max(1, scale // 2))
    png = video_io.save_grid(os.path.join(out_dir, f"{name}_strip.png"), strip[None], columns=1)
    return gif, png


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a trained video-mode run folder")
    parser.add_argument("--name", default="demo", help="file name stem (default demo)")
    parser.add_argument("--data", help="a folder of real videos: a reference row in the strip")
    parser.add_argument("--out", default=os.path.join(HERE, "assets"), help="output folder")
    args = parser.parse_args(argv)
    for path in make_assets(args.run, args.name, args.out, args.data):
        print(f"wrote {os.path.relpath(path)}")


if __name__ == "__main__":
    main()
