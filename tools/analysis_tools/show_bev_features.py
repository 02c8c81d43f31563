"""Draw what distillation does: the LiDAR teacher's BEV feature map next to
the camera students' maps, and everyone's predictions, one PNG per frame.

    python tools/analysis_tools/show_bev_features.py \
        --teacher-config T.py --teacher-ckpt T.pth --student-config S.py \
        --students "student + CMKD=ckpt1.pth" "student alone=ckpt2.pth" \
        --out-dir DIR [--frames 0 1 2] [--split val] \
        [--data-root data/synthetic_kitti/] [--score-thr 0.3] \
        [--student-score-thr 0.15] [--device cpu] [--all-points]

Row 1 of each picture: the per-cell channel L2 norm of the teacher's BEV map
(before its BEV backbone, the map CMKD distils) and of each student's (after
SCNet), then each student's per-cell cosine similarity to the teacher's map,
titled with its mean and the frame's BEV MSE. Row 2: each model's boxes
(green, score >= ``--score-thr``) on the image and in BEV with the ground
truth (red), teacher first; the students' boxes are drawn from
``--student-score-thr`` when given (a camera student's scores run lower than
its LiDAR teacher's: at the teacher's 0.3 the demo's students draw almost
nothing, although AP ranks boxes by score, not by a threshold), each panel
titled with its threshold and the number of boxes drawn. Maps are drawn like
the BEV pictures: x forward up, y left to the left. ``DIR/index.md`` lists
the pictures and the boxes drawn; the mean per-frame MSE of each student's
map to the teacher's over the drawn frames (the quantity CMKD's
``loss_bev`` minimises, before its weight) is printed.

Students are ``NAME=CHECKPOINT`` (or a bare checkpoint, named by its file),
all with ``--student-config``: a student-only checkpoint
(``student.pth`` of tools/cmkd_two_stage.sh), an mmengine checkpoint of the
student config, or a CMKD checkpoint (``student.*`` / ``teacher.*``, its
student is loaded). Frames are indices into the split's info file; the
teacher sees the frame's LiDAR points restricted to the camera's field of
view, as during distillation (``--all-points``: the whole sweep, as in the
teacher's own evaluation).
"""
import argparse
import copy
import os.path as osp
import re
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

_POINT_LOADERS = ('LoadPointsFromFile', 'LoadPointsFromMultiSweeps')
_PACKERS = ('Pack3DDetInputs', 'PackCMKDInputs')
_TTA_ONLY = ('GlobalRotScaleTrans', 'RandomFlip3D')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(
        description='BEV feature maps of a LiDAR teacher and camera '
        'students, with their predictions, one PNG per frame')
    parser.add_argument('--teacher-config', required=True,
                        help='LiDAR teacher config (voxel-based detector)')
    parser.add_argument('--teacher-ckpt', required=True,
                        help='teacher checkpoint')
    parser.add_argument('--student-config', required=True,
                        help='camera student config (CMKDMono3D)')
    parser.add_argument('--students', nargs='+', required=True,
                        metavar='NAME=CKPT',
                        help='student checkpoints, each NAME=CKPT or CKPT')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument('--frames', nargs='+', type=int, default=[0, 1, 2],
                        help='frame indices in the split (default 0 1 2)')
    parser.add_argument('--split', default='val',
                        help="the student config's info file of this split, "
                        'e.g. '
                        'kitti_infos_<split>.pkl (val)')
    parser.add_argument('--data-root', default=None,
                        help="dataset root (default: the student config's)")
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='lowest score of a drawn box (0.3)')
    parser.add_argument('--student-score-thr', type=float, default=None,
                        help="lowest score of a student's drawn box "
                        '(default: --score-thr)')
    parser.add_argument('--device', default='cpu', help='cpu or cuda[:N]')
    parser.add_argument('--all-points', action='store_true',
                        help='give the teacher the whole sweep instead of '
                        "the camera's field of view")
    return parser.parse_args(argv)


def parse_students(specs: Sequence[str]) -> List[Tuple[str, str]]:
    """``NAME=CKPT`` (split at the first ``=``) or ``CKPT`` -> (name, ckpt).

    Args:
        specs (Sequence[str]): The ``--students`` values.

    Returns:
        list[tuple[str, str]]: (name, checkpoint path) per student.

    Raises:
        ValueError: On an empty name or checkpoint, a repeated name or the
            name ``teacher``.
    """
    out = []
    for spec in specs:
        if '=' in spec and not osp.isfile(spec):
            name, path = (s.strip() for s in spec.split('=', 1))
        else:
            path = spec.strip()
            name = osp.splitext(osp.basename(path))[0]
        if not name or not path:
            raise ValueError(f'--students {spec!r}: expected NAME=CKPT')
        if name == 'teacher':
            raise ValueError(f'--students {spec!r}: the name teacher is '
                             "the LiDAR teacher's")
        if name in [n for n, _ in out]:
            raise ValueError(f'--students: the name {name!r} is used twice')
        out.append((name, path))
    return out


