"""The networks can learn: a few optimiser steps on one fixed tiny batch lower each phase's loss."""
from __future__ import annotations

import torch

from pscgan.nn.cascade import build_discriminators, build_generators
from pscgan.nn.config import get_config
from training import losses as L

TINY = get_config("tiny")


def fixed_batch(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    cine = torch.rand(2, TINY.frames, TINY.size, TINY.size, generator=g) * 2 - 1
    # labels: a disc of class 1 inside a ring of class 2 with a scar wedge (class 3), else 0
    yy, xx = torch.meshgrid(torch.arange(TINY.size), torch.arange(TINY.size), indexing="ij")
    r = ((yy - 16.0) ** 2 + (xx - 16.0) ** 2).sqrt()
    labels = torch.zeros(TINY.size, TINY.size, dtype=torch.long)
    labels[r < 6] = 1
    labels[(r >= 6) & (r < 9)] = 2
    labels[(r >= 6) & (r < 9) & (xx > 18)] = 3
    labels = labels.expand(2, -1, -1).clone()
    lge = torch.where(labels == 3, 0.9, torch.where(labels == 1, 0.3, -0.8)).unsqueeze(1)
    return cine, labels, lge


def test_each_phase_fits_a_fixed_batch():
    torch.manual_seed(0)
    gens = build_generators(TINY)
    discs = build_discriminators(TINY)
    cine, labels, lge = fixed_batch()
    onehot = torch.nn.functional.one_hot(labels, 4).permute(0, 3, 1, 2).float()

    def phase_loss(name: str) -> torch.Tensor:
        if name == "pri":
            return L.mce(gens.pri(cine, None), labels)
        if name == "sys":
            fake = gens.sys(cine, onehot)
            _, fake_feats = discs["sys"](fake)
            with torch.no_grad():
                _, real_feats = discs["sys"](lge)
            return (L.reconstruction_l1(fake, lge) + L.synthetic_regularisation(fake, 1e-3, 3)
                    + L.content_loss(real_feats, fake_feats))
        return L.mce(gens.seg(cine, lge), labels)

    for name in ("pri", "sys", "seg"):
        gen = getattr(gens, name)
        opt = torch.optim.Adam(gen.parameters(), lr=3e-3)
        with torch.no_grad():
            start = phase_loss(name).item()
        for _ in range(30):
            opt.zero_grad()
            loss = phase_loss(name)
            loss.backward()
            opt.step()
        with torch.no_grad():
            end = phase_loss(name).item()
        assert end < 0.7 * start, (name, start, end)
