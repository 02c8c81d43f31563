"""Inference on a user's own images: :class:`CMKDMono3DInferencer` (also
registered in mmdet3d's ``INFERENCERS`` as ``'cmkd-mono3d'``) and
``tools/infer.py``."""
from .inferencer import (IMAGE_EXTENSIONS, CMKDMono3DInferencer,
                         calib_for_image, list_images)

__all__ = [
    'IMAGE_EXTENSIONS', 'CMKDMono3DInferencer', 'calib_for_image',
    'list_images'
]
