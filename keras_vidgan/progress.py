"""A training run's live progress: phase, step, smoothed losses, steps/s and an ETA.

A video-mode run has two phases that run at very different speeds: the frame warm-up
(`frame_steps` cheap steps of the frame GAN) and the video steps (rollouts judged by two
critics, an order of magnitude slower). The ETA times each phase on its own steps, and
until the first video steps are timed, it estimates them from the warm-up's rate.
"""

import time

__all__ = ["PhaseClock", "ProgressLine"]

# Until video steps are timed: a video step costs about this many frame steps per clip
# frame (the rollout and both critics see every frame; measured 12x for clips of 8 at
# make demo's recipe, 16x at the quality preset's widths). Replaced by the measured rate
# after a few video steps.
VIDEO_STEP_COST_PER_FRAME = 1.5
_TIMED_AFTER = 2  # steps of a phase run before its rate is trusted (the first traces)


class PhaseClock:
    """Steps per second of each phase, and the time left of a run.

    Args:
        total: int. The step the run ends at.
        frame_steps: int. Steps below this are warm-up steps. 0 for none.
        clip_len: int. Frames per video clip (for the first video estimate).
        clock: callable returning seconds. Defaults to `time.monotonic`.
    """

    def __init__(self, total, frame_steps=0, clip_len=1, clock=time.monotonic):
        self.total = int(total)
        self.frame_steps = int(frame_steps)
        self.clip_len = int(clip_len)
        self.clock = clock
        self._seen = {"warm-up": 0, "video": 0, "train": 0}
        self._since = {}  # phase -> (time, steps seen) when its timing started
        self._last = None

    def phase(self, step):
        """`"warm-up"`, `"video"` or `"train"` (frame mode) for a finished `step`."""
        if not self.frame_steps:
            return "video" if self.clip_len > 1 else "train"
        return "warm-up" if step <= self.frame_steps else "video"

    def tick(self, step):
        """Records that `step` (1-based, the trainer's counter) has just finished."""
        phase = self.phase(step)
        self._seen[phase] += 1
        if self._seen[phase] == _TIMED_AFTER:
            self._since[phase] = (self.clock(), self._seen[phase])
        self._last = step

    def rate(self, phase):
        """Measured steps/s of `phase`, or None before it has been timed."""
        if phase not in self._since:
            return None
        start, seen = self._since[phase]
        elapsed = self.clock() - start
        done = self._seen[phase] - seen
        return done / elapsed if done > 0 and elapsed > 0 else None

    def eta(self):
        """Seconds left to `total`, or None while nothing has been timed."""
        step = self._last or 0
        warm_left = max(0, min(self.frame_steps, self.total) - step)
        video_left = self.total - step - warm_left
        warm_rate, video_rate = self.rate("warm-up"), self.rate("video")
        if not self.frame_steps:
            rate = self.rate(self.phase(step + 1))
            return None if rate is None else (self.total - step) / rate
        if video_rate is None and warm_rate is not None:
            video_rate = warm_rate / (VIDEO_STEP_COST_PER_FRAME * self.clip_len)
        if (warm_left and warm_rate is None) or (video_left and video_rate is None):
            return None
        return (warm_left / warm_rate if warm_left else 0.0) + (
            video_left / video_rate if video_left else 0.0
        )


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}:{seconds % 60:02d}"


class ProgressLine:
    """One status line: `warm-up  1200/1560 [=====>  ] d 1.21 g 0.93 5.4 step/s ETA 2:10`.

    Losses are smoothed with an exponential moving average, so the line shows a trend
    rather than one step's noise.

    Args:
        clock: a `PhaseClock`.
        keys: log keys shown, in order, with their short names.
        smoothing: float in [0, 1). Weight of the past in the moving average.
        width: int. Characters of the bar.
    """

    KEYS = (("d_loss", "d"), ("g_loss", "g"), ("t_real", "t_real"), ("t_fake", "t_fake"))

    def __init__(self, clock, keys=KEYS, smoothing=0.9, width=24):
        self.clock = clock
        self.keys = keys
        self.smoothing = smoothing
        self.width = width
        self.smoothed = {}

    def update(self, step, logs):
        """Records `step`'s logs; returns the line to show (no newline)."""
        self.clock.tick(step)
        for key, _ in self.keys:
            if key in logs:
                old = self.smoothed.get(key)
                value = float(logs[key])
                self.smoothed[key] = value if old is None else (
                    self.smoothing * old + (1 - self.smoothing) * value
                )
        return self.render(step)

    def render(self, step):
        total = max(self.clock.total, 1)
        filled = int(self.width * min(step, total) / total)
        bar = "=" * filled + (">" if filled < self.width else "") + " " * (self.width - filled - 1)
        phase = self.clock.phase(step)
        values = " ".join(f"{short} {self.smoothed[k]:.3f}" for k, short in self.keys
                          if k in self.smoothed)
        rate = self.clock.rate(phase)
        eta = self.clock.eta()
        parts = [f"{phase:<7} {step}/{self.clock.total} [{bar[:self.width]}]", values,
                 f"{rate:.2f} step/s" if rate else "timing...",
                 f"ETA {_duration(eta)}" if eta is not None else ""]
        return "  ".join(p for p in parts if p)
