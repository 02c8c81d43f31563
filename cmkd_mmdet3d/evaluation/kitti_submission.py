"""A KITTI test-server submission from mmdet3d's ``KittiMetric``.

mmdet3d 1.4's ``KittiMetric(format_only=True, submission_prefix=P)`` writes
one KITTI label file per test sample to ``P/pred_instances_3d/`` (camera
boxes, 2D boxes from the projected corners, 16 columns with the score), but
three things stand between those files and the zip the server accepts
(devkit_object readme; the server's "Couldn't read: 000000.txt"):

- the files are named by the sample's *position* in the info file, not by
  the frame's id;
- when the first sample has no box, ``KittiMetric`` writes no file at all
  (it tests ``results[0]`` for emptiness), and the server needs a file for
  every frame, empty or not;
- the zip must hold the ``NNNNNN.txt`` files at its root, 7518 of them for
  KITTI (000000 - 007517).

:func:`submission_config` sets a test config up for the test split,
:func:`pack_submission` names the files by frame, fills in the missing ones
and zips them, and :func:`check_submission` reads a zip back as the server
would. ``tools/kitti_submission.py`` runs the three around ``Runner.test``.
"""
import copy
import math
import os
import os.path as osp
import re
import zipfile
from typing import Dict, List, Optional, Sequence

from ..utils.atomic_io import atomic_path

KITTI_TEST_FRAMES = 7518
# the classes of KITTI's label files (DontCare is never predicted)
KITTI_CLASSES = ('Car', 'Van', 'Truck', 'Pedestrian', 'Person_sitting',
                 'Cyclist', 'Tram', 'Misc')
RESULT_SUBDIR = 'pred_instances_3d'
_NAME = re.compile(r'^(\d{6})\.txt$')


def submission_config(cfg,
                      out_dir: str,
                      ann_file: str = 'kitti_infos_test.pkl',
                      split_dir: str = 'testing'):
    """The config ``cfg`` (an mmengine ``Config``) with its test dataloader
    on the test split and its test evaluator writing KITTI files only.

    Args:
        cfg (Config): a student (or CMKD) config with a KITTI test dataset.
        out_dir (str): ``KittiMetric`` writes ``out_dir/kitti_results/
            pred_instances_3d/*.txt`` and ``out_dir/kitti_results/
            pred_instances_3d.pkl``.
        ann_file (str): the test split's info file, relative to the
            dataset's ``data_root`` (``tools/create_data.py kitti`` writes
            ``kitti_infos_test.pkl``).
        split_dir (str): the folder of the test frames: every
            ``data_prefix`` entry starting with ``training/`` is moved
            under it.

    Returns:
        Config: a copy, with ``test_dataloader.dataset`` (``ann_file``,
        ``data_prefix``, ``test_mode=True``, ``load_eval_anns=False``) and
        ``test_evaluator`` (``KittiMetric``, ``format_only=True``,
        ``submission_prefix``, ``pklfile_prefix``) replaced.

    Raises:
        KeyError: a config without ``test_dataloader.dataset.data_root``.
    """
    cfg = copy.deepcopy(cfg)
    ds = cfg.test_dataloader.dataset
    if 'data_root' not in ds:
        raise KeyError('test_dataloader.dataset has no data_root: the test '
                       'split is found under it')
    prefix = dict(ds.get('data_prefix', {}))
    for key, value in prefix.items():
        if isinstance(value, str) and value.startswith('training/'):
            prefix[key] = split_dir + value[len('training'):]
    ds.update(ann_file=ann_file, data_prefix=prefix, test_mode=True,
              load_eval_anns=False)
    results = osp.join(out_dir, 'kitti_results')
    evaluator = dict(cfg.get('test_evaluator') or {})
    if isinstance(cfg.get('test_evaluator'), (list, tuple)):
        raise ValueError('test_evaluator is a list: give the KittiMetric '
                         'alone')
    evaluator.update(type='KittiMetric',
                     ann_file=osp.join(ds['data_root'], ann_file),
                     format_only=True, submission_prefix=results,
                     pklfile_prefix=results)
    cfg.test_evaluator = evaluator
    return cfg


def frame_ids(data_list: Sequence[dict],
              where: str = 'the infos') -> List[str]:
    """The KITTI frame id (``000123``) of each info, in order, from its
    image file name (``images.CAM2.img_path``)."""
    ids = []
    for i, info in enumerate(data_list):
        try:
            path = info['images']['CAM2']['img_path']
        except (KeyError, TypeError):
            raise KeyError(f'{where}: sample {i} has no images.CAM2.img_path')
        stem = osp.splitext(osp.basename(path))[0]
        if not re.fullmatch(r'\d{6}', stem):
            raise ValueError(f'{where}: sample {i} image {path!r} is not '
                             'named as a KITTI frame (6 digits)')
        ids.append(stem)
    if len(set(ids)) != len(ids):
        raise ValueError(f'{where}: frame ids repeat')
    return ids


