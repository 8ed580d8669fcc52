"""The progress line's phases, rates and ETA, on a fake clock."""

import pytest

from keras_vidgan.progress import PhaseClock, ProgressLine


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _run(clock, phase_clock, first, last, seconds_per_step):
    for step in range(first, last + 1):
        clock.now += seconds_per_step
        phase_clock.tick(step)


def test_eta_uses_each_phases_own_rate():
    now = FakeClock()
    clock = PhaseClock(total=110, frame_steps=100, clip_len=8, clock=now)
    assert clock.eta() is None  # nothing timed yet
    _run(now, clock, 1, 50, 0.2)  # warm-up: 5 steps/s
    assert clock.phase(50) == "warm-up" and clock.rate("warm-up") == pytest.approx(5.0)
    # before any video step, a video step is estimated at 1.5 * clip_len warm-up steps
    assert clock.eta() == pytest.approx(50 * 0.2 + 10 * 0.2 * 12)
    _run(now, clock, 51, 100, 0.2)
    _run(now, clock, 101, 105, 3.0)  # video: 3 s a step
    assert clock.phase(101) == "video" and clock.rate("video") == pytest.approx(1 / 3)
    assert clock.eta() == pytest.approx(5 * 3.0)  # the measured video rate replaces the guess


def test_first_steps_of_a_phase_are_not_timed():
    now = FakeClock()
    clock = PhaseClock(total=10, clock=now)
    now.now += 30.0  # the first step traces the graph: slow
    clock.tick(1)
    assert clock.rate("train") is None
    _run(now, clock, 2, 5, 0.5)
    assert clock.rate("train") == pytest.approx(2.0)
    assert clock.eta() == pytest.approx(5 * 0.5)


def test_progress_line_smooths_losses_and_names_the_phase():
    now = FakeClock()
    line = ProgressLine(PhaseClock(total=20, frame_steps=10, clip_len=4, clock=now), smoothing=0.5)
    for step in range(1, 13):
        now.now += 0.1
        text = line.update(step, {"d_loss": float(step % 2), "g_loss": 1.0, "t_real": 0.5})
    assert text.startswith("video   12/20 [")
    assert "d 0.333" in text or "d 0.667" in text  # averaged, not the last value (0 or 1)
    assert "g 1.000" in text and "t_real 0.500" in text and "ETA" in text
    assert len(text.split("[")[1].split("]")[0]) == 24


class _Terminal:
    def __init__(self, tty):
        self.text, self.tty = "", tty

    def write(self, text):
        self.text += text

    def flush(self):
        pass

    def isatty(self):
        return self.tty


class _Model:  # what ProgressLogger reads of a Trainer
    def __init__(self):
        import numpy as np

        self.frame_steps, self.step = 2, np.int64(0)


def _drive(logger, steps):
    class Step:  # `int(trainer.step.numpy())`
        def __init__(self, value):
            self.value = value

        def numpy(self):
            return self.value

    model = _Model()
    model.step = Step(0)
    logger.set_model(model)
    logger.set_params({"total_steps": steps})
    logger.on_train_begin()
    for step in range(1, steps + 1):
        model.step = Step(step)
        logger.on_train_batch_end(step - 1, {"d_loss": 1.0, "g_loss": 2.0})
    logger.on_train_end()


def test_progress_logger_redraws_one_line_on_a_terminal():
    from keras_vidgan.callbacks import ProgressLogger

    terminal = _Terminal(tty=True)
    _drive(ProgressLogger(stream=terminal, clip_len=4, refresh=0.0), 5)
    assert terminal.text.count("\r") == 5 and terminal.text.endswith("\n")
    last = terminal.text.rsplit("\r", 1)[1]
    assert last.startswith("video   5/5 [") and "d 1.000" in last and "g 2.000" in last


def test_progress_logger_prints_lines_to_a_log_file_and_in_quiet_mode(monkeypatch):
    from keras_vidgan import callbacks
    from keras_vidgan.callbacks import ProgressLogger

    # a host booted under log_seconds ago: the monotonic clock is still small
    monkeypatch.setattr(callbacks.time, "monotonic", lambda: 5.0)
    log = _Terminal(tty=False)
    _drive(ProgressLogger(stream=log, log_seconds=3600), 5)  # not a terminal: first and last
    assert "\r" not in log.text
    assert [line.split()[:2] for line in log.text.splitlines()] == [["warm-up", "1/5"], ["video", "5/5"]]
    quiet = _Terminal(tty=True)
    _drive(ProgressLogger(stream=quiet, quiet=True, every=2), 5)
    assert [line.split()[1] for line in quiet.text.splitlines()] == ["2/5", "4/5", "5/5"]
    assert quiet.text.startswith("warm-up 2/5")
