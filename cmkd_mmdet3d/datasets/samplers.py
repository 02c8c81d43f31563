"""A finite, epoch-based sampler with a fixed number of samples per source
in every batch (labeled : unlabeled)."""
import math
from typing import Iterator, List, Optional, Sequence

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from mmdet3d.registry import DATA_SAMPLERS


def mixed_batches(sizes: Sequence[int], per_batch: Sequence[int],
                  rng: Optional[np.random.Generator] = None
                  ) -> List[List[int]]:
    """Batches of ``per_batch[s]`` indices of each source ``s`` (indices
    into the concatenation of sources of ``sizes``). An epoch is one pass
    over source 0 (the last incomplete batch dropped); the other sources are
    reshuffled and cycled as often as needed. ``rng`` None: no shuffling."""
    offsets = np.cumsum([0] + list(sizes[:-1]))
    num = sizes[0] // per_batch[0]

    def stream(s: int, need: int) -> np.ndarray:
        out = []
        while sum(len(o) for o in out) < need:
            idx = np.arange(sizes[s])
            if rng is not None:
                idx = rng.permutation(idx)
            out.append(idx)
        return np.concatenate(out)[:need] + offsets[s] if out else \
            np.zeros(0, dtype=np.int64)

    parts = [stream(s, num * k).reshape(num, k)
             for s, k in enumerate(per_batch)]
    return [np.concatenate([p[b] for p in parts]).tolist()
            for b in range(num)]


@DATA_SAMPLERS.register_module()
class MixedBatchSampler(Sampler):
    """Every batch holds ``source_ratio[s]`` samples of source ``s`` of a
    ``ConcatDataset`` (e.g. ``[2, 2]``: 2 labeled + 2 unlabeled frames), and
    an epoch is one pass over source 0, so that adding unlabeled frames
    leaves the labeled frames' schedule (and the epoch length) unchanged.
    Unlike ``mmdet.MultiSourceSampler`` it is finite, for
    ``EpochBasedTrainLoop``. Set the dataloader's ``batch_size`` to
    ``sum(source_ratio)``; with several ranks each gets every
    ``world_size``-th batch.
    """

    def __init__(self, dataset, source_ratio: Sequence[int],
                 shuffle: bool = True, seed: Optional[int] = None) -> None:
        sizes = [len(d) for d in getattr(dataset, 'datasets', [])]
        if len(sizes) != len(source_ratio):
            raise ValueError(
                f'MixedBatchSampler: source_ratio {list(source_ratio)} for '
                f'{len(sizes)} sources; wrap the datasets in a '
                'ConcatDataset, one entry per dataset')
        if any(n == 0 for n in sizes):
            raise ValueError(f'MixedBatchSampler: an empty source {sizes}')
        self.sizes = sizes
        self.source_ratio = list(source_ratio)
        self.batch_size = sum(source_ratio)
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.rank, self.world_size = get_dist_info()
        self.epoch = 0
        num = sizes[0] // self.source_ratio[0]
        self.num_batches = math.ceil(
            (num - self.rank) / self.world_size) if num > self.rank else 0

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng(self.seed + self.epoch) \
            if self.shuffle else None
        batches = mixed_batches(self.sizes, self.source_ratio, rng)
        if rng is not None:       # batch order shuffled too
            batches = [batches[i] for i in rng.permutation(len(batches))]
        for batch in batches[self.rank::self.world_size]:
            yield from batch

    def __len__(self) -> int:
        return self.num_batches * self.batch_size

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
