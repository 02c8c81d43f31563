"""Running a trained student: inference on a user's own images
(:class:`CMKDMono3DInferencer`, also registered in mmdet3d's
``INFERENCERS`` as ``'cmkd-mono3d'``; ``tools/infer.py``) and ONNX export
(:func:`export_onnx`, :class:`ONNXStudent`;
``tools/deployment/export_onnx.py``)."""
from .inferencer import (IMAGE_EXTENSIONS, CMKDMono3DInferencer,
                         calib_for_image, list_images, speed_up_for_inference)
from .onnx_export import (ONNXStudent, StudentForExport, export_onnx,
                          gather_lift, onnx_test_step, same_detections)

__all__ = [
    'IMAGE_EXTENSIONS', 'CMKDMono3DInferencer', 'ONNXStudent',
    'StudentForExport', 'calib_for_image', 'export_onnx', 'gather_lift',
    'list_images', 'onnx_test_step', 'same_detections',
    'speed_up_for_inference'
]
