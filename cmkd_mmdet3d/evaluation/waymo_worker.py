"""The official Waymo detection metric, run inside the Waymo environment.

This file is a standalone script for the interpreter of ``make waymo-env``
(tensorflow-cpu 2.13, numpy 1.23.5, ``waymo-open-dataset-tf-2-12-0`` 1.6.7).
It never imports ``cmkd_mmdet3d``, torch or mmdet3d, and ``cmkd_mmdet3d``
never imports it: :mod:`cmkd_mmdet3d.evaluation.waymo_metric` runs it as a
subprocess and talks to it through ``.npz`` files (read with
``allow_pickle=False``) and JSON. Three commands::

    python waymo_worker.py read-gt GT_BIN OUT_NPZ
        the Objects protos of a Waymo ground-truth ``.bin`` (mmdet3d's
        ``gt.bin`` / ``fov_gt.bin``) as arrays
    python waymo_worker.py evaluate IN_NPZ OUT_JSON
        AP and APH of every breakdown, from the Waymo package's
        ``detection_metrics`` op (``metrics/ops/py_metrics_ops.py``)
    python waymo_worker.py write-bin IN_NPZ OUT_BIN
        predictions (with ``score``) or ground truth (with ``difficulty``
        and ``num_points``) as a Waymo ``Objects`` ``.bin``, the file the
        Waymo server and mmdet3d's ``compute_detection_metrics_main`` read

Boxes are Waymo's: ``(center_x, center_y, center_z, length, width, height,
heading)`` in metres and radians, in the vehicle frame, with the centre at
half height.
"""
import argparse
import json
import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import numpy as np  # noqa: E402


def _protos():
    from waymo_open_dataset import label_pb2
    from waymo_open_dataset.protos import metrics_pb2
    return label_pb2, metrics_pb2


def read_gt(gt_bin, out_npz):
    """Write the arrays of every object in ``gt_bin`` to ``out_npz``."""
    _, metrics_pb2 = _protos()
    objects = metrics_pb2.Objects()
    with open(gt_bin, 'rb') as f:
        objects.ParseFromString(f.read())
    n = len(objects.objects)
    box = np.zeros((n, 7), np.float32)
    context, timestamp = [], np.zeros(n, np.int64)
    obj_type = np.zeros(n, np.uint8)
    difficulty = np.zeros(n, np.uint8)
    num_points = np.zeros(n, np.int64)
    for i, o in enumerate(objects.objects):
        b = o.object.box
        box[i] = (b.center_x, b.center_y, b.center_z, b.length, b.width,
                  b.height, b.heading)
        context.append(o.context_name)
        timestamp[i] = o.frame_timestamp_micros
        obj_type[i] = o.object.type
        difficulty[i] = o.object.detection_difficulty_level
        num_points[i] = o.object.num_lidar_points_in_box
    np.savez(out_npz, box=box, context=np.array(context, dtype=str),
             timestamp=timestamp, type=obj_type, difficulty=difficulty,
             num_points=num_points)


def _config(iou_thresholds, breakdowns):
    from google.protobuf import text_format
    _, metrics_pb2 = _protos()
    text = ''.join(f'breakdown_generator_ids: {name}\n'
                   'difficulties { levels: LEVEL_1 levels: LEVEL_2 }\n'
                   for name in breakdowns)
    text += 'matcher_type: TYPE_HUNGARIAN\nbox_type: TYPE_3D\n'
    text += ''.join(f'iou_thresholds: {float(t)}\n' for t in iou_thresholds)
    config = text_format.Parse(text, metrics_pb2.Config())
    # the score cutoffs of OpenPCDet's waymo_eval.py (CaDDN, CMKD)
    config.score_cutoffs.extend([i * 0.01 for i in range(100)] + [1.0])
    return config


def evaluate(in_npz, out_json):
    """AP / APH per breakdown shard and difficulty level, as JSON."""
    import tensorflow as tf
    from waymo_open_dataset.metrics.ops import py_metrics_ops
    from waymo_open_dataset.metrics.python import config_util_py

    data = np.load(in_npz, allow_pickle=False)
    breakdowns = [str(b) for b in data['breakdowns']]
    config = _config(data['iou_thresholds'], breakdowns)
    with tf.device('/cpu:0'):
        ap, aph, *_ = py_metrics_ops.detection_metrics(
            prediction_bbox=data['pred_box'].astype(np.float32),
            prediction_type=data['pred_type'].astype(np.uint8),
            prediction_score=data['pred_score'].astype(np.float32),
            prediction_frame_id=data['pred_frame'].astype(np.int64),
            prediction_overlap_nlz=np.zeros(len(data['pred_box']), bool),
            ground_truth_bbox=data['gt_box'].astype(np.float32),
            ground_truth_type=data['gt_type'].astype(np.uint8),
            ground_truth_frame_id=data['gt_frame'].astype(np.int64),
            ground_truth_difficulty=data['gt_difficulty'].astype(np.uint8),
            config=config.SerializeToString())
    names = config_util_py.get_breakdown_names_from_config(config)
    ap, aph = ap.numpy(), aph.numpy()
    if len(names) != len(ap):
        raise RuntimeError(f'{len(names)} breakdown names for {len(ap)} '
                           'AP values')
    out = {name: dict(ap=float(a), aph=float(h))
           for name, a, h in zip(names, ap, aph)}
    with open(out_json, 'w') as f:
        json.dump(out, f, indent=1)


def write_bin(in_npz, out_bin):
    """Predictions or ground truth as an ``Objects`` proto file."""
    _, metrics_pb2 = _protos()
    data = np.load(in_npz, allow_pickle=False)
    n = len(data['box'])
    score = data['score'] if 'score' in data.files else None
    difficulty = data['difficulty'] if 'difficulty' in data.files else None
    num_points = data['num_points'] if 'num_points' in data.files else None
    objects = metrics_pb2.Objects()
    for i in range(n):
        o = objects.objects.add()
        b = o.object.box
        (b.center_x, b.center_y, b.center_z, b.length, b.width, b.height,
         b.heading) = (float(v) for v in data['box'][i])
        o.object.type = int(data['type'][i])
        o.context_name = str(data['context'][i])
        o.frame_timestamp_micros = int(data['timestamp'][i])
        if score is not None:
            o.score = float(score[i])
        if difficulty is not None:
            o.object.detection_difficulty_level = int(difficulty[i])
        if num_points is not None:
            o.object.num_lidar_points_in_box = int(num_points[i])
    with open(out_bin, 'wb') as f:
        f.write(objects.SerializeToString())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('command', choices=['read-gt', 'evaluate',
                                            'write-bin'])
    parser.add_argument('src')
    parser.add_argument('dst')
    args = parser.parse_args(argv)
    dict(zip(['read-gt', 'evaluate', 'write-bin'],
             [read_gt, evaluate, write_bin]))[args.command](args.src, args.dst)


if __name__ == '__main__':
    sys.exit(main())
