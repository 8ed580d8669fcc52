"""Side effects of a training run: progress, TensorBoard, fixed-seed samples.

A callback gets `on_train_begin(trainer, steps)`, `on_step_end(trainer, step,
logs)` and `on_train_end(trainer, completed)`; `logs` holds the step's metrics as
floats.
"""

import os
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from keras_vidgan import video_io

__all__ = ["Callback", "ProgressLogger", "TensorBoardLogger", "SampleWriter"]


class Callback:
    """Base class: override any of the three hooks."""

    def on_train_begin(self, trainer, steps):
        pass

    def on_step_end(self, trainer, step, logs):
        pass

    def on_train_end(self, trainer, completed):
        pass


class ProgressLogger(Callback):
    """A progress bar with ETA (`keras.utils.Progbar`), or plain lines when quiet.

    Args:
        every: int. In quiet mode, print one line every `every` steps.
        quiet: bool. Plain log lines instead of a bar (for log files).
        stream: file. Where quiet lines go. Defaults to stdout.
    """

    def __init__(self, every=50, quiet=False, stream=None):
        self.every = every
        self.quiet = quiet
        self.stream = stream or sys.stdout

    def on_train_begin(self, trainer, steps):
        self._first = int(trainer.step.numpy())
        self._start = time.time()
        self._bar = None if self.quiet else keras.utils.Progbar(steps, unit_name="step")

    def on_step_end(self, trainer, step, logs):
        done = step - self._first
        shown = {k: logs[k] for k in ("d_loss", "g_loss", "d_real", "d_fake") if k in logs}
        if self._bar is not None:
            self._bar.update(done, list(shown.items()))
        elif done % self.every == 0:
            rate = done / max(time.time() - self._start, 1e-9)
            values = " ".join(f"{k}={v:.4f}" for k, v in shown.items())
            print(f"step {step} {values} {rate:.2f} steps/s", file=self.stream, flush=True)


class TensorBoardLogger(Callback):
    """Writes scalars (losses, D outputs, gradient norms, steps/s) and sample images.

    Args:
        log_dir: str. TensorBoard folder.
        every: int. Steps between scalar writes.
        sample_every: int. Steps between sample images (0: none).
        num_samples: int. Frames in each sample image.
        seed: int. Fixed noise seed of the samples.
    """

    def __init__(self, log_dir, every=10, sample_every=100, num_samples=16, seed=1234):
        self.log_dir = log_dir
        self.every = every
        self.sample_every = sample_every
        self.num_samples = num_samples
        self.seed = seed

    def on_train_begin(self, trainer, steps):
        self._writer = tf.summary.create_file_writer(self.log_dir)
        self._time, self._step = time.time(), int(trainer.step.numpy())

    def on_step_end(self, trainer, step, logs):
        with self._writer.as_default(step=step):
            if step % self.every == 0:
                now = time.time()
                rate = (step - self._step) / max(now - self._time, 1e-9)
                self._time, self._step = now, step
                for key, value in logs.items():
                    tf.summary.scalar(key, value)
                tf.summary.scalar("steps_per_second", rate)
            if self.sample_every and step % self.sample_every == 0:
                frames = trainer.generate(self.num_samples, seed=self.seed)
                grid = video_io.grid(frames)[None]
                tf.summary.image("samples", grid)

    def on_train_end(self, trainer, completed):
        self._writer.flush()
        self._writer.close()


class SampleWriter(Callback):
    """Fixed-seed samples every K steps and after the last step, and a progress GIF.

    Frame mode writes `step_XXXXXXX.png` grids; video mode also writes a clip
    `step_XXXXXXX.gif` of `num_frames` frames (a grid of videos). At the end,
    `progress.gif` shows the sample grid over training, as the TensorFlow DCGAN
    tutorial does for images.

    Args:
        folder: str. Output folder (created).
        every: int. Steps between samples.
        num_samples: int. Samples per grid.
        num_frames: int or None. Frames of the sample clips (video mode).
        seed: int. Fixed noise seed, so samples are comparable across steps.
    """

    def __init__(self, folder, every=100, num_samples=16, num_frames=None, seed=1234):
        self.folder = folder
        self.every = every
        self.num_samples = num_samples
        self.num_frames = num_frames
        self.seed = seed

    def on_train_begin(self, trainer, steps):
        os.makedirs(self.folder, exist_ok=True)

    def on_step_end(self, trainer, step, logs):
        if self.every and step % self.every == 0:
            self.write(trainer, step)

    def write(self, trainer, step):
        """Writes the samples of `step`; returns the paths."""
        name = os.path.join(self.folder, f"step_{step:07d}")
        frames = trainer.generate(self.num_samples, seed=self.seed)
        paths = [video_io.save_grid(name + ".png", frames)]
        if self.num_frames and trainer.video_mode:
            videos = trainer.generate(self.num_samples, seed=self.seed, num_frames=self.num_frames)
            tiles = np.stack([video_io.grid(videos[:, t]) for t in range(videos.shape[1])])
            paths.append(video_io.write_gif(name + ".gif", tiles))
        return paths

    def on_train_end(self, trainer, completed):
        step = int(trainer.step.numpy())
        if completed and self.every and step % self.every:
            self.write(trainer, step)  # the last step, when it is not a multiple of `every`
        grids = sorted(
            f for f in os.listdir(self.folder) if f.startswith("step_") and f.endswith(".png")
        )
        if len(grids) >= 2:
            import cv2

            frames = [cv2.imread(os.path.join(self.folder, f))[..., ::-1] for f in grids]
            video_io.write_gif(os.path.join(self.folder, "progress.gif"), np.stack(frames), 4)
