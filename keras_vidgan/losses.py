"""GAN losses: the document's cross-entropy (§3.1.3), the listing's least squares, hinge.

Each family is a pair of pure functions with the same argument names, `real_logits`
and `fake_logits`: the raw discriminator outputs (before any sigmoid), of any rank
(per-frame, per-pair or patch discriminators). Losses are computed in float32 and
reduced to a scalar mean.
"""

from keras import ops

__all__ = [
    "bce_discriminator_loss",
    "bce_generator_loss",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "get_losses",
    "LOSSES",
]


def _f32(x):
    return ops.cast(x, "float32")


def _softplus_mean(x):
    return ops.mean(ops.softplus(_f32(x)))


def bce_discriminator_loss(real_logits, fake_logits):
    """The discriminator's cross-entropy loss of §3.1.3, from logits.

    D is a classifier of real (label 1) against generated (label 0) frames:

        L_D = -E[log sigmoid(D(x))] - E[log(1 - sigmoid(D(G(z))))]
            =  E[softplus(-D(x))] + E[softplus(D(G(z)))]

    where `D(.)` is the logit. The softplus form is the numerically stable one.

    Goodfellow et al., 2014, https://arxiv.org/abs/1406.2661

    Args:
        real_logits: tensor. D's logits on real data, any shape.
        fake_logits: tensor. D's logits on generated data, any shape.

    Returns:
        Scalar float32 loss.

    Example:
    ```python
    bce_discriminator_loss(ops.zeros((4, 1)), ops.zeros((4, 1)))  # 2 * log(2)
    ```
    """
    return _softplus_mean(-_f32(real_logits)) + _softplus_mean(fake_logits)


def bce_generator_loss(fake_logits):
    """The generator's non-saturating cross-entropy loss (§3.1.3), from logits.

    §3.1.3 asks G to minimise D's ability to spot its output. The minimax form
    `E[log(1 - sigmoid(D(G(z))))]` has vanishing gradients while D wins early in
    training, so G instead maximises the log-probability D gives its output:

        L_G = -E[log sigmoid(D(G(z)))] = E[softplus(-D(G(z)))]

    Goodfellow et al., 2014, https://arxiv.org/abs/1406.2661 (section 3).

    Args:
        fake_logits: tensor. D's logits on generated data, any shape.

    Returns:
        Scalar float32 loss.
    """
    return _softplus_mean(-_f32(fake_logits))


def least_squares_discriminator_loss(real_logits, fake_logits):
    """Least-squares discriminator loss (LSGAN), the listing's form corrected.

    listing defect 7: the listing's `mean((D(x) - D(G(z)))**2)` is minimised by any
    D that outputs the same value for real and fake data, so D learns nothing. The
    loss matching the listing's generator loss is LSGAN's (a = 0, b = c = 1):

        L_D = E[(D(x) - 1)^2] + E[D(G(z))^2]

    on D's raw output (the listing squared sigmoid outputs, which saturate).

    Mao et al., 2017, https://arxiv.org/abs/1611.04076

    Args:
        real_logits: tensor. D's raw outputs on real data, any shape.
        fake_logits: tensor. D's raw outputs on generated data, any shape.

    Returns:
        Scalar float32 loss.
    """
    return ops.mean(ops.square(_f32(real_logits) - 1.0)) + ops.mean(
        ops.square(_f32(fake_logits))
    )


def least_squares_generator_loss(fake_logits):
    """Least-squares generator loss (LSGAN), as the listing wrote it.

        L_G = E[(D(G(z)) - 1)^2]

    Mao et al., 2017, https://arxiv.org/abs/1611.04076

    Args:
        fake_logits: tensor. D's raw outputs on generated data, any shape.

    Returns:
        Scalar float32 loss.
    """
    return ops.mean(ops.square(_f32(fake_logits) - 1.0))


def hinge_discriminator_loss(real_logits, fake_logits):
    """The hinge discriminator loss (not in the document; SAGAN, BigGAN, DVD-GAN).

        L_D = E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]

    on D's raw output: D stops being pushed on samples it already scores beyond a
    margin of 1, so it spends its capacity on the ones near the boundary.

    Lim & Ye, 2017, https://arxiv.org/abs/1705.02894; Clark et al., 2019 (DVD-GAN),
    https://arxiv.org/abs/1907.06571

    Args:
        real_logits: tensor. D's raw outputs on real data, any shape.
        fake_logits: tensor. D's raw outputs on generated data, any shape.

    Returns:
        Scalar float32 loss.
    """
    return ops.mean(ops.relu(1.0 - _f32(real_logits))) + ops.mean(ops.relu(1.0 + _f32(fake_logits)))


def hinge_generator_loss(fake_logits):
    """The hinge generator loss: G raises D's raw output on its samples.

        L_G = -E[D(G(z))]

    Lim & Ye, 2017, https://arxiv.org/abs/1705.02894

    Args:
        fake_logits: tensor. D's raw outputs on generated data, any shape.

    Returns:
        Scalar float32 loss.
    """
    return -ops.mean(_f32(fake_logits))


LOSSES = {
    "bce": (bce_discriminator_loss, bce_generator_loss),
    "lsgan": (least_squares_discriminator_loss, least_squares_generator_loss),
    "hinge": (hinge_discriminator_loss, hinge_generator_loss),
}


def get_losses(name):
    """Returns the `(discriminator_loss, generator_loss)` pair named `name`.

    Args:
        name: str. `"bce"` (§3.1.3 cross-entropy, non-saturating), `"lsgan"`
            (least squares, listing defect 7 corrected) or `"hinge"`.

    Returns:
        A tuple of two functions.

    Raises:
        ValueError: if `name` is unknown.
    """
    if name not in LOSSES:
        raise ValueError(
            f"Expected loss to be one of {sorted(LOSSES)}, received: loss={name!r}"
        )
    return LOSSES[name]