def _need_file(path: str, what: str) -> None:
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} {path} not found')


def _init_registries() -> None:
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    import cmkd_mmdet3d  # noqa: F401  (registers the plugin, shims)


def _points_transforms(teacher_cfg) -> Tuple[list, list]:
    """The teacher test pipeline without its packer: (point loaders, the
    rest), a test-time-augmentation wrapper unwrapped (without its no-op
    flips / rotations)."""
    ds = teacher_cfg.test_dataloader.dataset
    pipeline = ds.get('pipeline', teacher_cfg.get('test_pipeline'))
    flat = []
    for t in copy.deepcopy(list(pipeline)):
        if t['type'] == 'MultiScaleFlipAug3D':
            flat += [u for u in t['transforms']
                     if u['type'] not in _TTA_ONLY]
        else:
            flat.append(t)
    flat = [t for t in flat if t['type'] not in _PACKERS]
    loaders = [t for t in flat if t['type'] in _POINT_LOADERS]
    if not loaders:
        raise ValueError('the teacher test pipeline loads no points '
                         f'({[t["type"] for t in flat]})')
    return loaders, [t for t in flat if t['type'] not in _POINT_LOADERS]


def build_dataset(student_cfg, teacher_cfg, data_root: Optional[str],
                  split: str, fov_filter: bool = True):
    """One test dataset giving each frame's image (the student's test
    pipeline) and points (the teacher's test pipeline).

    Args:
        student_cfg (Config): Student config; its ``test_dataloader``
            dataset is used with its info file of ``split``
            (:func:`split_info_file`).
        teacher_cfg (Config): Teacher config (point transforms).
        data_root (str, optional): Overrides the config's data root.
        split (str): ``val``, ``train`` ...
        fov_filter (bool): Keep the points in the camera's field of view
            (``FOVFilterPoints``), as the distillation pipelines do.

    Returns:
        Det3DDataset: Samples with ``inputs`` ``img`` (3, H, W) and
        ``points`` (N, D) and the camera metainfo.

    Raises:
        FileNotFoundError: Naming a missing info file.
    """
    from mmdet3d.registry import DATASETS
    ds = copy.deepcopy(student_cfg.test_dataloader.dataset)
    t_ds = teacher_cfg.test_dataloader.dataset
    if 'ann_file' not in ds:
        raise ValueError('the student test dataset is '
                         f"{ds.get('type')}, not a dataset with ann_file")
    root = data_root if data_root is not None else ds.get('data_root', '')
    root = root.rstrip('/') + '/' if root else root
    ann = split_info_file(ds['ann_file'], split)
    _need_file(osp.join(root, ann), f'info file of split {split!r}:')
    loaders, points_rest = _points_transforms(teacher_cfg)
    image = [t for t in copy.deepcopy(list(ds.pipeline))
             if t['type'] not in _PACKERS]
    fov = [dict(type='FOVFilterPoints', allow_empty=True)] \
        if fov_filter else []
    ds.update(
        data_root=root, ann_file=ann, test_mode=True,
        modality=dict(use_lidar=True, use_camera=True),
        data_prefix=dict(t_ds.get('data_prefix', {}),
                         **ds.get('data_prefix', {})),
        pipeline=loaders + image + fov + points_rest +
        [dict(type='PackCMKDInputs', keys=['img', 'points'])])
    return DATASETS.build(ds)


def split_info_file(ann_file: str, split: str) -> str:
    """The info file of ``split`` beside the config's: ``kitti_infos_val.pkl``
    -> ``kitti_infos_train.pkl`` for ``train``, ``waymo_infos_val.pkl`` ->
    ``waymo_infos_train.pkl``. A name without a ``_<split>.pkl`` ending is an
    error naming it."""
    head, name = osp.split(ann_file)
    new, n = re.subn(r'_(train|val|test|trainval)\.pkl$', f'_{split}.pkl',
                     name)
    if not n:
        raise ValueError(f'cannot tell the split of the info file {ann_file!r}'
                         ' (expected a name ending in _train / _val / _test '
                         '/ _trainval .pkl)')
    return osp.join(head, new)


def check_frames(frames: Sequence[int], dataset) -> None:
    """Every index must be in ``[0, len(dataset))``, else an IndexError
    naming the info file."""
    n = len(dataset)
    bad = [i for i in frames if not 0 <= i < n]
    if bad:
        raise IndexError(f'frames {bad} out of range: {dataset.ann_file} '
                         f'has {n} frames (0..{n - 1})')


