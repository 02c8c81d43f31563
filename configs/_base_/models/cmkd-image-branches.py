# The image input and the depth networks of the camera students (image -> depth distribution
# over D + 1 bins and C-channel features at stride 8), one place for the
# KITTI and the surround-view students; num_bins comes from the student's
# depth bins.
# * ResNet-50: the reference's DDNDeepLabV3 (torchvision deeplabv3_resnet50
#   with torchvision's dilation pattern, the whole COCO checkpoint: backbone,
#   ASPP and head 3x3 conv; the last conv and the 1024 -> 64 reduction start
#   fresh), fetched by mmengine's HTTP loader into the torch hub cache (no
#   torchvision needed). Offline: a local copy of the file, or of
#   tools/model_converters/deeplabv3_to_cmkd.py's output. ImageNet ResNet-50
#   alone instead (backbone only): checkpoint=
#   'https://download.pytorch.org/models/resnet50-0676ba61.pth'.
# * ResNet-18: small enough for CPU (the synthetic worlds), from scratch (no
#   download), mmdet's dilation (every block of a stage alike), 32-channel
#   features.
# ImageNet normalisation of the images (BGR files -> RGB); the reference pads
# each batch to its largest image, bottom / right, with zeros after
# normalisation; padding never shifts geometry
cmkd_img_data_preprocessor = dict(
    type='Det3DDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_size_divisor=1)
cmkd_r50_img_backbone = dict(
    type='DepthDistributionNet',
    backbone=dict(
        type='DilatedResNet',
        depth=50,
        num_stages=4,
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4),
        torchvision_dilation=True,
        out_indices=(2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.pytorch.org/models/'
            'deeplabv3_resnet50_coco-cd0a2569.pth')),
    feat_in_channels=1024,
    deep_in_channels=2048,
    feat_channels=64,
    aspp_channels=256,
    aspp_dilations=(12, 24, 36))
cmkd_r18_img_backbone = dict(
    cmkd_r50_img_backbone,
    backbone=dict(cmkd_r50_img_backbone['backbone'], depth=18,
                  torchvision_dilation=False, init_cfg=None),
    feat_in_channels=256,
    deep_in_channels=512,
    feat_channels=32,
    aspp_channels=64,
    aspp_dilations=(4, 8, 12))
