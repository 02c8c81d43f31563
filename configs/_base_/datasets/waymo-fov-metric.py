# The monocular Waymo protocol of the front-camera configs: WaymoAPMetric
# (make waymo-env) against the ground truth of the front camera's field of
# view (mmdet3d's fov_gt.bin).
waymo_fov_metric = dict(
    type='WaymoAPMetric',
    waymo_bin_file='./data/waymo/waymo_format/fov_gt.bin')
