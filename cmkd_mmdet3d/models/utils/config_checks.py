"""Build-time checks of the depth-bin and voxel-grid settings.

The student's depth bins (CaDDN, Reading et al., CVPR 2021, Sec. 3.1: the
``DISCRETIZE`` block of its configs, ``MODE`` / ``NUM_BINS`` / ``DEPTH_MIN`` /
``DEPTH_MAX``) and its voxel grid (``POINT_CLOUD_RANGE`` / ``VOXEL_SIZE``; the
reference rounds ``(max - min) / voxel_size`` to the grid size, so a range
that is not a multiple of the voxel size silently shifts the grid)
are read in several places:
:func:`~cmkd_mmdet3d.models.utils.depth_bins.bin_depths`, ``DepthLiftNeck``,
``DepthDistributionNet``, ``CMKDMono3D`` and the ``CMKD`` grid check. These
functions are the one place that refuses bad values, each error naming the
owner, the key and the value, so a config fails when the model is built and
not at the first forward (or, worse, trains on a silently rounded grid).
"""
import math
from numbers import Integral, Real
from typing import Sequence, Tuple

# the grid arithmetic lives in structures.geometry; GRID_TOLERANCE is
# re-exported here
from ...structures.geometry import GRID_TOLERANCE, grid_size

MODES = ('UD', 'SID', 'LID')


def _where(owner: str) -> str:
    return f'{owner}: ' if owner else ''


def check_num_bins(num_bins, owner: str = '') -> int:
    """``num_bins`` must be a positive integer.

    Args:
        num_bins: The number of depth bins D (the depth head predicts D + 1
            classes, the last one "beyond").
        owner (str): Prefix of the error, e.g. ``'DepthLiftNeck'``.

    Returns:
        int: ``num_bins``.
    """
    if isinstance(num_bins, bool) or not isinstance(num_bins, Integral) \
            or num_bins <= 0:
        raise ValueError(f'{_where(owner)}num_bins must be a positive '
                         f'integer, got {num_bins!r}')
    return int(num_bins)


def check_depth_bins(mode: str, depth_min: float, depth_max: float,
                     num_bins: int, owner: str = '') -> None:
    """Binning mode, depth range and bin count of the depth discretisation.

    Args:
        mode (str): 'UD', 'SID' or 'LID'.
        depth_min, depth_max (float): Range of the bins, metres; finite,
            ``depth_min < depth_max`` and, for 'SID' (``log1p`` spacing),
            ``depth_min > -1``.
        num_bins (int): D > 0.
        owner (str): Prefix of the error, e.g. ``'DepthLiftNeck'``.

    Raises:
        ValueError: naming the key and its value.
    """
    if mode not in MODES:
        raise ValueError(f'{_where(owner)}mode must be one of {MODES} (depth '
                         f'binning), got {mode!r}')
    check_num_bins(num_bins, owner)
    for key, value in (('depth_min', depth_min), ('depth_max', depth_max)):
        if isinstance(value, bool) or not isinstance(value, Real) or \
                not math.isfinite(value):
            raise ValueError(f'{_where(owner)}{key} must be a finite number '
                             f'of metres, got {value!r}')
    if not depth_min < depth_max:
        raise ValueError(f'{_where(owner)}depth_min ({depth_min}) must be '
                         f'below depth_max ({depth_max})')
    if mode == 'SID' and depth_min <= -1:
        raise ValueError(f'{_where(owner)}depth_min ({depth_min}) must '
                         'exceed -1 for SID binning (log1p spacing)')


def check_voxel_grid(point_cloud_range: Sequence[float],
                     voxel_size: Sequence[float],
                     owner: str = '',
                     range_key: str = 'point_cloud_range',
                     voxel_key: str = 'voxel_size',
                     dims: int = 3) -> Tuple[int, ...]:
    """A grid range [x0, y0, z0, x1, y1, z1] and voxel size [vx, vy, vz]:
    positive finite voxel sizes, ``min < max`` and each extent a whole
    number of voxels (within :data:`GRID_TOLERANCE` voxels):
    :func:`~cmkd_mmdet3d.structures.geometry.grid_size` with the tolerance.

    Args:
        point_cloud_range (Sequence[float]): 6 values, metres.
        voxel_size (Sequence[float]): 3 values (at least ``dims``), metres.
        owner (str): Prefix of the error, e.g. ``'DepthLiftNeck'``.
        range_key, voxel_key (str): Config keys named in the error.
        dims (int): How many axes to check (2: x and y only, e.g. a pillar
            grid whose z voxel spans the range).

    Returns:
        tuple[int]: The grid size (X, Y[, Z]) in voxels.

    Raises:
        ValueError: naming the key, the axis and the values.
    """
    return grid_size(point_cloud_range, voxel_size, dims, GRID_TOLERANCE,
                     owner, range_key, voxel_key)
