"""Pictures and numbers of BEV feature maps: what distillation does.

Pure functions on (C, Y, X) maps (numpy arrays or tensors) for the per-cell
channel norm, the cosine similarity and the squared distance of a student's
map to the teacher's, and :func:`render_bev_feature_figure`, which lays the
maps and the prediction pictures of :func:`~.draw.render_prediction_panel`
out in one picture with matplotlib (Agg canvas, no display).
``tools/analysis_tools/show_bev_features.py`` drives them.

BEV maps are indexed (C, Y, X): row ``j`` is y (left) from the grid's y0
upwards, column ``i`` is x (forward) from x0 on, as the teacher's scatter
and the student's lift neck make them. :func:`bev_to_display` turns a
(Y, X) map into the orientation of :func:`~.draw.draw_bev` (x forward up,
y left to the left).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

__all__ = ['channel_norm', 'cosine_map', 'mse_per_cell', 'mean_mse',
           'mean_cosine', 'bev_to_display', 'display_extent',
           'render_bev_feature_figure']


def _as_numpy(bev) -> np.ndarray:
    """A float64 numpy copy of an array or (any device) tensor."""
    if hasattr(bev, 'detach'):
        bev = bev.detach().float().cpu().numpy()
    return np.asarray(bev, dtype=np.float64)


def _check_map(bev: np.ndarray, what: str) -> None:
    if bev.ndim not in (3, 4):
        raise ValueError(f'{what} must be (C, Y, X) or (B, C, Y, X), got '
                         f'shape {bev.shape}')


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    _check_map(a, 'the student map')
    _check_map(b, 'the teacher map')
    if a.shape != b.shape:
        raise ValueError(f'BEV maps of shapes {a.shape} and {b.shape} '
                         'cannot be compared cell by cell')


def channel_norm(bev) -> np.ndarray:
    """Per-cell L2 norm over the channels.

    Args:
        bev (np.ndarray | Tensor): (C, Y, X) or (B, C, Y, X).

    Returns:
        np.ndarray: (Y, X) or (B, Y, X) float64, ``sqrt(sum_c bev^2)``.
    """
    bev = _as_numpy(bev)
    _check_map(bev, 'the BEV map')
    return np.sqrt((bev ** 2).sum(-3))


def cosine_map(a, b, eps: float = 1e-12) -> np.ndarray:
    """Per-cell cosine similarity of the channel vectors of two maps.

    Args:
        a (np.ndarray | Tensor): (C, Y, X) or (B, C, Y, X), e.g. a student's
            map.
        b (np.ndarray | Tensor): The same shape, e.g. the teacher's map.
        eps (float): Cells where either vector's norm is at most ``eps``
            (e.g. teacher cells without a LiDAR point) have no direction.

    Returns:
        np.ndarray: (Y, X) or (B, Y, X) float64 in [-1, 1]; NaN where either
        vector vanishes.
    """
    a, b = _as_numpy(a), _as_numpy(b)
    _check_pair(a, b)
    na, nb = np.sqrt((a ** 2).sum(-3)), np.sqrt((b ** 2).sum(-3))
    defined = (na > eps) & (nb > eps)
    dot = (a * b).sum(-3)
    with np.errstate(invalid='ignore', divide='ignore'):
        cos = np.where(defined, dot / np.where(defined, na * nb, 1.0),
                       np.nan)
    return np.clip(cos, -1.0, 1.0)


def mse_per_cell(a, b) -> np.ndarray:
    """Per-cell squared L2 distance divided by the channels: the quantity
    whose mean over the cells is CMKD's BEV loss of one frame (``loss_bev``,
    ``BEVFeatureDistillLoss`` without mask, before its ``loss_weight``).

    Args:
        a (np.ndarray | Tensor): (C, Y, X) or (B, C, Y, X), a student's map.
        b (np.ndarray | Tensor): The same shape, the teacher's map.

    Returns:
        np.ndarray: (Y, X) or (B, Y, X) float64, ``mean_c (a - b)^2``.
    """
    a, b = _as_numpy(a), _as_numpy(b)
    _check_pair(a, b)
    return ((a - b) ** 2).mean(-3)


def mean_mse(a, b) -> float:
    """The frame's mean of :func:`mse_per_cell` (mean over C, Y, X).

    Args:
        a (np.ndarray | Tensor): (C, Y, X) map.
        b (np.ndarray | Tensor): (C, Y, X) map.

    Returns:
        float: 0 for identical maps.
    """
    return float(mse_per_cell(a, b).mean())


def mean_cosine(cos: np.ndarray) -> Tuple[float, float]:
    """Mean of a :func:`cosine_map` over its defined cells.

    Args:
        cos (np.ndarray): (Y, X) cosine map, NaN where undefined.

    Returns:
        tuple[float, float]: (mean cosine, NaN when no cell is defined;
        fraction of defined cells).
    """
    ok = np.isfinite(cos)
    if not ok.any():
        return float('nan'), 0.0
    return float(cos[ok].mean()), float(ok.mean())


def bev_to_display(bev2d) -> np.ndarray:
    """A (Y, X) map in the orientation of :func:`~.draw.draw_bev`.

    Args:
        bev2d (np.ndarray | Tensor): (Y, X), row j = y, column i = x.

    Returns:
        np.ndarray: (X, Y): row 0 is the farthest x (forward up), column 0
        the largest y (left on the left).
    """
    bev2d = _as_numpy(bev2d)
    if bev2d.ndim != 2:
        raise ValueError(f'expected a (Y, X) map, got shape {bev2d.shape}')
    return bev2d[::-1, ::-1].T


def display_extent(xy_range: Sequence[float]
                   ) -> Tuple[float, float, float, float]:
    """matplotlib ``imshow`` extent of a :func:`bev_to_display` picture.

    Args:
        xy_range (Sequence[float]): (x0, y0, x1, y1) of the grid, metres.

    Returns:
        tuple[float]: (left, right, bottom, top) = (y1, y0, x0, x1), metres.
    """
    x0, y0, x1, y1 = xy_range
    return (y1, y0, x0, x1)


def render_bev_feature_figure(
        teacher_bev,
        student_bevs: Dict[str, object],
        panels: Sequence[Tuple[str, np.ndarray]],
        xy_range: Sequence[float],
        title: str = '',
        dpi: int = 80) -> Tuple[np.ndarray, List[Dict[str, float]]]:
    """One picture of a frame: feature maps above, predictions below.

    Row 1: the teacher's channel norm, each student's channel norm (each
    with its own colour bar) and each student's cosine map to the teacher
    (mean cosine and mean MSE in the title). Row 2: the prediction pictures.

    Args:
        teacher_bev (np.ndarray | Tensor): (C, Y, X) teacher map.
        student_bevs (dict[str, np.ndarray | Tensor]): name -> (C, Y, X).
        panels (Sequence[tuple[str, np.ndarray]]): (name, (H, W, 3) BGR
            uint8 picture) per model, e.g. from
            :func:`~.draw.render_prediction_panel`.
        xy_range (Sequence[float]): (x0, y0, x1, y1) of the BEV grid.
        title (str): Figure title.
        dpi (int): Dots per inch of the picture.

    Returns:
        tuple: ((H, W, 3) BGR uint8 picture, one dict per student, in order:
        ``mse`` (mean of :func:`mse_per_cell`), ``cos`` (mean of
        :func:`cosine_map` over its defined cells) and ``cos_cells``
        (fraction of defined cells)).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    extent = display_extent(xy_range)
    n_s = len(student_bevs)
    n_top, n_bottom = 1 + 2 * n_s, max(len(panels), 1)
    width = max(4.2 * n_top, 4.2 * n_bottom)
    # row heights (inches) from the panels' aspect ratios, plus titles
    x0, y0, x1, y1 = xy_range
    top_h = width / n_top * (x1 - x0) / (y1 - y0) + 1.0
    aspect = max([p.shape[0] / p.shape[1] for _, p in panels] or [1.0])
    bottom_h = width / n_bottom * aspect + 0.4
    fig = Figure(figsize=(width, top_h + bottom_h + 0.6), dpi=dpi)
    FigureCanvasAgg(fig)
    outer = fig.add_gridspec(2, 1, height_ratios=[top_h, bottom_h],
                             hspace=0.12, top=0.94, bottom=0.02,
                             left=0.04, right=0.98)
    top = outer[0].subgridspec(1, n_top, wspace=0.35)
    bottom = outer[1].subgridspec(1, n_bottom, wspace=0.05)

    def show(ax, values, label, **kwargs):
        im = ax.imshow(bev_to_display(values), extent=extent,
                       origin='upper', interpolation='nearest', **kwargs)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel('y (m, left)', fontsize=8)
        ax.set_ylabel('x (m, forward)', fontsize=8)
        ax.tick_params(labelsize=7)
        cbar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
        cbar.ax.tick_params(labelsize=7)

    teacher = _as_numpy(teacher_bev)
    show(fig.add_subplot(top[0]), channel_norm(teacher),
         f'teacher |F| per cell (C={teacher.shape[0]})', cmap='viridis')
    stats = []
    for k, (name, bev) in enumerate(student_bevs.items()):
        bev = _as_numpy(bev)
        show(fig.add_subplot(top[1 + k]), channel_norm(bev),
             f'{name}: |F| per cell', cmap='viridis')
        cos = cosine_map(bev, teacher)
        mcos, frac = mean_cosine(cos)
        mse = mean_mse(bev, teacher)
        stats.append(dict(mse=mse, cos=mcos, cos_cells=frac))
        cmap = _cmap_with_bad('coolwarm')
        show(fig.add_subplot(top[1 + n_s + k]), cos,
             f'{name}: cos to teacher\nmean {mcos:.3f} '
             f'({100 * frac:.0f}% cells), MSE {mse:.4g}',
             cmap=cmap, vmin=-1.0, vmax=1.0)
    for k, (name, picture) in enumerate(panels):
        ax = fig.add_subplot(bottom[k])
        ax.imshow(np.ascontiguousarray(picture[..., ::-1]))
        ax.set_title(name, fontsize=10)
        ax.axis('off')
    if title:
        fig.suptitle(title, fontsize=11)
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    return np.ascontiguousarray(rgba[..., 2::-1]), stats


def _cmap_with_bad(name: str, bad: Optional[str] = '0.35'):
    """A copy of a matplotlib colour map drawing NaN cells grey."""
    import matplotlib
    return matplotlib.colormaps[name].with_extremes(bad=bad)
