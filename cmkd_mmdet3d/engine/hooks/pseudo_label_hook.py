"""Offline pseudo-labels for the unlabeled frames of a run (the paper's
semi-supervised method, CMKD, Hong et al. ECCV 2022; the reference's V1,
``Cc-Hy/CMKD:pcdet/models/dense_heads/anchor_head_single_cmkd.py``)."""
import copy
import hashlib
import json
import os
import os.path as osp
import sys
import time
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dist import barrier, get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmdet3d.registry import HOOKS, TRANSFORMS
from ...utils.atomic_io import atomic_open
from ...datasets.pseudo_labels import (ScoreThr, atomic_pickle,
                                       class_thresholds, load_pseudo_labels,
                                       select_pseudo_boxes)

#: the teacher's input: FOV points of the frame, nothing else
DEFAULT_PIPELINE = [
    dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=4,
         use_dim=4),
    dict(type='FOVFilterPoints', allow_empty=True),
    dict(type='Pack3DDetInputs', keys=['points'])
]


def find_datasets(dataset, types: Sequence[str]) -> list:
    """The datasets of the given class names inside wrappers
    (``ConcatDataset.datasets``, ``RepeatDataset.dataset`` ...)."""
    if type(dataset).__name__ in types:
        return [dataset]
    found = []
    for child in getattr(dataset, 'datasets', []) or []:
        found += find_datasets(child, types)
    inner = getattr(dataset, 'dataset', None)
    if inner is not None and inner is not dataset:
        found += find_datasets(inner, types)
    return found


def model_fingerprint(model: torch.nn.Module) -> str:
    """sha1 of the state dict (names, shapes and bytes)."""
    h = hashlib.sha1()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


class _LabelingSet(torch.utils.data.Dataset):
    """Frames ``keys`` of ``dataset`` through the teacher's pipeline; a
    frame that fails to load comes back as ``dict(failed=reason)``."""

    def __init__(self, dataset, indices: List[int], pipeline) -> None:
        from mmengine.dataset import Compose
        self.dataset = dataset
        self.indices = indices
        self.pipeline = Compose([TRANSFORMS.build(t) if isinstance(t, dict)
                                 else t for t in pipeline])

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict:
        ds = self.dataset
        info = copy.deepcopy(ds.get_data_info(self.indices[i]))
        key = ds.frame_key(info)
        info.pop('ann_info', None)
        info['box_type_3d'] = ds.box_type_3d
        info['box_mode_3d'] = ds.box_mode_3d
        cam = info.get('images', {}).get('CAM2', {})
        if 'height' in cam and 'width' in cam:
            info.setdefault('img_shape', (cam['height'], cam['width']))
        try:
            out = self.pipeline(info)
        except Exception as e:  # noqa: BLE001 - reported, frame skipped
            return dict(key=key, failed=f'{type(e).__name__}: {e}')
        if out is None:
            return dict(key=key, failed='the pipeline dropped the frame')
        out['key'] = key
        return out


def _collate(batch):
    return batch