def load_teacher(config: str, ckpt: str, device):
    """The frozen teacher, loaded strictly (errors name the file)."""
    from cmkd_mmdet3d.models.detectors.teacher_utils import (
        build_frozen_teacher, load_teacher_checkpoint)
    teacher = build_frozen_teacher(config)
    load_teacher_checkpoint(teacher, ckpt)
    return teacher.to(device).eval()


def load_student(cfg, ckpt: str, device):
    """A ``CMKDMono3D`` of ``cfg`` with a student-only, mmengine or CMKD
    checkpoint (``CheckpointKeysGuard`` strips ``student.``)."""
    from mmdet3d.registry import MODELS
    from mmengine.runner import load_checkpoint
    model = MODELS.build(copy.deepcopy(cfg.model))
    if not hasattr(model, 'extract_bev'):
        raise TypeError(f'{type(model).__name__} has no extract_bev: the '
                        '--student-config must be a CMKDMono3D config')
    load_checkpoint(model, ckpt, map_location='cpu', strict=True,
                    logger='silent')
    return model.to(device).eval()


def check_grids(teacher, student) -> None:
    """The teacher's and the student's BEV maps must coincide cell for
    cell: the distiller's check (``check_bev_grids``), on the teacher's
    voxelisation settings."""
    from cmkd_mmdet3d.models.detectors.cmkd import check_bev_grids
    check_bev_grids(teacher, student, teacher.data_preprocessor)


@torch.no_grad()
def frame_outputs(teacher, students: Dict[str, torch.nn.Module],
                  sample: dict) -> Tuple[torch.Tensor, Dict, Dict]:
    """BEV maps and predictions of the teacher and the students on one
    frame.

    Args:
        teacher (nn.Module): Voxel-based LiDAR detector.
        students (dict[str, nn.Module]): name -> ``CMKDMono3D``.
        sample (dict): One dataset item (``inputs`` ``img`` / ``points``).

    Returns:
        tuple: (teacher map (C, Y, X), name -> student map (C, Y, X),
        name -> predicted ``Det3DDataSample``, the teacher under
        ``'teacher'``).
    """
    from mmengine.dataset import pseudo_collate

    from cmkd_mmdet3d.models.detectors.teacher_utils import \
        teacher_bev_and_outputs
    batch = pseudo_collate([sample])

    def inputs(model, key):
        data = dict(inputs={key: batch['inputs'][key]},
                    data_samples=copy.deepcopy(batch['data_samples']))
        return model.data_preprocessor(data, training=False)

    data = inputs(teacher, 'points')
    t_bev, _ = teacher_bev_and_outputs(teacher, data['inputs']['voxels'],
                                       1, with_head=False)
    preds = {'teacher': teacher.predict(data['inputs'],
                                        data['data_samples'])[0]}
    bevs = {}
    for name, model in students.items():
        data = inputs(model, 'img')
        bev = model.extract_bev(data['inputs'], data['data_samples'])['bev']
        if bev.shape != t_bev.shape:
            raise ValueError(f'teacher BEV map {tuple(t_bev.shape)} and '
                             f'{name} BEV map {tuple(bev.shape)} differ')
        bevs[name] = bev[0]
        preds[name] = model.predict(data['inputs'], data['data_samples'])[0]
    return t_bev[0], bevs, preds


