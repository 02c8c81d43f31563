"""Input checks around mmcv / mmdet3d loaders that name the bad file.

The stock loaders fail on a bad input with a message that does not say
which file is at fault: a zero-byte PNG ends in OpenCV's
``!buf.empty() in function 'imdecode_'``, a ``.bin`` whose length is not a
multiple of ``load_dim`` float32 in numpy's ``cannot reshape array``, a
foreign info pickle in ``Annotation must have data_list and metainfo
keys`` and a class-name typo in ``tuple.index(x): x not in tuple``.

The ``check_*`` functions are plain checks (``KittiRawDataset`` and the
tests use them directly). :func:`install_input_checks` wraps the loaders
of mmcv / mmdet3d (``LoadImageFromFile``, ``LoadImageFromFileMono3D``,
``LoadPointsFromFile``, ``Det3DDataset``) so that their errors name the
file, the key or the class; a wrapper only acts when the original fails or
before the original would fail, so valid inputs load exactly as before.
It is idempotent and meant for ``cmkd_mmdet3d.compat.apply_all``.
"""
import functools
import inspect
import os.path as osp
import pickle
from typing import Callable, Optional, Sequence

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'

__all__ = [
    'check_image_file', 'check_points_file', 'check_class_names',
    'load_data_list_checked', 'install_input_checks'
]


def check_image_file(path: str) -> None:
    """Refuse an image file that cannot be an image.

    Args:
        path (str): A local image file (other back-ends are not checked).

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: Naming the file, when it is empty (0 bytes) or is a
            ``.png`` without the PNG signature (truncated or foreign).
    """
    if not isinstance(path, str) or '://' in path:
        return
    if not osp.isfile(path):
        raise FileNotFoundError(f'image {path} not found')
    size = osp.getsize(path)
    if size == 0:
        raise ValueError(f'image {path} is empty (0 bytes)')
    if path.lower().endswith('.png'):
        with open(path, 'rb') as f:
            head = f.read(len(PNG_SIGNATURE))
        if head != PNG_SIGNATURE:
            raise ValueError(f'image {path} ({size} bytes) is not a PNG '
                             'file (no PNG signature)')


def check_points_file(path: str, load_dim: int,
                      nbytes: Optional[int] = None) -> None:
    """Refuse a point file that is not N x ``load_dim`` float32.

    Args:
        path (str): The ``.bin`` file (for the message, and for its size
            when ``nbytes`` is None).
        load_dim (int): Features per point (4 for KITTI: x, y, z,
            intensity).
        nbytes (int, optional): The number of bytes read.

    Raises:
        ValueError: Naming the file, its size and ``load_dim``.
    """
    if nbytes is None:
        if not isinstance(path, str) or not osp.isfile(path):
            return
        nbytes = osp.getsize(path)
    if nbytes % (4 * load_dim):
        raise ValueError(
            f'point file {path} has {nbytes} bytes, not a multiple of '
            f'{4 * load_dim} (N points x load_dim={load_dim} float32): a '
            'truncated file or the wrong load_dim')


def check_class_names(classes: Sequence[str], known: Sequence[str],
                      source: str) -> None:
    """Refuse class names that the dataset does not know.

    Args:
        classes (Sequence[str]): ``metainfo['classes']`` of a dataset
            config.
        known (Sequence[str]): The classes of the dataset type
            (``METAINFO['classes']``).
        source (str): The dataset (type and info file) for the message.

    Raises:
        ValueError: ``unknown class 'Carr' in <source>; known: [...]``.
    """
    if isinstance(classes, str):
        raise ValueError(f'metainfo.classes of {source} must be a list of '
                         f'class names, got the string {classes!r}')
    for name in classes:
        if name not in known:
            raise ValueError(f'unknown class {name!r} in metainfo.classes '
                             f'of {source}; known: {list(known)}')


def _dataset_source(dataset) -> str:
    return f'{type(dataset).__name__}(ann_file={dataset.ann_file})'


_INFO_HINT = ('expected an mmdet3d >= 1.1 info pickle, a dict with '
              "'metainfo' and 'data_list' (tools/create_data.py or "
              "mmdet3d's tools/create_data.py write one)")


