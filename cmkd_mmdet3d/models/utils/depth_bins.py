"""Depth discretisation of CaDDN / CMKD (CaDDN, Reading et al., CVPR 2021,
Sec. 3.1).

:class:`DepthBins` owns the four settings (mode, depth range, number of
bins); the student builds it once and shares it between the depth network
(number of logits), the lift neck (bin positions of the lifted voxels) and
the depth targets. :func:`bin_depths` / :func:`bin_edges` are the functional
forms underneath.
"""
from dataclasses import dataclass, field
from typing import Mapping, Optional, Union

import torch
from torch import Tensor

from .config_checks import MODES, check_depth_bins  # noqa: F401

#: The config keys of the depth discretisation (``DepthLiftNeck`` and the
#: reference's ``DISCRETIZE`` block).
DEPTH_BIN_KEYS = ('mode', 'depth_min', 'depth_max', 'num_bins')


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


def one_hot_depth_logits(classes: Tensor, num_classes: int) -> Tensor:
    """Logits whose softmax is exactly the one-hot distribution of depth
    classes: the depth oracle of the student (LiDAR depth in place of the
    predicted distribution).

    Args:
        classes (Tensor): (B, Hf, Wf) int64 depth classes in [0, D]
            (:meth:`DepthBins.targets`; D = "beyond", no depth).
        num_classes (int): D + 1.

    Returns:
        Tensor: (B, D + 1, Hf, Wf) float32, 0 at the class and -1e4
        elsewhere (``exp(-1e4)`` is 0 in float32, so the softmax is exactly
        one-hot and its gradient finite).

    Raises:
        ValueError: for a class outside [0, D].
    """
    if classes.numel() and (int(classes.min()) < 0
                            or int(classes.max()) >= num_classes):
        raise ValueError(f'depth classes must be in [0, {num_classes - 1}], '
                         f'got [{int(classes.min())}, {int(classes.max())}]')
    hot = torch.nn.functional.one_hot(classes.long(), num_classes)
    return (hot.permute(0, 3, 1, 2).float() - 1) * 1e4


@dataclass(frozen=True)
class DepthBins:
    """The depth discretisation of the student, validated when built.

    One instance is built from the config by ``CMKDMono3D`` and shared by
    ``DepthDistributionNet`` (``num_classes`` logits), ``DepthLiftNeck``
    (where each lifted voxel falls among the bins) and the depth targets
    (:meth:`targets`), so the settings cannot drift apart.

    Args:
        mode (str): 'UD', 'SID' or 'LID' (:meth:`build` defaults to 'LID').
        depth_min, depth_max (float): Range covered by the bins, metres.
        num_bins (int): D; the depth head predicts D + 1 classes, the last
            one "beyond the range".
        owner (str): Prefix of the build-time error, e.g.
            ``'DepthLiftNeck'``; not part of the settings (ignored by
            ``==``).

    Raises:
        ValueError: for a bad mode, depth range or ``num_bins``
            (:func:`check_depth_bins`), naming the owner, key and value.
    """

    mode: str
    depth_min: float
    depth_max: float
    num_bins: int
    owner: str = field(default='', compare=False, repr=False)

    def __post_init__(self) -> None:
        check_depth_bins(self.mode, self.depth_min, self.depth_max,
                         self.num_bins, self.owner or 'DepthBins')
        object.__setattr__(self, 'depth_min', float(self.depth_min))
        object.__setattr__(self, 'depth_max', float(self.depth_max))
        object.__setattr__(self, 'num_bins', int(self.num_bins))

    @classmethod
    def build(cls, cfg: Union['DepthBins', Mapping, None] = None,
              owner: str = '', **defaults) -> 'DepthBins':
        """A ``DepthBins`` from an instance (returned as is), a dict with
        the keys ``depth_min`` / ``depth_max`` / ``num_bins`` and optionally
        ``mode`` ('LID' when absent; ``defaults`` fill missing keys) or None
        (``defaults`` alone).

        Raises:
            ValueError: for unknown or missing keys, or bad values, naming
                ``owner``.
        """
        if isinstance(cfg, DepthBins):
            return cfg
        cfg = dict(dict(mode='LID'), **defaults, **dict(cfg or {}))
        where = owner or 'DepthBins'
        unknown = sorted(set(cfg) - set(DEPTH_BIN_KEYS))
        if unknown:
            raise ValueError(f'{where}: unknown depth-bin keys {unknown}; '
                             f'expected {DEPTH_BIN_KEYS}')
        missing = [k for k in DEPTH_BIN_KEYS if k not in cfg]
        if missing:
            raise ValueError(f'{where}: the depth bins need {missing} '
                             f'(of {DEPTH_BIN_KEYS})')
        return cls(owner=owner, **cfg)

    def as_dict(self) -> dict:
        """dict(mode, depth_min, depth_max, num_bins), the config keys."""
        return {k: getattr(self, k) for k in DEPTH_BIN_KEYS}

    @property
    def num_classes(self) -> int:
        """D + 1: the D bins and "beyond the range"."""
        return self.num_bins + 1

    def index(self, depth: Tensor) -> Tensor:
        """Continuous bin index of metric depths (:func:`bin_depths`)."""
        return bin_depths(depth, self.mode, self.depth_min, self.depth_max,
                          self.num_bins)

    def targets(self, depth: Tensor) -> Tensor:
        """int64 depth classes in [0, D]; missing / out-of-range depths are
        D, "beyond" (:func:`bin_depths` with ``target=True``)."""
        return bin_depths(depth, self.mode, self.depth_min, self.depth_max,
                          self.num_bins, target=True)

    def edges(self) -> Tensor:
        """(D + 1,) bin edges, metres (:func:`bin_edges`)."""
        return bin_edges(self.mode, self.depth_min, self.depth_max,
                         self.num_bins)

    def centres(self) -> Tensor:
        """(D,) bin centres, metres."""
        e = self.edges()
        return (e[:-1] + e[1:]) / 2

    def check_matches(self, num_bins: Optional[int], key: str) -> None:
        """A module's own ``num_bins`` (e.g. ``img_backbone.num_bins``) must
        agree; ValueError naming ``key`` otherwise."""
        if num_bins is not None and num_bins != self.num_bins:
            raise ValueError(f'{key} ({num_bins}) differs from the depth '
                             f'bins\' num_bins ({self.num_bins})')
