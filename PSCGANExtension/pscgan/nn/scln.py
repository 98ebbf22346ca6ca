"""The sequential causal learning network (SCLN, section 4.1, Fig. 4).

One SCLN: a spatial perceptual pathway and a temporal perceptual pathway, each entered by a
stride-2 spatial reduction and made of `residual_blocks` residual stacks of dilated convolutions,
and a multi-attention weighing unit that fuses them. The pathway outputs feed the next SCLN's
pathways (section 4.2: "the generator takes the spatial and temporal perceptual pathway outputs of
the previous SCLN as the input"); the fused output feeds the U-Net skips and the bottleneck.
"""
from __future__ import annotations

from torch import Tensor, nn

from .attention import MultiAttentionUnit
from .config import ModelConfig
from .dilated import spatial_down, spatial_pathway, temporal_down, temporal_pathway, usable_dilations


class SCLN(nn.Module):
    """(xs, xt) each (B, T, C_in, H, W) -> (fs, ft, fused) each (B, T, C_out, H/s, W/s), s = stride (2).

    `size` is the input spatial extent, used to drop dilation rates larger than the feature map.
    A pathway switched off by the configuration returns None.
    """

    def __init__(self, cfg: ModelConfig, in_ch: int, out_ch: int, size: int, stride: int = 2):
        super().__init__()
        if not (cfg.spatial_pathway or cfg.temporal_pathway):
            raise ValueError("an SCLN needs at least one pathway")
        blocks = cfg.residual_blocks
        self.spatial = None
        self.temporal = None
        if cfg.spatial_pathway:
            rates = usable_dilations(cfg.dilations, size // stride)
            self.spatial = nn.Sequential(spatial_down(in_ch, out_ch, stride), spatial_pathway(out_ch, rates, blocks, cfg.separable))
        if cfg.temporal_pathway:
            rates = usable_dilations(cfg.dilations, cfg.frames)
            self.temporal = nn.Sequential(
                temporal_down(in_ch, out_ch, stride), temporal_pathway(out_ch, rates, blocks, cfg.temporal_kernel),
            )
        self.unit = MultiAttentionUnit(
            out_ch, cfg.attention_reduction, cfg.attention_pool,
            spatial=cfg.spatial_pathway, temporal=cfg.temporal_pathway, attention=cfg.multi_attention,
            time_mode=cfg.attention_time,
        )

    def forward(self, xs: Tensor | None, xt: Tensor | None) -> tuple[Tensor | None, Tensor | None, Tensor]:
        fs = self.spatial(xs) if self.spatial is not None else None
        ft = self.temporal(xt) if self.temporal is not None else None
        return fs, ft, self.unit(fs, ft)