def load_data_list_checked(dataset, load: Callable[[], list]) -> list:
    """Run ``load`` (a dataset's ``load_data_list``) so that a truncated,
    empty or foreign info file is refused with its name.

    Args:
        dataset: The dataset (its ``ann_file`` names the file).
        load (Callable): The original ``load_data_list`` of the dataset,
            bound.

    Returns:
        list: What ``load`` returns.

    Raises:
        ValueError: ``<ann_file>: <the original error>`` with what the file
            should hold, for the errors of reading and checking the file
            (``EOFError``, ``UnpicklingError``, mmengine's ``TypeError`` /
            ``ValueError`` on its structure); errors that already name the
            file pass unchanged.
    """
    from ..utils.safe_pickle import UnsafePickleError
    path = str(dataset.ann_file)
    if osp.isfile(path) and osp.getsize(path) == 0:
        raise ValueError(f'info file {path} is empty (0 bytes); '
                         f'{_INFO_HINT}')
    try:
        return load()
    except UnsafePickleError:
        raise
    except (EOFError, pickle.UnpicklingError, TypeError, ValueError,
            KeyError, AttributeError) as e:
        msg = str(e)
        if path in msg:
            raise
        structural = isinstance(e, (EOFError, pickle.UnpicklingError)) or \
            'annotation' in msg.lower() or 'data_list' in msg
        hint = f'; {_INFO_HINT}' if structural else ''
        raise ValueError(f'info file {path}: {type(e).__name__}: {msg}'
                         f'{hint}') from e


# ---------------------------------------------------------------------------
# wrappers of the stock loaders
_MARK = '_cmkd_input_checked'


def _wrap_image_transform(orig):

    @functools.wraps(orig)
    def transform(self, results):
        try:
            return orig(self, results)
        except Exception as e:
            path = results.get('img_path')
            if path is None or str(path) in str(e):
                raise
            check_image_file(path)          # raises for a bad file
            raise ValueError(f'cannot load image {path}: '
                             f'{type(e).__name__}: {e}') from e

    setattr(transform, _MARK, True)
    return transform


def _wrap_load_points(orig):

    @functools.wraps(orig)
    def _load_points(self, pts_filename):
        try:
            points = orig(self, pts_filename)
        except Exception as e:
            if str(pts_filename) in str(e):
                raise
            check_points_file(pts_filename, getattr(self, 'load_dim', 1))
            raise ValueError(f'cannot load points {pts_filename}: '
                             f'{type(e).__name__}: {e}') from e
        load_dim = getattr(self, 'load_dim', None)
        if load_dim and points.size % load_dim:
            check_points_file(pts_filename, load_dim,
                              nbytes=points.size * points.itemsize)
        return points

    setattr(_load_points, _MARK, True)
    return _load_points


def _wrap_load_data_list(orig):

    @functools.wraps(orig)
    def load_data_list(self):
        return load_data_list_checked(self, lambda: orig(self))

    setattr(load_data_list, _MARK, True)
    return load_data_list


def _wrap_det3d_init(orig):
    sig = inspect.signature(orig)

    @functools.wraps(orig)
    def __init__(self, *args, **kwargs):
        try:
            bound = sig.bind_partial(self, *args, **kwargs).arguments
        except TypeError:
            bound = {}
        metainfo = bound.get('metainfo')
        known = getattr(type(self), 'METAINFO', {}).get('classes')
        if isinstance(metainfo, dict) and 'classes' in metainfo and known:
            ann = bound.get('ann_file', '')
            root = bound.get('data_root') or ''
            check_class_names(
                metainfo['classes'], known,
                f'{type(self).__name__}(ann_file='
                f'{osp.join(root, ann) if ann else ann})')
        return orig(self, *args, **kwargs)

    setattr(__init__, _MARK, True)
    return __init__


def _install(cls, name: str, wrapper) -> bool:
    orig = cls.__dict__.get(name)
    if orig is None:
        orig = getattr(cls, name)
    if getattr(orig, _MARK, False):
        return False
    setattr(cls, name, wrapper(orig))
    return True


def install_input_checks() -> bool:
    """Make the stock loaders name the bad file, key or class.

    Wraps ``mmcv.transforms.LoadImageFromFile.transform`` and
    ``mmdet3d``'s ``LoadImageFromFileMono3D.transform`` (a zero-byte or
    non-PNG image), ``LoadPointsFromFile._load_points`` (a ``.bin`` that is
    not N x ``load_dim`` float32), ``Det3DDataset.load_data_list`` (a
    truncated, empty or foreign info pickle) and ``Det3DDataset.__init__``
    (a class name of ``metainfo.classes`` that the dataset type does not
    know). Idempotent.

    Returns:
        bool: Whether anything was wrapped by this call.
    """
    from mmcv.transforms import LoadImageFromFile
    from mmdet3d.datasets import Det3DDataset
    from mmdet3d.datasets.transforms.loading import (LoadImageFromFileMono3D,
                                                     LoadPointsFromFile)
    done = [
        _install(LoadImageFromFile, 'transform', _wrap_image_transform),
        _install(LoadImageFromFileMono3D, 'transform',
                 _wrap_image_transform),
        _install(LoadPointsFromFile, '_load_points', _wrap_load_points),
        _install(Det3DDataset, 'load_data_list', _wrap_load_data_list),
        _install(Det3DDataset, '__init__', _wrap_det3d_init),
    ]
    return any(done)
