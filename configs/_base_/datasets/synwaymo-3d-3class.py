# The synthetic Waymo-format world of cmkd_mmdet3d for a LiDAR teacher, as
# written by
#   python tools/create_data.py synthetic-waymo --out data/synthetic_waymo ...
# It is mmdet3d's Waymo layout, so this is waymo-fov-3d-3class_cmkd-teacher
# with another data root, every frame (no load interval, no repeat) and a
# CPU-sized loader.
_base_ = ['./waymo-fov-3d-3class_cmkd-teacher.py']

data_root = 'data/synthetic_waymo/'
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    dataset=dict(times=1, dataset=dict(data_root=data_root,
                                       load_interval=1)))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(waymo_bin_file=data_root + 'waymo_format/fov_gt.bin')
test_evaluator = val_evaluator
