"""Each loss of training/losses.py on small inputs with hand-computed expectations."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from training import losses as L


def t(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def test_hinge_losses_by_hand():
    real = t([[2.0], [0.5], [-3.0]])
    fake = t([[-2.0], [0.0], [1.0]])
    # real: max(0, 1 - D) = 0, 0.5, 4 -> 1.5 ; fake: max(0, 1 + D) = 0, 1, 2 -> 1.0
    assert L.hinge_d(real, fake).item() == pytest.approx(2.5)
    # generator: -mean(D(fake)) for scores [2, 0.5, -3]
    assert L.hinge_g(real).item() == pytest.approx(0.5 / 3)


def test_wgan_and_lsgan_by_hand():
    real = t([2.0, 0.5, -3.0])
    fake = t([-2.0, 0.0, 1.0])
    assert L.wgan_d(real, fake).item() == pytest.approx(-1 / 3 - (-0.5 / 3))
    assert L.wgan_g(fake).item() == pytest.approx(1 / 3)
    # 0.5 * mean((r - 1)^2) = 0.5 * (1 + 0.25 + 16) / 3 ; 0.5 * mean(f^2) = 0.5 * (4 + 0 + 1) / 3
    assert L.lsgan_d(real, fake).item() == pytest.approx(0.5 * 17.25 / 3 + 0.5 * 5 / 3)
    assert L.lsgan_g(fake).item() == pytest.approx(0.5 * (9 + 1 + 0) / 3)
    assert L.adversarial_d("lsgan", real, fake).item() == L.lsgan_d(real, fake).item()
    assert L.adversarial_g("hinge", fake).item() == L.hinge_g(fake).item()
    with pytest.raises(ValueError):
        L.adversarial_d("vanilla", real, fake)


@pytest.mark.parametrize("norm, expected", [(1.0, 0.0), (2.0, 1.0), (0.5, 0.25)])
def test_gradient_penalty_of_linear_critics(norm, expected):
    """D(x) = <w, x> has gradient w everywhere: penalty (||w|| - 1)^2."""
    torch.manual_seed(0)
    w = torch.randn(1, 1, 4, 4, dtype=torch.float64)
    w = w / w.norm() * norm

    def critic(x):
        return (x * w).flatten(1).sum(1, keepdim=True)

    real, fake = torch.randn(3, 1, 4, 4, dtype=torch.float64), torch.randn(3, 1, 4, 4, dtype=torch.float64)
    assert L.gradient_penalty(critic, real, fake).item() == pytest.approx(expected, abs=1e-9)


def test_gradient_penalty_accepts_tuple_critics_and_is_differentiable():
    lin = torch.nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[3.0, 0.0, 4.0, 0.0]]))  # norm 5 -> penalty 16

    def critic(x):
        return lin(x), [x]

    gp = L.gradient_penalty(critic, torch.randn(2, 4), torch.randn(2, 4), eps=torch.tensor([0.3, 0.9]))
    assert gp.item() == pytest.approx(16.0, rel=1e-5)
    gp.backward()
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w|| = 2 * 4 * w / 5
    assert torch.allclose(lin.weight.grad, 8 * lin.weight.detach() / 5, atol=1e-4)


def numpy_mce(logits: np.ndarray, labels: np.ndarray) -> float:
    """Eq. 9 summed over classes, averaged over pixels, straight from probabilities."""
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    y = np.eye(logits.shape[1])[labels].transpose(0, 3, 1, 2)
    per = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    return float(per.sum(axis=1).mean())


def test_mce_matches_the_formula():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 4, 3, 2)) * 3
    labels = rng.integers(0, 4, size=(2, 3, 2))
    got = L.mce(torch.from_numpy(logits), torch.from_numpy(labels))
    assert got.item() == pytest.approx(numpy_mce(logits, labels), rel=1e-9)
    onehot = torch.nn.functional.one_hot(torch.from_numpy(labels), 4).permute(0, 3, 1, 2).double()
    assert L.mce(torch.from_numpy(logits), onehot).item() == pytest.approx(got.item())


def test_mce_hand_example():
    # one pixel, 2 classes, logits (0, 0): p = (0.5, 0.5), label 0
    # class 0: -log 0.5 ; class 1: -log(1 - 0.5) -> total 2 log 2
    logits = torch.zeros(1, 2, 1, 1, dtype=torch.float64)
    assert L.mce(logits, torch.zeros(1, 1, 1, dtype=torch.long)).item() == pytest.approx(2 * math.log(2))
    w = torch.tensor([2.0, 0.0], dtype=torch.float64)
    assert L.mce(logits, torch.zeros(1, 1, 1, dtype=torch.long), w).item() == pytest.approx(2 * math.log(2))


def test_mce_is_stable_and_rejects_bad_labels():
    logits = torch.tensor([[[[80.0]], [[-80.0]], [[0.0]], [[0.0]]]], requires_grad=True)
    loss = L.mce(logits, torch.zeros(1, 1, 1, dtype=torch.long))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    with pytest.raises(ValueError):
        L.mce(torch.zeros(1, 4, 2, 2), torch.full((1, 2, 2), 4))


def numpy_ogs(u: np.ndarray, k: int) -> float:
    m1, m2 = (k - 1) // 2, k // 2
    h, w = u.shape
    total = 0.0
    for i in range(h):
        for j in range(w):
            block = u[max(0, i - m1): i + m2 + 1, max(0, j - m1): j + m2 + 1]
            total += math.sqrt(float((block**2).sum()))
    return total


def test_ogs_on_a_3x3_example_by_hand():
    u = t([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 0.0]]).view(1, 1, 3, 3)
    # K = 2 (m1 = 0, m2 = 1): groups u[i..i+1, j..j+1]: (0,0) -> sqrt(1 + 4); (0,1), (1,0), (1,1) -> 2
    assert L.ogs(u, 2).item() == pytest.approx(math.sqrt(5) + 6, abs=1e-6)
    # K = 1 is the anisotropic L1 norm
    assert L.ogs(u, 1).item() == pytest.approx(3.0, abs=1e-6)
    # K = 3 (m1 = m2 = 1): every position whose 3x3 neighbourhood holds the 1 and/or the 2
    assert L.ogs(u, 3).item() == pytest.approx(numpy_ogs(u[0, 0].numpy(), 3), abs=1e-6)
    assert numpy_ogs(u[0, 0].numpy(), 3) == pytest.approx(4 * math.sqrt(5) + 5 * 2)


def test_ogs_tv_and_synthetic_regularisation():
    rng = np.random.default_rng(1)
    img = rng.normal(size=(2, 1, 5, 4))
    k, nu = 3, 0.3
    expected_tv = np.mean([
        numpy_ogs(im[0, 1:, :] - im[0, :-1, :], k) + numpy_ogs(im[0, :, 1:] - im[0, :, :-1], k) for im in img
    ])
    assert L.ogs_tv(torch.from_numpy(img), k).item() == pytest.approx(expected_tv, rel=1e-9)
    expected = 0.5 * np.mean(img**2) + nu * expected_tv / 20
    assert L.synthetic_regularisation(torch.from_numpy(img), nu, k).item() == pytest.approx(expected, rel=1e-9)
    # a constant image has zero total variation
    assert L.ogs_tv(torch.full((1, 1, 4, 4), 0.7), k).item() == pytest.approx(0.0, abs=1e-5)


def test_content_loss_by_hand():
    real = [t([[[[1.0, 2.0], [3.0, 4.0]]]]), t([[[[0.0]], [[1.0]]]])]
    fake = [t([[[[1.0, 0.0], [3.0, 2.0]]]]), t([[[[1.0]], [[1.0]]]])]
    # layer 1: (0 + 4 + 0 + 4) / 4 = 2 ; layer 2: (1 + 0) / 2 = 0.5
    assert L.content_loss(real, fake).item() == pytest.approx(2.5)
    with pytest.raises(ValueError):
        L.content_loss(real, fake[:1])


def test_auxiliary_size_losses_by_hand():
    real = t([[0.5, 0.2, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25]])
    fake = t([[0.4, 0.2, 0.3, 0.1], [0.25, 0.25, 0.25, 0.25]])
    # L1 per sample: 0.2 and 0 -> mean 0.1
    assert L.auxiliary_size_loss(real, fake).item() == pytest.approx(0.1)
    labels = torch.tensor([[[0, 0], [1, 3]]])  # fractions 0.5, 0.25, 0, 0.25
    assert torch.allclose(L.class_fractions(labels), t([[0.5, 0.25, 0.0, 0.25]]).float())
    pred = t([[0.5, 0.25, 0.1, 0.05]])
    assert L.size_regression_loss(pred, labels).item() == pytest.approx(0.1 + 0.2)


def test_reconstruction_l1_by_hand():
    assert L.reconstruction_l1(t([[1.0, -1.0]]), t([[0.5, 0.0]])).item() == pytest.approx(0.75)
