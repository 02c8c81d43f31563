from .cmkd import CMKD
from .cmkd_mono3d import CMKDMono3D

__all__ = ['CMKD', 'CMKDMono3D']
