"""cmkd_mmdet3d.compat.cpu_distributed: --launcher pytorch without CUDA."""
import socket

import torch
import torch.distributed as dist
from mmengine.config import Config


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_gloo_group_and_ddp_without_device_ids(monkeypatch):
    from cmkd_mmdet3d.compat import setup_cpu_distributed
    assert not dist.is_initialized()
    # with CUDA: nothing is touched
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    assert setup_cpu_distributed(cfg) is False
    assert cfg.env_cfg.dist_cfg.backend == 'nccl'
    assert 'model_wrapper_cfg' not in cfg and not dist.is_initialized()
    # without: gloo from torchrun's environment (one process here)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    for k, v in dict(RANK='0', WORLD_SIZE='1', MASTER_ADDR='127.0.0.1',
                     MASTER_PORT=str(_free_port())).items():
        monkeypatch.setenv(k, v)
    cfg = Config(dict(find_unused_parameters=True,
                      env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    try:
        assert setup_cpu_distributed(cfg) is True
        assert dist.is_initialized()
        assert dist.get_backend() == 'gloo' and dist.get_world_size() == 1
        assert cfg.env_cfg.dist_cfg.backend == 'gloo'
        assert cfg.model_wrapper_cfg == dict(
            type='MMDistributedDataParallel', device_ids=None,
            find_unused_parameters=True)
        # a second call keeps the group and a configured wrapper
        group = dist.group.WORLD
        other = Config(dict(model_wrapper_cfg=dict(type='Mine'),
                            env_cfg=dict(dist_cfg=dict(backend='nccl'))))
        assert setup_cpu_distributed(other) is True
        assert dist.group.WORLD is group
        assert other.model_wrapper_cfg == dict(type='Mine')
        assert other.env_cfg.dist_cfg.backend == 'gloo'
        # a config without env_cfg gets one
        bare = Config(dict())
        assert setup_cpu_distributed(bare) is True
        assert bare.env_cfg.dist_cfg.backend == 'gloo'
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
