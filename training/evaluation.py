"""Validation metrics of the cascade: Dice per class and accuracy (masks), SSIM and PSNR (LGE),
scar-size Pearson r.

Conventions: Dice per class is `pscgan.metrics.segmentation.dice` pooled over the whole validation set
(sum of TP, FP, FN over all slices), so a slice without scar neither helps nor hurts the scar Dice by
itself; a class absent from both prediction and reference in the whole set gives NaN. Accuracy is the
pixel accuracy over the set. SSIM and PSNR are `pscgan.metrics.image` on each 2-D slice with data range
2 ([-1, 1]), averaged over slices (PSNR of identical slices, +inf, is left out of the mean). Scar size
is the scar pixel count per slice; its Pearson r is `pscgan.metrics.agreement.pearson`, NaN when either
side is constant or there are fewer than 3 slices.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from pscgan import labels as L
from pscgan.metrics.agreement import pearson
from pscgan.metrics.image import psnr, ssim
from pscgan.metrics.segmentation import dice

CLASS_KEYS = {L.OTHER: "other", L.BLOOD_POOL: "blood", L.HEALTHY_MYOCARDIUM: "myo", L.SCAR: "scar"}


def segmentation_scores(pred: np.ndarray, ref: np.ndarray, prefix: str) -> dict[str, float]:
    """pred, ref (N, H, W) integer labels -> {prefix_accuracy, prefix_dice_<class>, prefix_dice_mean}."""
    pred = np.asarray(pred)
    ref = np.asarray(ref)
    out = {f"{prefix}_accuracy": float((pred == ref).mean()) if ref.size else math.nan}
    dices = []
    for c, name in CLASS_KEYS.items():
        d = dice(ref, pred, c)
        d = math.nan if d is None else d
        out[f"{prefix}_dice_{name}"] = d
        if c != L.OTHER and not math.isnan(d):
            dices.append(d)
    out[f"{prefix}_dice_mean"] = float(np.mean(dices)) if dices else math.nan
    return out


def image_scores(pred: np.ndarray, ref: np.ndarray, prefix: str = "lge") -> dict[str, float]:
    """pred, ref (N, H, W) in [-1, 1] -> {prefix_ssim, prefix_psnr} (means over slices)."""
    ss = [ssim(r, p, data_range=2.0) for p, r in zip(pred, ref)]
    ps = [v for v in (psnr(r, p, data_range=2.0) for p, r in zip(pred, ref)) if math.isfinite(v)]
    return {
        f"{prefix}_ssim": float(np.mean(ss)) if ss else math.nan,
        f"{prefix}_psnr": float(np.mean(ps)) if ps else math.nan,
    }


def pearson_r(x: np.ndarray, y: np.ndarray) -> float:
    r = pearson(x, y).r
    return math.nan if r is None else r


@torch.no_grad()
def predict_arrays(model, cine: np.ndarray, device: torch.device, batch_size: int = 16,
                   last: str = "seg") -> dict[str, np.ndarray]:
    """Run the cascade on cine (N, T, H, W) -> {'mask' (N,H,W) uint8, 'lge' (N,H,W), 'seg' (N,H,W) uint8}.

    `last` ("pri" / "sys" / "seg") stops a progressive cascade after that generator; only the outputs it
    computed are in the result ("pri": mask; "sys": mask and LGE)."""
    was_training = model.training
    model.eval()
    parts: dict[str, list[np.ndarray]] = {}
    for i in range(0, len(cine), batch_size):
        x = torch.as_tensor(np.asarray(cine[i : i + batch_size], np.float32), device=device)
        out = model(x) if last == "seg" else model(x, last=last)  # the U-Net baseline's forward has no `last`
        parts.setdefault("mask", []).append(out.mask_logits.argmax(1).to(torch.uint8).cpu().numpy())
        if out.lge is not None:
            parts.setdefault("lge", []).append(out.lge[:, 0].float().cpu().numpy())
        if out.seg_logits is not None:
            parts.setdefault("seg", []).append(out.seg_logits.argmax(1).to(torch.uint8).cpu().numpy())
    model.train(was_training)
    return {k: np.concatenate(v) for k, v in parts.items()}


def evaluate(model, cine: np.ndarray, lge: np.ndarray, labels: np.ndarray, device: torch.device,
             batch_size: int = 16, has_lge: np.ndarray | None = None, last: str = "seg") -> dict[str, float]:
    """All validation figures of the cascade on one split (see module docstring). The image figures use only
    the samples with a real LGE (`has_lge`, default all); NaN when there is none. `last` as in predict_arrays:
    the figures of the outputs it did not compute are left out."""
    pred = predict_arrays(model, cine, device, batch_size, last=last)
    out: dict[str, float] = {}
    out.update(segmentation_scores(pred["mask"], labels, "mask"))
    if "lge" in pred:
        with_lge = np.ones(len(cine), bool) if has_lge is None else np.asarray(has_lge, bool)
        out.update(image_scores(pred["lge"][with_lge], lge[with_lge], "lge"))  # NaN without any
    if "seg" in pred:
        out.update(segmentation_scores(pred["seg"], labels, "seg"))
        out["scar_size_r"] = pearson_r((pred["seg"] == L.SCAR).sum(axis=(1, 2)), (labels == L.SCAR).sum(axis=(1, 2)))
    return out
