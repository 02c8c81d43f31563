# CMKD stage 2 with unlabeled data: as cmkd_bev-resp_second-res-c64_r50-aspp-li
# d120_2xb4-onecycle-20e_kitti-3d-3class but on KITTI train + eigen-clean KITTI
# raw (about 18.6k frames), 10 epochs, peak lr 0.0002, BEV weight 32, no depth
# loss (no depth maps for the raw frames), spec Appendix A.
_base_ = [
    './cmkd_bev-resp_second-res-c64_r50-aspp-li'
    'd120_2xb4-onecycle-20e_kitti-3d-3class.py'
]

model = dict(
    student=dict(loss_depth=None),
    loss_bev=dict(type='BEVFeatureDistillLoss', loss_weight=32.0))

# 10 epochs of the one-cycle schedule, peak lr 0.0002
epochs = 10
optim_wrapper = dict(optimizer=dict(lr=0.00002))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=epochs * 0.4, eta_min_ratio=10,
         begin=0, end=epochs * 0.4, by_epoch=True, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=epochs * 0.6, eta_min_ratio=1e-3,
         begin=epochs * 0.4, end=epochs, by_epoch=True,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingMomentum', T_max=epochs * 0.4,
         eta_min_ratio=0.85 / 0.95, begin=0, end=epochs * 0.4, by_epoch=True,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingMomentum', T_max=epochs * 0.6,
         eta_min_ratio=1.0, begin=epochs * 0.4, end=epochs, by_epoch=True,
         convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=epochs, val_interval=epochs)

# KITTI train (labels unused) + the unlabeled eigen-clean KITTI raw frames
# (eigen_train_datasets of _base_/datasets/kitti-image-3class.py)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        # the raw infos' own metainfo differs from KITTI's
        ignore_keys=['dataset', 'categories', 'info_version', 'split_file'],
        datasets={{_base_.eigen_train_datasets}}))
