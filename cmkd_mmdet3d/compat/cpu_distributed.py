"""Distributed runs without CUDA (:func:`setup_cpu_distributed`, called by
``tools/train.py`` / ``tools/test.py``): mmengine 0.10.7 calls
``torch.cuda.set_device`` while initialising a ``pytorch`` launch and wraps
the model with ``device_ids=[local_rank]``, both of which fail on CPU. We
initialise a gloo process group first (mmengine then skips its own) and
wrap with ``device_ids=None``.
"""

import torch


def setup_cpu_distributed(cfg) -> bool:
    """Prepare a ``--launcher pytorch`` run on a machine without CUDA.

    Initialises the gloo process group from torchrun's environment
    (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``) and sets
    ``cfg.model_wrapper_cfg`` to DDP without device ids. Does nothing (and
    returns False) where CUDA is available.
    """
    if torch.cuda.is_available():
        return False
    import torch.distributed as dist
    # Config.setdefault returns a detached dict for a missing key: assign
    if cfg.get('env_cfg') is None:
        cfg.env_cfg = dict()
    if cfg.env_cfg.get('dist_cfg') is None:
        cfg.env_cfg.dist_cfg = dict()
    cfg.env_cfg.dist_cfg.backend = 'gloo'
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    return True
