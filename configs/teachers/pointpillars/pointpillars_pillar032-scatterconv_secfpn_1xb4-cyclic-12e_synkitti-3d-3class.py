# The synthetic PointPillars teacher with the reference's BEV conv stem
# (Cc-Hy/CMKD: tools/cfgs/kitti_models/CMKD/CMKD-pp/pointpillar_teacher.yaml,
# MAP_TO_BEV USE_CONV_LAYERS): its BEV map, the target of the student's
# feature distillation, is the output of the scatter plus convolutions, so it
# is dense, where the plain scatter's is zero in every cell without a pillar
# (most of them: LiDAR rings and objects only). CPU-sized: the pillars are
# already on the student's 0.32 m grid, so the first conv has stride 1 (the
# reference's brings 0.16 m pillars to 0.32 m), 64 channels (the student's),
# and 2 convs after it (the reference has 5).
_base_ = [
    './pointpillars_pillar032_secfpn_1xb4-cyclic-12e_synkitti-3d-3class.py'
]

model = dict(
    middle_encoder=dict(
        type='PointPillarsScatterConv', out_channels=64, stride=1,
        num_convs=2))