def write_index(path: str, rows: List[dict], names: List[str],
                means: Dict[str, float], header: str) -> None:
    """``index.md``: one line per picture with each student's BEV MSE and
    mean cosine to the teacher and each model's number of drawn boxes, and
    the means over the frames."""
    from cmkd_mmdet3d.utils.atomic_io import atomic_open
    lines = ['# BEV feature maps, teacher vs students\n', header, '',
             '| frame | picture | ' + ' | '.join(
                 f'{n}: MSE / cos' for n in names) + ' | boxes drawn |',
             '|---|---|' + '---|' * len(names) + '---|']
    for r in rows:
        cells = [f"{s['mse']:.4g} / {s['cos']:.3f}" for s in r['stats']]
        drawn = ', '.join(f'{n} {k}' for n, k in r['drawn'].items())
        lines.append(f"| {r['frame']} | [{osp.basename(r['file'])}]"
                     f"({osp.basename(r['file'])}) | "
                     + ' | '.join(cells) + f' | {drawn} |')
    lines += ['', f'Mean per-frame BEV MSE to the teacher over '
              f'{len(rows)} frames (mean over channels and cells, '
              "CMKD's loss_bev before its weight):", '']
    lines += [f'- {n}: {means[n]:.6g}' for n in names]
    with atomic_open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Run the tool.

    Args:
        argv (Sequence[str], optional): Command line (default sys.argv).

    Returns:
        dict: ``files`` (the PNGs, in frame order), ``index`` (index.md),
        ``mse`` (student name -> mean per-frame BEV MSE to the teacher),
        ``per_frame`` (one dict per frame: ``frame``, ``file``, ``stats``,
        ``drawn``: model name -> boxes drawn, the teacher under
        ``'teacher'``).
    """
    args = parse_args(argv)
    students = parse_students(args.students)
    for path, what in ((args.teacher_config, 'teacher config'),
                       (args.teacher_ckpt, 'teacher checkpoint'),
                       (args.student_config, 'student config')):
        _need_file(path, what)
    for name, path in students:
        _need_file(path, f'checkpoint of student {name!r}:')

    from mmengine.config import Config
    from mmengine.utils import ProgressBar

    from cmkd_mmdet3d.engine.hooks.prediction_vis_hook import \
        PredictionVisHook
    from cmkd_mmdet3d.utils.atomic_io import atomic_path
    from cmkd_mmdet3d.visualization import render_bev_feature_figure
    _init_registries()
    s_cfg = Config.fromfile(args.student_config)
    t_cfg = Config.fromfile(args.teacher_config)
    dataset = build_dataset(s_cfg, t_cfg, args.data_root, args.split,
                            fov_filter=not args.all_points)
    check_frames(args.frames, dataset)

    device = torch.device(args.device)
    teacher = load_teacher(args.teacher_config, args.teacher_ckpt, device)
    models = {name: load_student(s_cfg, path, device)
              for name, path in students}
    for model in models.values():
        check_grids(teacher, model)
    grid = next(iter(models.values())).bev_grid
    x0, y0, x1, y1 = grid.xy_range
    s_thr = args.score_thr if args.student_score_thr is None \
        else args.student_score_thr
    teacher_painter, student_painter = (
        PredictionVisHook(score_thr=thr, bev_range=((x0, x1), (y0, y1)))
        for thr in (args.score_thr, s_thr))
    thr_text = f'{args.score_thr:g}' if s_thr == args.score_thr else \
        f'{args.score_thr:g} (teacher), >= {s_thr:g} (students)'

    names = [n for n, _ in students]
    rows = []
    print(f'drawing {len(args.frames)} {args.split} frames into '
          f'{args.out_dir}')
    bar = ProgressBar(len(args.frames))
    for idx in args.frames:
        t_bev, bevs, preds = frame_outputs(teacher, models, dataset[idx])
        panels, stem, drawn = [], None, {}
        for name in ['teacher'] + names:
            painter = teacher_painter if name == 'teacher' \
                else student_painter
            picture, stem = painter.render_sample(dataset, preds[name])
            drawn[name] = int((preds[name].pred_instances_3d.scores_3d >=
                               painter.score_thr).sum())
            panels.append(('LiDAR teacher' if name == 'teacher' else name,
                           picture))
        figure, stats = render_bev_feature_figure(
            t_bev, bevs, panels, grid.xy_range,
            title=f'{args.split} frame {idx} ({stem}): BEV feature maps '
            f'(C, Y, X) = {tuple(t_bev.shape)}, predictions >= '
            f'{thr_text} green, ground truth red')
        path = osp.join(args.out_dir, f'bev_features_{idx:04d}_{stem}.png')
        with atomic_path(path) as tmp:
            if not cv2.imwrite(tmp, figure):
                raise OSError(f'could not write {path}')
        rows.append(dict(frame=idx, file=path, stats=stats, drawn=drawn))
        bar.update()
    sys.stdout.write('\n')

    means = {n: float(np.mean([r['stats'][k]['mse'] for r in rows]))
             for k, n in enumerate(names)}
    index = osp.join(args.out_dir, 'index.md')
    write_index(index, rows, names, means,
                f'teacher {args.teacher_ckpt} ({args.teacher_config}); '
                f'students ({args.student_config}): '
                + ', '.join(f'{n} = {p}' for n, p in students)
                + f'; boxes drawn from score {thr_text}')
    for r in rows:
        print(f"  frame {r['frame']}: {r['file']}")
    print(f'  index: {index}')
    print(f'mean per-frame BEV MSE to the teacher over {len(rows)} frames '
          "(CMKD's loss_bev before its weight):")
    for n in names:
        print(f'  {n}: {means[n]:.6g}')
    return dict(files=[r['file'] for r in rows], index=index, mse=means,
                per_frame=rows)


if __name__ == '__main__':
    main()
