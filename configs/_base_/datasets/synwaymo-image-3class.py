# The synthetic Waymo-format world for the camera student: written at the
# resolution it trains at (320 x 480, so no ScaleImage3D), every frame, a
# CPU-sized loader:
#   python tools/create_data.py synthetic-waymo --out data/synthetic_waymo \
#       --num-train 160 --num-val 100 --img-height 320 --img-width 480
_base_ = ['./waymo-fov-image-3class.py']

data_root = 'data/synthetic_waymo/'
_no_scale = ('ScaleImage3D', )
distill_train_pipeline = [
    t for t in _base_.distill_train_pipeline if t['type'] not in _no_scale]
train_pipeline = [
    t for t in _base_.train_pipeline if t['type'] not in _no_scale]
test_pipeline = [
    t for t in _base_.test_pipeline if t['type'] not in _no_scale]
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    dataset=dict(data_root=data_root, pipeline=train_pipeline,
                 load_interval=1))
val_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(waymo_bin_file=data_root + 'waymo_format/fov_gt.bin')
test_evaluator = val_evaluator
auto_scale_lr = dict(base_batch_size=2)
