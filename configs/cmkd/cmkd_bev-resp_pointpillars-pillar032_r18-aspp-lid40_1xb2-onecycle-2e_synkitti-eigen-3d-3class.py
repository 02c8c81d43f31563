# CMKD stage 2 with unlabeled frames, synthetic world (CPU), online soft
# targets (spec 5.1): as the 4-epoch synkitti stage 2, on the 160 labeled
# train frames + 160 unlabeled raw frames, 2 epochs = the same 320
# iterations as the labeled-only stage 2. BEV, response and depth losses on
# every frame; the ground-truth losses (with_gt_loss) on the labeled frames
# only (raw frames carry has_labels=False).
#
#   mim train cmkd_mmdet3d <this config> --cfg-options \
#       model.teacher_ckpt=<teacher>/epoch_12.pth \
#       model.stage1_ckpt=<stage 1 (synkitti-eigen)>/epoch_2.pth
_base_ = [
    './cmkd_bev-resp_pointpillars-pillar032_r18-aspp-lid40_1xb2-onecycle-4e_'
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

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        ignore_keys=['dataset', 'categories', 'info_version', 'split_file'],
        datasets={{_base_.eigen_train_datasets}}))
