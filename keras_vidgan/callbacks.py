"""Side effects of a training run: progress, TensorBoard, fixed-seed samples.

These are `keras.callbacks.Callback`s, and `Trainer.fit` drives any Keras callback
(`CSVLogger`, `EarlyStopping`, Keras's own `TensorBoard`, ...) through a
`keras.callbacks.CallbackList`. `self.model` is the `Trainer`: `self.model.step` is
the global step, `self.model.generate(...)` samples, `self.model.stop_training =
True` ends the run after the current step. `logs` holds the step's metrics as
floats (`on_train_batch_end`) or their means over an epoch of `steps_per_epoch`
steps (`on_epoch_end`). `self.model.completed` says, in `on_train_end`, whether
the loop ended normally (all steps, or `stop_training`), not by Ctrl-C, SIGTERM or
an error.
"""

import os
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from keras_vidgan import progress, summaries, video_io

__all__ = ["ProgressLogger", "TensorBoardLogger", "SampleWriter", "TrainingHistory"]

Callback = keras.callbacks.Callback


class TrainingHistory(keras.callbacks.History):
    """What `Trainer.fit` returns: a `keras.callbacks.History` that records every step.

    `history` maps each metric (and `"step"`, the global step) to one float per
    step, since a GAN's curves are read per step; `epoch` lists the epochs run, and
    `epoch_history` their mean logs, as Keras's `History.history` holds them.
    `history["d_loss"]` also works on the object itself, as on a dict.
    """

    def on_train_begin(self, logs=None):
        self.epoch, self.history, self.epoch_history = [], {}, {}

    def on_train_batch_end(self, batch, logs=None):
        self.history.setdefault("step", []).append(int(self.model.step.numpy()))
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.epoch_history.setdefault(key, []).append(value)

    def __getitem__(self, key):
        return self.history[key]

    def __contains__(self, key):
        return key in self.history

    def __iter__(self):
        return iter(self.history)

    def __len__(self):
        return len(self.history)


def _step(trainer):
    return int(trainer.step.numpy())


class ProgressLogger(Callback):
    """The live progress line of `keras_vidgan.progress`, or plain log lines when quiet.

    On a terminal the line is redrawn in place (phase, step, a bar, smoothed losses,
    steps/s and an ETA that times the frame warm-up and the video steps apart); in a
    log file (not a terminal) it is printed every `log_seconds`; with `quiet`, every
    `every` steps.

    Args:
        every: int. In quiet mode, print one line every `every` steps.
        quiet: bool. Plain log lines at fixed steps (for log files and tests).
        clip_len: int. Frames per training clip in video mode (1 in frame mode), for
            the ETA's estimate of the video steps before they are timed.
        stream: file. Where the line goes. Defaults to stdout.
        refresh: float. Seconds between redraws on a terminal.
        log_seconds: float. Seconds between lines when `stream` is not a terminal.
    """

    def __init__(self, every=50, quiet=False, clip_len=1, stream=None, refresh=0.25,
                 log_seconds=30.0):
        super().__init__()
        self.every = every
        self.quiet = quiet
        self.clip_len = clip_len
        self.stream = stream or sys.stdout
        self.refresh = refresh
        self.log_seconds = log_seconds

    def on_train_begin(self, logs=None):
        first = _step(self.model)
        self._total = first + int(self.params.get("total_steps") or 0)
        clock = progress.PhaseClock(self._total, getattr(self.model, "frame_steps", 0),
                                    self.clip_len)
        self._line = progress.ProgressLine(clock)
        self._tty = not self.quiet and hasattr(self.stream, "isatty") and self.stream.isatty()
        # -inf, not 0: time.monotonic() counts from boot, which can be under log_seconds ago
        self._shown, self._width = float("-inf"), 0

    def on_train_batch_end(self, batch, logs=None):
        step = _step(self.model)
        text = self._line.update(step, logs or {})
        now, last = time.monotonic(), step == self._total
        if self.quiet:
            if step % self.every == 0 or last:
                print(text, file=self.stream, flush=True)
        elif self._tty:
            if now - self._shown >= self.refresh or last:
                self.stream.write("\r" + text.ljust(self._width))
                self.stream.flush()
                self._width, self._shown = len(text), now
        elif now - self._shown >= self.log_seconds or last:
            print(text, file=self.stream, flush=True)
            self._shown = now

    def on_train_end(self, logs=None):
        if self._tty and self._width:
            self.stream.write("\n")
            self.stream.flush()


class TensorBoardLogger(Callback):
    """Writes scalars, sample images, animated rollouts and the run's settings.

    Scalars: every log value (the losses, and in video mode each critic's losses
    apart: `d_loss_frame`, `d_loss_temporal`, `g_loss_frame`, `g_loss_temporal`), D's
    outputs, gradient norms and steps/s. In video mode, `rollouts` is a GIF-encoded
    image summary of four sample videos, which plays in TensorBoard's image dashboard.

    Args:
        log_dir: str. TensorBoard folder.
        every: int. Steps between scalar writes.
        sample_every: int. Steps between sample images (0: none).
        num_samples: int. Frames in each sample image.
        seed: int. Fixed noise seed of the samples.
        num_frames: int or None. Frames of the `rollouts` videos (video mode); None
            for none.
        hparams: dict or None. The run's settings, written once for the HPARAMS
            dashboard.
    """

    def __init__(self, log_dir, every=10, sample_every=100, num_samples=16, seed=1234,
                 num_frames=None, hparams=None):
        super().__init__()
        self.log_dir = log_dir
        self.every = every
        self.sample_every = sample_every
        self.num_samples = num_samples
        self.seed = seed
        self.num_frames = num_frames
        self.hparams = hparams

    def on_train_begin(self, logs=None):
        self._writer = tf.summary.create_file_writer(self.log_dir)
        self._time, self._step = time.time(), _step(self.model)
        if self.hparams:
            with self._writer.as_default(step=self._step):
                summaries.hparams_summary(self.hparams)

    def on_train_batch_end(self, batch, logs=None):
        trainer, step, logs = self.model, _step(self.model), logs or {}
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
                if self.num_frames and trainer.video_mode:  # rollouts that play (a GIF)
                    videos = trainer.generate(min(self.num_samples, 4), seed=self.seed,
                                              num_frames=self.num_frames)
                    summaries.video_summary("rollouts", videos, step, columns=4)

    def on_train_end(self, logs=None):
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
        super().__init__()
        self.folder = folder
        self.every = every
        self.num_samples = num_samples
        self.num_frames = num_frames
        self.seed = seed

    def on_train_begin(self, logs=None):
        os.makedirs(self.folder, exist_ok=True)

    def on_train_batch_end(self, batch, logs=None):
        step = _step(self.model)
        if self.every and step % self.every == 0:
            self.write(self.model, step)

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

    def on_train_end(self, logs=None):
        trainer = self.model
        step = _step(trainer)
        if getattr(trainer, "completed", True) and self.every and step % self.every:
            self.write(trainer, step)  # the last step, when it is not a multiple of `every`
        grids = sorted(
            f for f in os.listdir(self.folder) if f.startswith("step_") and f.endswith(".png")
        )
        if len(grids) >= 2:
            import cv2

            frames = [cv2.imread(os.path.join(self.folder, f))[..., ::-1] for f in grids]
            video_io.write_gif(os.path.join(self.folder, "progress.gif"), np.stack(frames), 4)
