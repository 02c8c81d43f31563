# The runtime of the camera students on the synthetic world (CPU, minutes):
# a log line every 10 iterations, a checkpoint every epoch (the last 2
# kept), pictures of predictions vs ground truth after every validation.
_base_ = ['./default_runtime.py']
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2))
custom_hooks = [
    dict(type='PredictionVisHook', max_samples=6, score_thr=0.2,
         draw_val=True)
]
