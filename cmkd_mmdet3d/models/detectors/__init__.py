from .cmkd_mono3d import CMKDMono3D

__all__ = ['CMKDMono3D']