def pack_submission(result_dir: str, ids: Sequence[str],
                    zip_path: str) -> Dict[str, int]:
    """Zip ``KittiMetric``'s files as the server wants them.

    Args:
        result_dir (str): ``.../kitti_results/pred_instances_3d``, with a
            file ``{position:06d}.txt`` per sample that has boxes.
        ids (sequence[str]): the frame id of each position
            (:func:`frame_ids`).
        zip_path (str): written atomically; ``{frame id}.txt`` at its root
            for every frame, empty for a frame without boxes.

    Returns:
        dict: ``frames``, ``boxes``, ``empty`` (frames without boxes) and
        ``missing`` (files ``KittiMetric`` did not write).

    Raises:
        ValueError: a file in ``result_dir`` for a position beyond the
            infos (the results of another split).
    """
    names = os.listdir(result_dir) if osp.isdir(result_dir) else []
    extra = [n for n in names
             if _NAME.match(n) and int(n[:6]) >= len(ids)]
    if extra:
        raise ValueError(f'{result_dir}: {len(extra)} result files beyond '
                         f'the {len(ids)} samples of the infos (e.g. '
                         f'{sorted(extra)[0]}): results of another split?')
    stats = dict(frames=len(ids), boxes=0, empty=0, missing=0)
    with atomic_path(zip_path) as tmp:
        with zipfile.ZipFile(tmp, 'w', zipfile.ZIP_DEFLATED) as zf:
            for pos, frame in enumerate(ids):
                src = osp.join(result_dir, f'{pos:06d}.txt')
                text = ''
                if osp.isfile(src):
                    with open(src) as f:
                        text = f.read()
                else:
                    stats['missing'] += 1
                n = sum(1 for line in text.splitlines() if line.strip())
                stats['boxes'] += n
                stats['empty'] += n == 0
                zf.writestr(f'{frame}.txt', text)
    return stats


def check_submission(zip_path: str,
                     expected_ids: Optional[Sequence[str]] = None
                     ) -> Dict[str, object]:
    """Read a submission zip as the KITTI server does.

    Every member must be a ``NNNNNN.txt`` file at the zip's root; with
    ``expected_ids`` (default: 000000 - 007517) exactly those frames; every
    non-empty line 16 fields: a KITTI class, then 15 finite numbers
    (truncation, occlusion, alpha, 2D box x1 y1 x2 y2, h w l, x y z,
    rotation_y, score) with x1 <= x2, y1 <= y2 and sizes > 0.

    Returns:
        dict: ``frames``, ``boxes``, ``empty`` and ``per_class`` counts.

    Raises:
        ValueError: naming the member and the line.
    """
    if expected_ids is None:
        expected_ids = [f'{i:06d}' for i in range(KITTI_TEST_FRAMES)]
    per_class: Dict[str, int] = {}
    boxes = empty = 0
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        bad = [n for n in names if not _NAME.match(n)]
        if bad:
            raise ValueError(f'{zip_path}: {bad[0]!r} is not a NNNNNN.txt '
                             'file at the root of the zip (the server reads '
                             'only those)')
        got = {n[:6] for n in names}
        want = set(expected_ids)
        if got != want:
            missing, extra = sorted(want - got), sorted(got - want)
            raise ValueError(
                f'{zip_path}: {len(got)} frames; missing {len(missing)} '
                f'{missing[:3]}, unexpected {len(extra)} {extra[:3]}')
        for name in sorted(names):
            lines = [ln for ln in zf.read(name).decode().splitlines()
                     if ln.strip()]
            empty += not lines
            for k, line in enumerate(lines, 1):
                _check_line(line, f'{zip_path}:{name} line {k}')
                cls = line.split()[0]
                per_class[cls] = per_class.get(cls, 0) + 1
                boxes += 1
    return dict(frames=len(names), boxes=boxes, empty=empty,
                per_class=per_class)


def _check_line(line: str, where: str) -> None:
    fields = line.split()
    if len(fields) != 16:
        raise ValueError(f'{where}: {len(fields)} fields, the server needs '
                         '16 (15 label columns and the score)')
    if fields[0] not in KITTI_CLASSES:
        raise ValueError(f'{where}: unknown class {fields[0]!r}')
    try:
        v = [float(x) for x in fields[1:]]
    except ValueError:
        raise ValueError(f'{where}: not a number in {line!r}')
    if not all(math.isfinite(x) for x in v):
        raise ValueError(f'{where}: a value is not finite')
    x1, y1, x2, y2 = v[3:7]
    if x1 > x2 or y1 > y2:
        raise ValueError(f'{where}: 2D box ({x1}, {y1}, {x2}, {y2}) has '
                         'x1 > x2 or y1 > y2')
    if min(v[7:10]) <= 0:
        raise ValueError(f'{where}: size h w l {v[7:10]} not > 0')
