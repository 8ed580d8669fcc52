import math

import numpy as np
import pytest
from keras import ops

from keras_vidgan import losses

REAL = np.array([[2.0], [-1.0], [0.5]], "float32")
FAKE = np.array([[-3.0], [0.0], [1.5]], "float32")


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _f(x):
    return float(ops.convert_to_numpy(x))


def test_bce_matches_hand_computed_cross_entropy():
    expected = -np.mean(np.log(_sigmoid(REAL))) - np.mean(np.log(1 - _sigmoid(FAKE)))
    assert _f(losses.bce_discriminator_loss(REAL, FAKE)) == pytest.approx(expected, rel=1e-5)
    assert _f(losses.bce_generator_loss(FAKE)) == pytest.approx(
        -np.mean(np.log(_sigmoid(FAKE))), rel=1e-5
    )


def test_bce_hard_coded_values():
    assert _f(losses.bce_discriminator_loss(np.zeros(4), np.zeros(4))) == pytest.approx(2 * math.log(2))
    assert _f(losses.bce_discriminator_loss(REAL, FAKE)) == pytest.approx(1.4524715, rel=1e-5)  # by hand


def test_bce_stable_for_large_logits():
    value = _f(losses.bce_discriminator_loss(np.array([100.0]), np.array([-100.0])))
    assert math.isfinite(value) and value < 1e-30 + 1e-6


def test_least_squares_matches_formula_and_fixes_listing_defect_7():
    d = _f(losses.least_squares_discriminator_loss(REAL, FAKE))
    assert d == pytest.approx(np.mean((REAL - 1) ** 2) + np.mean(FAKE**2), rel=1e-6)
    assert _f(losses.least_squares_generator_loss(FAKE)) == pytest.approx(np.mean((FAKE - 1) ** 2))
    # The listing's mean((D(x) - D(G(z)))**2) is 0 whenever D outputs a constant; ours is not.
    constant = np.full((3, 1), 0.5, "float32")
    assert _f(losses.least_squares_discriminator_loss(constant, constant)) == pytest.approx(0.5)


def test_hinge_matches_formula_and_ignores_samples_beyond_the_margin():
    d = _f(losses.hinge_discriminator_loss(REAL, FAKE))
    expected = np.mean(np.maximum(0, 1 - REAL)) + np.mean(np.maximum(0, 1 + FAKE))
    assert d == pytest.approx(expected, rel=1e-6)
    assert _f(losses.hinge_generator_loss(FAKE)) == pytest.approx(-np.mean(FAKE), rel=1e-6)
    # Real logits above 1 and fake ones below -1 cost D nothing (and give no gradient).
    assert _f(losses.hinge_discriminator_loss(np.full(3, 2.0), np.full(3, -3.0))) == 0.0
    assert _f(losses.hinge_discriminator_loss(np.zeros(3), np.zeros(3))) == pytest.approx(2.0)


@pytest.mark.parametrize("name", ["bce", "lsgan", "hinge"])
def test_losses_accept_any_rank_and_return_float32(name):
    d_loss, g_loss = losses.get_losses(name)
    patch = np.random.randn(2, 4, 4, 1).astype("float16")
    assert ops.convert_to_numpy(d_loss(patch, patch)).dtype == np.float32
    assert ops.convert_to_numpy(g_loss(patch)).shape == ()


def test_unknown_loss_is_a_clear_error():
    with pytest.raises(ValueError, match="one of"):
        losses.get_losses("wasserstein")