@HOOKS.register_module()
class PseudoLabelHook(Hook):
    """Label the unlabeled frames of the training set with a LiDAR teacher
    before training and every ``interval`` epochs (the paper's offline
    pseudo-label method).

    The labeler is the distiller's frozen teacher (``runner.model.teacher``)
    unless ``teacher`` (a model config, config path or ``dict(cfg_path=...,
    **overrides)``) and ``teacher_ckpt`` are given. Its own data
    preprocessor voxelises the FOV points; its test-time post-processing
    (score threshold, NMS) applies, then ``score_thr`` per class and the
    BEV range of its voxel grid. Every ``KittiRawDataset`` (``dataset_types``)
    of the train set gets the labels: boxes, labels and scores become its
    frames' ``gt_bboxes_3d`` / ``gt_labels_3d`` / ``gt_scores_3d`` (train
    the student with ``with_gt_loss=True`` and a score-weighted head such as
    ``ScoreWeightedAnchor3DHead``).

    Cache: ``<work_dir>/<cache_dir>/<version>/`` where the version hashes
    the teacher's weights, the thresholds, the range and the frame list; a
    round whose version exists is not recomputed (a frozen teacher labels
    once, whatever ``interval``). Frames are written in shards of
    ``chunk_size``, so a killed run only redoes the unfinished shard; ranks
    split the frames, rank 0 merges ``labels.pkl`` (+ ``manifest.json``) and
    copies it to ``<work_dir>/<cache_dir>/latest.pkl``, the file the
    datasets read (re-read when it changes, also by persistent workers).
    Frames that fail to load are reported, recorded and skipped.

    Args:
        score_thr: float, per-class list or ``{class: thr}``. Defaults to
            0.1 (the reference's post-processing threshold).
        interval (int): Relabel every ``interval`` epochs; 0: before
            training only.
        teacher, teacher_ckpt: An explicit labeler (see above).
        pipeline (list): The teacher's input pipeline.
        batch_size, num_workers (int): Of the labeling loader.
        chunk_size (int): Frames per cache shard.
        cache_dir (str): Relative to the work dir.
        dataset_types (tuple): Class names of the datasets to label.
    """
    priority = 'VERY_HIGH'

    def __init__(self,
                 score_thr: ScoreThr = 0.1,
                 interval: int = 0,
                 teacher: Optional[Union[str, dict]] = None,
                 teacher_ckpt: Optional[str] = None,
                 pipeline: Optional[list] = None,
                 batch_size: int = 1,
                 num_workers: int = 0,
                 chunk_size: int = 32,
                 cache_dir: str = 'pseudo_labels',
                 dataset_types: Sequence[str] = ('KittiRawDataset', ),
                 ) -> None:
        if teacher is not None and not teacher_ckpt:
            raise ValueError('PseudoLabelHook: teacher given without '
                             'teacher_ckpt')
        self.score_thr = score_thr
        self.interval = interval
        self.teacher = teacher
        self.teacher_ckpt = teacher_ckpt
        self.pipeline = pipeline or DEFAULT_PIPELINE
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.chunk_size = chunk_size
        self.cache_dir = cache_dir
        self.dataset_types = tuple(dataset_types)
        self._labeler = None
        self._last_epoch = None
        self.last_round = None      # summary of the last round (for tests)

    # ------------------------------------------------------------------
    def before_train(self, runner) -> None:
        self.label(runner)

    def before_train_epoch(self, runner) -> None:
        if self.interval and runner.epoch % self.interval == 0:
            self.label(runner)

    # ------------------------------------------------------------------
    def labeler(self, runner) -> torch.nn.Module:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if self.teacher is None:
            if not hasattr(model, 'teacher'):
                raise AttributeError(
                    f'PseudoLabelHook: {type(model).__name__} has no teacher'
                    '; give the hook teacher=... and teacher_ckpt=...')
            return model.teacher
        if self._labeler is None:
            from ...models.detectors.teacher_utils import (
                build_frozen_teacher, load_teacher_checkpoint)
            labeler = build_frozen_teacher(self.teacher)
            load_teacher_checkpoint(labeler, self.teacher_ckpt)
            device = next(model.parameters()).device
            self._labeler = labeler.to(device)
        return self._labeler

    def label(self, runner) -> Optional[str]:
        """One labeling round; returns the path of ``latest.pkl``."""
        if self._last_epoch == runner.epoch:
            return None
        self._last_epoch = runner.epoch
        datasets = find_datasets(runner.train_dataloader.dataset,
                                 self.dataset_types)
        if not datasets:
            runner.logger.warning('PseudoLabelHook: no dataset of type '
                                  f'{self.dataset_types} in the train set; '
                                  'nothing to label')
            return None
        classes = list(datasets[0].metainfo['classes'])
        for ds in datasets[1:]:
            if list(ds.metainfo['classes']) != classes:
                raise ValueError(
                    'PseudoLabelHook: the datasets to label have different '
                    f'class lists ({classes} and '
                    f"{list(ds.metainfo['classes'])}); one cache cannot "
                    'label both')
        labeler = self.labeler(runner)
        thr = class_thresholds(self.score_thr, classes)
        vl = getattr(labeler.data_preprocessor, 'voxel_layer', None)
        pcr = list(vl.point_cloud_range) if vl is not None else None
        bev_range = [pcr[0], pcr[1], pcr[3], pcr[4]] if pcr else None
        frames = []                 # (dataset, index, key)
        for ds in datasets:
            for i in range(len(ds)):
                frames.append((ds, i, ds.frame_key(ds.get_data_info(i))))
        h = hashlib.sha1()
        h.update(model_fingerprint(labeler).encode())
        h.update(json.dumps(dict(thr=thr.tolist(), range=bev_range,
                                 classes=classes)).encode())
        for _, _, key in frames:
            h.update(key.encode())
        version = h.hexdigest()[:12]
        root = osp.join(runner.work_dir, self.cache_dir)
        vdir = osp.join(root, version)
        merged = osp.join(vdir, 'labels.pkl')
        latest = osp.join(root, 'latest.pkl')
        t0 = time.time()
        rank, world = get_dist_info()
        todo = 0
        if not osp.exists(merged):
            done = self._finished_keys(vdir)
            # every rank splits the same list: none writes before all read
            barrier()
            mine = [f for f in frames if f[2] not in done][rank::world]
            todo = len(mine)
            runner.logger.info(
                f'PseudoLabelHook: epoch {runner.epoch}, version {version}: '
                f'{len(frames)} frames, {len(done)} already in the cache, '
                f'{todo} to label on rank {rank}/{world}; thresholds '
                f'{ {c: round(float(t), 4) for c, t in zip(classes, thr)} }')
            self._label_frames(labeler, mine, thr, bev_range, vdir, rank)
            barrier()
            if rank == 0:
                self._merge(vdir, merged, frames, dict(
                    version=version, classes=classes,
                    score_thr=thr.tolist(), bev_range=bev_range,
                    epoch=runner.epoch, teacher_ckpt=self.teacher_ckpt))
            barrier()
        if rank == 0:
            data = load_pseudo_labels(merged)
            if not osp.exists(latest) or \
                    load_pseudo_labels(latest)['meta'].get(
                        'version') != version:
                atomic_pickle(data, latest)
            self._report(runner, data, version, todo, time.time() - t0)
        barrier()
        for ds in datasets:
            ds.pseudo_labels = latest
        return latest

    # ------------------------------------------------------------------
    @staticmethod
    def _shards(vdir: str) -> List[str]:
        if not osp.isdir(vdir):
            return []
        return sorted(osp.join(vdir, f) for f in os.listdir(vdir)
                      if f.startswith('part-') and f.endswith('.pkl'))

    def _finished_keys(self, vdir: str) -> set:
        done = set()
        for path in self._shards(vdir):
            part = load_pseudo_labels(path)
            done.update(part['frames'])
            done.update(part['failed'])
        return done

    @torch.no_grad()
    def _label_frames(self, labeler, frames, thr, bev_range, vdir,
                      rank) -> None:
        from mmengine.dataset import pseudo_collate
        from mmengine.utils import ProgressBar
        if not frames:
            return
        os.makedirs(vdir, exist_ok=True)
        by_ds = {}
        for ds, i, _ in frames:
            by_ds.setdefault(id(ds), (ds, []))[1].append(i)
        bar = ProgressBar(len(frames), file=sys.stdout) if rank == 0 \
            else None
        shard = dict(frames={}, failed={})
        for ds, indices in by_ds.values():
            loader = torch.utils.data.DataLoader(
                _LabelingSet(ds, indices, self.pipeline),
                batch_size=self.batch_size, num_workers=self.num_workers,
                collate_fn=_collate, shuffle=False)
            for batch in loader:
                good = [b for b in batch if 'failed' not in b]
                for b in batch:
                    if 'failed' in b:
                        shard['failed'][b['key']] = b['failed']
                if good:
                    data = labeler.data_preprocessor(
                        pseudo_collate([{k: v for k, v in b.items()
                                         if k != 'key'} for b in good]),
                        False)
                    results = labeler(**data, mode='predict')
                    for b, res in zip(good, results):
                        pred = res.pred_instances_3d
                        shard['frames'][b['key']] = select_pseudo_boxes(
                            pred.bboxes_3d.tensor[:, :7].cpu().numpy(),
                            pred.labels_3d.cpu().numpy(),
                            pred.scores_3d.cpu().numpy(), thr, bev_range)
                if bar is not None:
                    for _ in batch:
                        bar.update()
                if len(shard['frames']) + len(shard['failed']) >= \
                        self.chunk_size:
                    self._write_shard(vdir, shard, rank)
                    shard = dict(frames={}, failed={})
        if shard['frames'] or shard['failed']:
            self._write_shard(vdir, shard, rank)
        if bar is not None:
            sys.stdout.write('\n')

    @staticmethod
    def _write_shard(vdir: str, shard: dict, rank: int) -> None:
        name = f'part-{time.time_ns():020d}-r{rank}.pkl'
        atomic_pickle(shard, osp.join(vdir, name))

    def _merge(self, vdir: str, merged: str, frames, meta: dict) -> None:
        out = dict(meta=meta, frames={}, failed={})
        for path in self._shards(vdir):
            part = load_pseudo_labels(path)
            out['frames'].update(part['frames'])
            out['failed'].update(part['failed'])
        missing = [k for _, _, k in frames
                   if k not in out['frames'] and k not in out['failed']]
        if missing:
            raise RuntimeError(f'PseudoLabelHook: {len(missing)} frames '
                               f'missing from the shards in {vdir}, e.g. '
                               f'{missing[:3]}')
        meta['num_frames'] = len(out['frames'])
        meta['num_failed'] = len(out['failed'])
        atomic_pickle(out, merged)
        with atomic_open(osp.join(vdir, 'manifest.json'), 'w') as f:
            json.dump(dict(meta, failed=out['failed']), f, indent=1)

    def _report(self, runner, data: dict, version: str, labeled: int,
                seconds: float) -> None:
        classes = data['meta'].get('classes', [])
        counts = np.zeros(len(classes), dtype=np.int64)
        scores = []
        for entry in data['frames'].values():
            np.add.at(counts, np.asarray(entry['labels_3d'], np.int64), 1)
            scores.append(np.asarray(entry['scores_3d']))
        s = np.concatenate(scores) if scores else np.zeros(0)
        self.last_round = dict(version=version, frames=len(data['frames']),
                               failed=len(data['failed']), labeled=labeled,
                               boxes=dict(zip(classes, counts.tolist())))
        runner.logger.info(
            f'PseudoLabelHook: version {version}: {len(data["frames"])} '
            f'frames ({labeled} labeled now, {seconds:.1f} s), boxes per '
            f'class {self.last_round["boxes"]}, mean score '
            f'{s.mean() if len(s) else float("nan"):.3f}'
            + (f', {len(data["failed"])} frames failed to load (e.g. '
               f'{next(iter(data["failed"].items()))})'
               if data['failed'] else ''))
