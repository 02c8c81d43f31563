# The camera student on the synthetic world, small enough for CPU: half
# resolution (188 x 621, features 24 x 78), dilated ResNet-18 from scratch
# (no download), 40 LID bins, 32-channel features lifted into the same
# 140 x 188 x 10 grid, 64 BEV channels and 2 SCNet blocks, and the BEV
# backbone / neck / anchors of the synthetic PointPillars teacher
# (teachers/pointpillars/pointpillars_pillar032_secfpn_1xb4-cyclic-12e_...),
# so that its weights load by name in stage 2 of the distillation.
# 8 epochs, peak lr 3e-3.
_base_ = [
    '../_base_/models/cmkd-mono3d_r18-aspp-lid40_secfpn-light.py',
    '../_base_/datasets/synkitti-image-3class.py',
    '../_base_/schedules/onecycle-adamw_cpu-8e.py',
    '../_base_/cmkd_runtime_synkitti.py'
]
