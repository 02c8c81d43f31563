"""Mixed labeled / unlabeled batch sampling (datasets.samplers)."""
import numpy as np
import pytest

from cmkd_mmdet3d.datasets import create_kitti_raw_infos
from _helpers.datasets import _raw_dataset


def test_labeled_unlabeled_ratio_per_batch(synthetic_world, raw_layout,
                                           tmp_path):
    from mmdet.datasets.samplers import MultiSourceSampler
    from mmengine.dataset import ConcatDataset
    root, split, frames, _ = raw_layout
    out = str(tmp_path / 'kitti_infos_eigen.pkl')
    create_kitti_raw_infos(root, split, out, progress=False)
    unlabeled = _raw_dataset(root, out)
    from mmdet3d.registry import DATASETS
    labeled = DATASETS.build(dict(
        type='KittiDataset', data_root=synthetic_world + '/',
        ann_file='kitti_infos_train.pkl',
        data_prefix=dict(pts='training/velodyne_reduced',
                         img='training/image_2'),
        modality=dict(use_lidar=True, use_camera=True), pipeline=[],
        metainfo=dict(classes=['Pedestrian', 'Cyclist', 'Car'])))
    # the infos' own metainfo differs (dataset name, categories, split)
    both = ConcatDataset([labeled, unlabeled], ignore_keys=[
        'dataset', 'categories', 'info_version', 'split_file'])
    sampler = MultiSourceSampler(both, batch_size=4, source_ratio=[1, 3],
                                 shuffle=True, seed=0)
    it = iter(sampler)
    n_lab = len(labeled)
    for _ in range(5):
        batch = [next(it) for _ in range(4)]
        assert sum(i < n_lab for i in batch) == 1, batch
        assert all(0 <= i < len(both) for i in batch)


def test_mixed_batches_by_hand():
    """sizes (5 labeled, 3 unlabeled), 2 + 2 per batch: 2 batches per epoch
    (one pass over the labeled frames, the 5th dropped), unlabeled frames
    cycled; without shuffling the order is fully predictable."""
    from cmkd_mmdet3d.datasets import mixed_batches
    assert mixed_batches([5, 3], [2, 2]) == [[0, 1, 5, 6], [2, 3, 7, 5]]
    rng = np.random.default_rng(0)
    batches = mixed_batches([7, 20], [1, 3], rng)
    assert len(batches) == 7
    assert sorted(b[0] for b in batches) == list(range(7))
    unl = [i for b in batches for i in b[1:]]
    assert all(7 <= i < 27 for i in unl) and len(set(unl)) == 20


def test_mixed_batch_sampler_epochs_and_ranks(monkeypatch):
    from cmkd_mmdet3d.datasets import MixedBatchSampler

    class Both:
        datasets = [list(range(6)), list(range(4))]

    s = MixedBatchSampler(Both(), source_ratio=[2, 2], seed=3)
    assert len(s) == 12
    e0 = list(s)
    assert len(e0) == 12
    for b in range(3):
        batch = e0[4 * b:4 * b + 4]
        assert sum(i < 6 for i in batch) == 2, batch
    assert sorted(i for i in e0 if i < 6) == list(range(6))
    s.set_epoch(1)
    assert list(s) != e0                         # reshuffled per epoch
    s.set_epoch(0)
    assert list(s) == e0                         # and reproducible
    # two ranks: every other batch each, together the whole epoch
    import cmkd_mmdet3d.datasets.samplers as mod
    parts = []
    for rank in (0, 1):
        monkeypatch.setattr(mod, 'get_dist_info', lambda r=rank: (r, 2))
        r = MixedBatchSampler(Both(), source_ratio=[2, 2], seed=3)
        parts.append(list(r))
        assert len(r) == len(parts[-1])
    assert parts[0] + parts[1] == e0[0:4] + e0[8:12] + e0[4:8]
    with pytest.raises(ValueError, match='source_ratio'):
        MixedBatchSampler(Both(), source_ratio=[1, 1, 1])
