# CMKD stage 1 with unlabeled frames, synthetic world (CPU): as the 4-epoch
# synkitti stage 1, on the 160 labeled train frames + 160 unlabeled raw
# frames (labels unused in stage 1 anyway), 2 epochs: the same 320
# iterations as the labeled-only stage 1, so the two compare at equal steps.
#
#   python tools/create_data.py synthetic-kitti --out data/synthetic_kitti \
#       --num-train 160 --num-val 40 --num-unlabeled 160
#   mim train cmkd_mmdet3d <this config> \
#       --cfg-options model.teacher_ckpt=work_dirs/<teacher>/epoch_12.pth
_base_ = [
    './cmkd_bev_pointpillars-pillar032_r18-aspp-lid40_1xb2-onecycle-4e_'
    'synkitti-3d-3class.py'
]

epochs = 2
lr = 0.003
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=epochs * 0.4, eta_min=lr,
         begin=0, end=epochs * 0.4, by_epoch=True, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=epochs * 0.6, eta_min=lr * 1e-4,
         begin=epochs * 0.4, end=epochs, by_epoch=True,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingMomentum', T_max=epochs * 0.4, eta_min=0.85,
         begin=0, end=epochs * 0.4, by_epoch=True,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingMomentum', T_max=epochs * 0.6, eta_min=0.95,
         begin=epochs * 0.4, end=epochs, by_epoch=True,
         convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=epochs, val_interval=epochs)

# synthetic train + the unlabeled raw frames (eigen_train_datasets of
# _base_/datasets/synkitti-image-3class.py)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        # the raw infos' own metainfo differs from KITTI's
        ignore_keys=['dataset', 'categories', 'info_version', 'split_file'],
        datasets={{_base_.eigen_train_datasets}}))
