# Depth pre-training of the synthetic camera student's depth network
# (dilated ResNet-18 + ASPP + depth head, no lift and no BEV detector) on
# every frame of the world that has an image and a LiDAR sweep: the 160
# labeled train frames and the 160 unlabeled raw frames, with the depth focal
# loss against the projected sweep as the only loss. As the reference does
# on KITTI raw before distillation (Cc-Hy/CMKD issue 54); here it replaces
# the ImageNet / COCO weights that the synthetic configs cannot download.
#
#   python tools/train.py configs/cmkd_mono3d/cmkd-mono3d_r18-aspp-lid40_depth-pretrain_1xb2-onecycle-3e_synkitti-eigen.py \
#       --work-dir work_dirs/depth_pretrain_synkitti [--resume]
#
# Its last checkpoint initialises the depth network of every camera student
# on the world (the student alone and both CMKD stages alike) with
#   --cfg-options model.img_backbone.pretrained=work_dirs/depth_pretrain_synkitti/epoch_3.pth
# (model.student.img_backbone.pretrained for a CMKD config; make demo and
# tools/analysis_tools/seed_benchmark.py --depth-pretrained do this). No
# validation: the run logs loss_depth.
_base_ = [
    '../_base_/models/cmkd-mono3d_r18-aspp-lid40_secfpn-light.py',
    '../_base_/datasets/synkitti-image-3class.py',
    '../_base_/schedules/onecycle-adamw_cpu-8e.py',
    '../_base_/cmkd_runtime_synkitti.py'
]

# the image branch alone: CMKDMono3D.loss_depth_only
model = dict(backbone=None, neck=None, bbox_head=None, train_cfg=None,
             test_cfg=None)

depth_pipeline = [
    dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=4,
         use_dim=4),
    dict(type='LoadImageFromFile'),
    dict(type='ScaleImage3D', scale=_base_.image_scale),
    dict(type='FOVFilterPoints'),
    dict(type='ImageSpaceFlip3D', flip_ratio=0.5),
    dict(type='MakeDepthTarget', stride=8),
    dict(type='PackCMKDInputs', keys=['img'])
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        ignore_keys=_base_.eigen_train_dataset.ignore_keys,
        datasets=[
            dict(d, pipeline=depth_pipeline, filter_empty_gt=False)
            for d in _base_.eigen_train_datasets
        ]))
train_cfg = dict(max_epochs=3, val_interval=1000)
val_cfg = None
val_dataloader = None
val_evaluator = None
test_cfg = None
test_dataloader = None
test_evaluator = None
# no predictions to draw
custom_hooks = []
