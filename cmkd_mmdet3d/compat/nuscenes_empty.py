"""The nuScenes devkit's evaluation of a prediction set without any box.

``nuscenes.eval.common.loaders.filter_eval_boxes`` asks
``_get_box_class_field`` for the class field of the first box it finds and
raises ``Exception('Error: Invalid box type: None')`` when every sample has
an empty list, e.g. a student early in training whose scores are all below
the threshold; mmdet3d's ``NuScenesMetric`` then stops the test run. With
this shim an empty set is a set of detection boxes: the devkit's own
``accumulate`` scores every class as "no predictions" (AP 0, TP errors 1).
"""

_PATCHED = False


def patch_nuscenes_empty_predictions() -> bool:
    """Make the devkit accept an empty prediction set (idempotent).

    Returns:
        bool: False when the devkit is not installed.
    """
    global _PATCHED
    if _PATCHED:
        return True
    try:
        from nuscenes.eval.common import loaders
    except ImportError:
        return False
    original = loaders._get_box_class_field

    def _get_box_class_field(eval_boxes):
        if not any(len(v) for v in eval_boxes.boxes.values()):
            return 'detection_name'
        return original(eval_boxes)

    loaders._get_box_class_field = _get_box_class_field
    _PATCHED = True
    return True
