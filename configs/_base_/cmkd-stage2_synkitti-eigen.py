# cmkd-stage2_synkitti.py with unlabeled frames: every batch holds 2 labeled
# train frames + 2 unlabeled raw frames of the synthetic world
# (MixedBatchSampler over eigen_train_dataset of
# datasets/synkitti-image-3class.py); an epoch is still one pass over the 160
# labeled frames, so the labeled frames' schedule and the number of steps
# (320) are those of the labeled-only configs, the raw frames come on top.
_base_ = ['./cmkd-stage2_synkitti.py']

train_dataloader = dict(
    batch_size=4,
    sampler=dict(_delete_=True, type='MixedBatchSampler',
                 source_ratio=[2, 2]),
    dataset=dict(_base_.eigen_train_dataset, _delete_=True))
