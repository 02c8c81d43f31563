"""Quality of a predicted depth distribution against LiDAR depth, per
feature cell: the depth network's own metrics (CaDDN, Reading et al.,
CVPR 2021, Sec. 4.3 evaluates its depth maps the same way, on the cells
that have a LiDAR depth).

:func:`depth_error_sums` gives additive sums for one batch, so that a
dataset's metrics are :func:`summarize_depth_errors` of the summed sums
(every valid cell weighs the same, whatever its frame).
"""
from typing import Dict, Optional

import torch
from torch import Tensor

#: The keys of :func:`depth_error_sums`.
SUM_KEYS = ('cells', 'abs_rel', 'sq_err', 'delta_1', 'bin_exact',
            'bin_within_1')


def depth_error_sums(logits: Tensor, depth: Tensor, bins,
                     mask: Optional[Tensor] = None) -> Dict[str, float]:
    """Additive error sums of the argmax depth over the valid cells.

    Args:
        logits (Tensor): (B, D + 1, Hf, Wf) depth logits (class D is
            "beyond the range").
        depth (Tensor): (B, Hf, Wf) LiDAR depth per cell, metres; 0 where a
            cell has no point. Only cells with a depth > 0 that falls in
            the bins' range (class < D) count.
        bins (DepthBins): The discretisation of ``logits``.
        mask (Tensor, optional): (B, Hf, Wf) bool; only the valid cells
            inside it count (e.g. the cells of the objects' image boxes,
            :func:`cmkd_mmdet3d.structures.box_foreground_mask`).

    Returns:
        dict[str, float]: ``cells`` (valid cells), and over them the sums of
        the absolute relative error ``|p - g| / g`` (``abs_rel``), of the
        squared error in m^2 (``sq_err``), the count with
        ``max(p / g, g / p) < 1.25`` (``delta_1``), of argmax class equal to
        the target class (``bin_exact``) and within one bin of it
        (``bin_within_1``). The predicted depth ``p`` is the centre of the
        argmax bin, ``depth_max`` when the argmax is "beyond".

    Raises:
        ValueError: if the shapes do not agree.
    """
    if logits.dim() != 4 or depth.shape != (logits.shape[0], ) + tuple(
            logits.shape[2:]) or logits.shape[1] != bins.num_classes:
        raise ValueError(f'logits {tuple(logits.shape)} (expected (B, '
                         f'{bins.num_classes}, Hf, Wf)) and depth '
                         f'{tuple(depth.shape)} (expected (B, Hf, Wf)) '
                         'do not agree')
    if mask is not None and mask.shape != depth.shape:
        raise ValueError(f'mask {tuple(mask.shape)} is not the shape of '
                         f'depth {tuple(depth.shape)}')
    target = bins.targets(depth)
    valid = (target < bins.num_bins) & (depth > 0)
    if mask is not None:
        valid &= mask.bool()
    pred_cls = logits.argmax(1)
    centres = torch.cat([bins.centres(),
                         torch.tensor([bins.depth_max])]).to(logits.device)
    p = centres[pred_cls][valid].double()
    g = depth[valid].double()
    t = target[valid]
    c = pred_cls[valid]
    ratio = torch.maximum(p / g, g / p)
    return dict(
        cells=float(valid.sum()),
        abs_rel=float(((p - g).abs() / g).sum()),
        sq_err=float(((p - g)**2).sum()),
        delta_1=float((ratio < 1.25).sum()),
        bin_exact=float((c == t).sum()),
        bin_within_1=float(((c - t).abs() <= 1).sum()))


def summarize_depth_errors(sums: Dict[str, float]) -> Dict[str, float]:
    """Metrics of summed :func:`depth_error_sums`: ``abs_rel`` (mean),
    ``rmse`` (m), ``delta_1``, ``bin_exact`` and ``bin_within_1``
    (fractions, 0..1) and ``cells``.

    Raises:
        ValueError: without a valid cell.
    """
    n = sums.get('cells', 0)
    if n <= 0:
        raise ValueError('no cell with a LiDAR depth in the bins\' range: '
                         'nothing to evaluate')
    return dict(cells=int(n), abs_rel=sums['abs_rel'] / n,
                rmse=(sums['sq_err'] / n)**0.5,
                delta_1=sums['delta_1'] / n,
                bin_exact=sums['bin_exact'] / n,
                bin_within_1=sums['bin_within_1'] / n)
