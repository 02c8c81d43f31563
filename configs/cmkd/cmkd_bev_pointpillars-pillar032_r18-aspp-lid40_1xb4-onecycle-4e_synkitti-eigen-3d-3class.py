# CMKD stage 1 with unlabeled frames, synthetic world (CPU): as the 4-epoch
# synkitti stage 1, but every batch holds 2 labeled train frames + 2
# unlabeled raw frames (MixedBatchSampler); an epoch is still one pass over
# the 160 labeled frames, so the labeled frames' schedule and the number of
# steps (320) equal the labeled-only stage 1, and the raw frames come on top.
#
#   python tools/create_data.py synthetic-kitti --out data/synthetic_kitti \
#       --num-train 160 --num-val 40 --num-unlabeled 160
#   mim train cmkd_mmdet3d <this config> \
#       --cfg-options model.teacher_ckpt=work_dirs/<teacher>/epoch_12.pth
_base_ = [
    './cmkd_bev_pointpillars-pillar032_r18-aspp-lid40_1xb2-onecycle-4e_'
    'synkitti-3d-3class.py'
]

# synthetic train + the unlabeled raw frames (eigen_train_datasets of
# _base_/datasets/synkitti-image-3class.py), 2 + 2 per batch
train_dataloader = dict(
    batch_size=4,
    sampler=dict(_delete_=True, type='MixedBatchSampler',
                 source_ratio=[2, 2]),
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        # the raw infos' own metainfo differs from KITTI's
        ignore_keys=['dataset', 'categories', 'info_version', 'split_file'],
        datasets={{_base_.eigen_train_datasets}}))
