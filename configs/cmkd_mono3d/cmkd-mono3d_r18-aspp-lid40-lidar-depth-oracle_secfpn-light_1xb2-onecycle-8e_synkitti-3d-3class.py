# The depth oracle of the synthetic camera student: the same model and
# schedule as cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-onecycle-8e_...,
# but the lift takes the one-hot LiDAR depth bins (the projected sweep at
# the feature stride) instead of the predicted distribution, in training and
# at test time. An upper bound of the lift, the grid and the BEV detector:
# if it stays far below the LiDAR teacher, what limits the students lies
# downstream of depth. Not a camera-only detector (it reads the sweep).
_base_ = ['./cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-onecycle-8e_'
          'synkitti-3d-3class.py']

model = dict(depth_source='lidar')
# the test frames need their depth target too
test_pipeline = [
    dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=4,
         use_dim=4),
    dict(type='LoadImageFromFile'),
    dict(type='ScaleImage3D', scale={{_base_.image_scale}}),
    dict(type='MakeDepthTarget', stride=8),
    dict(type='PackCMKDInputs', keys=['img'])
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
