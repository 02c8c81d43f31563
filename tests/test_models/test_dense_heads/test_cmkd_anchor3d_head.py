"""CMKDAnchor3DHead: class-agnostic NMS."""
import torch


def test_class_agnostic_nms_across_classes():
    from cmkd_mmdet3d.models.dense_heads import class_agnostic_nms
    boxes = torch.tensor([[10.0, 0.0, 4.0, 2.0, 0.0],
                          [10.3, 0.1, 4.0, 2.0, 0.05],   # overlaps box 0
                          [20.0, 5.0, 4.0, 2.0, 0.0],
                          [30.0, 5.0, 4.0, 2.0, 0.0]])
    scores = torch.tensor([0.9, 0.95, 0.5, 0.05])
    keep = class_agnostic_nms(boxes, scores, 0.1, 0.01, 4096, 500)
    # box 1 suppresses box 0 whatever their classes; box 3 is below 0.1
    assert keep.tolist() == [1, 2]
    assert class_agnostic_nms(boxes, scores, 0.1, 0.01, 4096, 1).tolist() \
        == [1]
    assert len(class_agnostic_nms(boxes, scores, 0.99, 0.01, 10, 5)) == 0
