"""Self-attention (eq. 4-6) and the multi-attention weighing unit (section 4.1.2, eq. 7).

Why this formulation. The paper attends over all N positions of a C x N feature map. For the first
SCLN that is N = 25 x 32 x 32 = 25,600 positions, an N x N score matrix of 655 M entries per slice:
it does not fit in memory, let alone on a CPU. We keep the paper's meaning (every position is
re-weighted by softmax-normalised query/key similarities, f/g/h with C/8 channels, output v(.),
learnable gamma) but factor the N x N attention into two axial steps:

1. spatial, within each frame: every query pixel attends to the frame's keys/values max-pooled to at
   most `pool x pool` positions (the SAGAN/"pooled keys" trick);
2. temporal, at each pixel: every query frame t attends to the step-1 results of frames t' <= t at
   the same pixel, with a causal mask.

So each position still gathers information from every (pooled) position of every earlier frame,
the cost is O(T * HW * pool^2 + HW * T^2) instead of O((T * HW)^2), and - because step 1 never mixes
frames and step 2 is causally masked - the attention preserves the SCLN's causality (no leak from
the future to the past).

`time_mode="frame"` (used by the `cpu` configuration) makes step 2 cheaper: the temporal weights are
computed once per frame pair from the spatially averaged queries/keys and shared by all pixels of
the frame (one (T x T) matrix product instead of one per pixel).

Each self-attention layer returns gamma * O + x with gamma initialised to 0 (SAGAN). The paper writes
the weighed features as alpha * F, beta * F and the unit's output as gamma * O_ST + F_ST; keeping the
identity path in the per-pathway layers too means that at initialisation the unit is the plain sum of
the two pathways and the attention is learnt from there.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .dilated import Pointwise

TIME_MODES = ("pixel", "frame")


def _future_mask(t: int, device: torch.device) -> Tensor:
    """(T, T) bool, True where the key frame (column) is later than the query frame (row)."""
    return torch.ones(t, t, dtype=torch.bool, device=device).triu(1)


class SelfAttention(nn.Module):
    """Axial (spatial pooled + causal temporal) self-attention on (B, T, C, H, W) -> same shape."""

    def __init__(self, channels: int, reduction: int = 8, pool: int = 8, causal: bool = True, time_mode: str = "pixel"):
        super().__init__()
        if time_mode not in TIME_MODES:
            raise ValueError(f"unknown attention time mode {time_mode!r}; choose one of {TIME_MODES}")
        self.time_mode = time_mode
        self.inner = max(1, channels // reduction)
        self.fgh = Pointwise(channels, 3 * self.inner)  # W_f (queries), W_g (keys), W_h (values)
        self.v = Pointwise(self.inner, channels)  # W_v back to C channels
        self.gamma = nn.Parameter(torch.zeros(1))
        self.pool = pool
        self.causal = causal

    def forward(self, x: Tensor) -> Tensor:
        b, t, c, h, w = x.shape
        ci, n = self.inner, h * w
        qkv = self.fgh(x.reshape(b * t, c, h, w))  # (B*T, 3c', H, W)
        q, k = qkv[:, :ci], qkv[:, ci : 2 * ci]
        # Step 1: per frame, queries at every pixel, keys/values max-pooled to <= pool x pool.
        ph, pw = min(h, self.pool), min(w, self.pool)
        kvp = F.adaptive_max_pool2d(qkv[:, ci:], (ph, pw)).flatten(2)  # (B*T, 2c', P)
        kp, vp = kvp[:, :ci], kvp[:, ci:]
        a1 = torch.softmax(torch.bmm(q.flatten(2).transpose(1, 2), kp), dim=-1)  # (B*T, HW, P)
        o = torch.bmm(vp, a1.transpose(1, 2)).view(b, t, ci, n)  # (B, T, c', HW)
        if t > 1 and self.time_mode == "pixel":
            # Step 2: per pixel, query frame t attends to step-1 outputs of frames s <= t.
            q2 = q.reshape(b, t, 1, ci, n)
            k2 = k.reshape(b, 1, t, ci, n)
            s2 = (q2 * k2).sum(dim=3)  # (B, T_query, T_key, HW)
            s2 = self._mask_future(s2, t, dim_extra=True)
            a2 = torch.softmax(s2, dim=2)
            o = (a2.unsqueeze(3) * o.unsqueeze(1)).sum(dim=2)  # (B, T, c', HW)
        elif t > 1:
            # Step 2, frame mode: one causal T x T weighting per slice, shared by all pixels.
            qkm = qkv[:, : 2 * ci].mean(dim=(2, 3)).view(b, t, 2 * ci)  # (B, T, 2c')
            qm, km = qkm[..., :ci], qkm[..., ci:]
            s2 = self._mask_future(torch.bmm(qm, km.transpose(1, 2)), t, dim_extra=False)  # (B, T, T)
            o = torch.bmm(torch.softmax(s2, dim=2), o.reshape(b, t, ci * n)).view(b, t, ci, n)
        out = self.v(o.reshape(b * t, ci, h, w)).view(b, t, c, h, w)
        return torch.addcmul(x, self.gamma, out)  # gamma * O + x

    def _mask_future(self, scores: Tensor, t: int, dim_extra: bool) -> Tensor:
        """-inf where the key frame is later than the query frame (dims 1, 2 are query, key)."""
        if not self.causal:
            return scores
        future = _future_mask(t, scores.device)
        future = future[None, :, :, None] if dim_extra else future[None]
        return scores.masked_fill(future, float("-inf"))


class MultiAttentionUnit(nn.Module):
    """Fuses the spatial and temporal pathway outputs (eq. 7) and weighs the fused features.

    Full unit: SA_s(F_S) + SA_t(F_T) -> F_ST, output SA_st(F_ST) = gamma * O_ST + F_ST.
    Ablations: `attention=False` gives the plain sum F_S + F_T; a missing pathway (None) drops out.
    """

    def __init__(
        self, channels: int, reduction: int, pool: int, spatial: bool, temporal: bool, attention: bool,
        time_mode: str = "pixel",
    ):
        super().__init__()
        self.attention = attention
        if attention:
            def make() -> SelfAttention:
                return SelfAttention(channels, reduction, pool, causal=True, time_mode=time_mode)

            self.spatial_att = make() if spatial else None
            self.temporal_att = make() if temporal else None
            self.fused_att = make()

    def forward(self, fs: Tensor | None, ft: Tensor | None) -> Tensor:
        if self.attention:
            fs = self.spatial_att(fs) if fs is not None else None
            ft = self.temporal_att(ft) if ft is not None else None
        parts = [p for p in (fs, ft) if p is not None]
        fused = parts[0] if len(parts) == 1 else parts[0] + parts[1]  # (B, T, C, H, W)
        return self.fused_att(fused) if self.attention else fused
