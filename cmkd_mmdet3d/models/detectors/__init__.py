from .cmkd import CMKD
from .cmkd_mono3d import CMKDMono3D, decode_head_outputs
from .guards import (CheckpointKeysGuard, NonFiniteLossError,
                     NonFiniteLossGuard, NonFiniteLossWarning)

__all__ = [
    'CMKD', 'CMKDMono3D', 'CheckpointKeysGuard', 'NonFiniteLossError',
    'NonFiniteLossGuard', 'NonFiniteLossWarning', 'decode_head_outputs'
]
