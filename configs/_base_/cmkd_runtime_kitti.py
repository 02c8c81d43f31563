# The runtime of the camera students on KITTI (alone or distilled): a
# checkpoint every 5 epochs (the last 3 kept) and pictures of predictions vs
# ground truth (image + BEV) in <log_dir>/vis/ after testing.
_base_ = ['./default_runtime.py']
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=3))
custom_hooks = [dict(type='PredictionVisHook', max_samples=8, score_thr=0.3)]
