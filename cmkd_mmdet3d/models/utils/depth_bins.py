"""Depth discretisation of CaDDN / CMKD (CaDDN, Reading et al., CVPR 2021,
Sec. 3.1)."""
import torch
from torch import Tensor

from .config_checks import MODES, check_depth_bins  # noqa: F401


def bin_depths(depth: Tensor,
               mode: str = 'LID',
               depth_min: float = 2.0,
               depth_max: float = 46.8,
               num_bins: int = 120,
               target: bool = False) -> Tensor:
    """Continuous depth-bin index of metric depths.

    Args:
        depth (Tensor): Depths in metres, any shape.
        mode (str): 'UD' (uniform), 'SID' (spacing-increasing, log) or 'LID'
            (linear-increasing: bin width grows linearly, bin i starts at
            ``depth_min + delta * i * (i + 1) / 2`` with
            ``delta = 2 (depth_max - depth_min) / (N (N + 1))``).
        depth_min, depth_max (float): Range covered by the bins, metres.
        num_bins (int): N, the number of bins.
        target (bool): If True return int64 classes: ``floor`` of the index,
            with indices < 0, > N or non-finite (missing depth 0 under LID,
            NaN padding) mapped to N, the "beyond" class.

    Returns:
        Tensor: float indices in [0, N] for in-range depths, or int64 classes
        in [0, N] when ``target``.

    Raises:
        ValueError: for a bad mode, depth range or ``num_bins``
            (:func:`check_depth_bins`), naming the key and the value.
    """
    check_depth_bins(mode, depth_min, depth_max, num_bins, 'bin_depths')
    depth = depth.float()
    if mode == 'UD':
        index = (depth - depth_min) / ((depth_max - depth_min) / num_bins)
    elif mode == 'LID':
        delta = 2 * (depth_max - depth_min) / (num_bins * (1 + num_bins))
        index = -0.5 + 0.5 * torch.sqrt(1 + 8 * (depth - depth_min) / delta)
    else:
        log_min = torch.log1p(torch.tensor(float(depth_min)))
        log_max = torch.log1p(torch.tensor(float(depth_max)))
        index = num_bins * (torch.log1p(depth) - log_min) / (log_max - log_min)
    if not target:
        return index
    invalid = (index < 0) | (index > num_bins) | ~torch.isfinite(index)
    index = torch.where(invalid, torch.full_like(index, num_bins), index)
    return index.floor().long()


def bin_edges(mode: str = 'LID',
              depth_min: float = 2.0,
              depth_max: float = 46.8,
              num_bins: int = 120) -> Tensor:
    """Lower edges of the N bins and the upper edge of the last, (N + 1,).

    Raises:
        ValueError: for a bad mode, depth range or ``num_bins``
            (:func:`check_depth_bins`).
    """
    check_depth_bins(mode, depth_min, depth_max, num_bins, 'bin_edges')
    i = torch.arange(num_bins + 1, dtype=torch.float64)
    if mode == 'UD':
        edges = depth_min + (depth_max - depth_min) * i / num_bins
    elif mode == 'LID':
        delta = 2 * (depth_max - depth_min) / (num_bins * (1 + num_bins))
        edges = depth_min + delta * i * (i + 1) / 2
    elif mode == 'SID':
        lo, hi = (torch.log1p(torch.tensor(float(x), dtype=torch.float64))
                  for x in (depth_min, depth_max))
        edges = torch.expm1(lo + (hi - lo) * i / num_bins)
    else:  # pragma: no cover (refused by check_depth_bins)
        raise ValueError(f'unknown depth binning mode {mode!r}')
    return edges.float()
