"""Export the camera student to ONNX, and check it against PyTorch.

    python tools/deployment/export_onnx.py CONFIG CHECKPOINT \
        --out-file student.onnx \
        (IMAGE... (--calib FILE_OR_FOLDER | --intrinsics FX FY CX CY
                   --cam-height H) | --shape H W) \
        [--repeat 3] [--report report.json] [--opset N]

(or ``mim run cmkd_mmdet3d export_onnx ...``). CONFIG and CHECKPOINT as for
``tools/infer.py`` (a student, an extracted student or a full CMKD
checkpoint). The graph takes the image after the config's test pipeline
(B = 1, float32 pixels) with ``lidar2cam`` and ``cam2img`` (4 x 4) and
returns the dense head's outputs; box decoding and NMS run outside it, in
the function the PyTorch path uses
(``cmkd_mmdet3d.models.detectors.decode_head_outputs``).

With images, the first one sets the input size, and every image is run by
PyTorch and by onnxruntime (CPU): the tool prints the largest absolute
difference of the dense outputs, whether the boxes after post-processing
are the same, and the latency of both (median of ``--repeat`` runs after a
warm-up, with torch's and onnxruntime's thread counts equal). It exits
with status 1 when an output differs by more than ``--atol`` (1e-4) or a
box differs. ``--shape`` exports for the pipeline size H x W without a
check. Run the ONNX file on images with ``tools/infer.py CONFIG
student.onnx IMAGES --calib ...``.
"""
import argparse
import json
import os.path as osp
import statistics
import sys
import time
from typing import Optional, Sequence

from mmengine.config import Config, DictAction

from cmkd_mmdet3d.apis.cli import (add_calibration_args, add_model_args,
                                   calibrated_inputs, check_calibration_args)


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='Export the camera student to ONNX and check it with '
        'onnxruntime against PyTorch')
    add_model_args(parser)
    parser.add_argument('images', nargs='*',
                        help='images (files and / or folders) to set the '
                        'input size and to check the export on')
    parser.add_argument('--out-file', default='student.onnx')
    add_calibration_args(parser, required=False)
    parser.add_argument('--shape', nargs=2, type=int, metavar=('H', 'W'),
                        help='export for pipeline images of H x W px, '
                        'without images and without a check')
    parser.add_argument('--opset', type=int, help='ONNX opset (default: '
                        "torch's)")
    parser.add_argument('--repeat', type=int, default=3,
                        help='timed runs per image and backend')
    parser.add_argument('--atol', type=float, default=1e-4,
                        help='largest absolute difference of the dense '
                        'outputs accepted')
    parser.add_argument('--report', help='write the check as JSON')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, as tools/test.py')
    args = parser.parse_args(argv)
    if bool(args.images) == bool(args.shape):
        parser.error('give images (with --calib or --intrinsics) or --shape')
    if args.images and args.calib is None and args.intrinsics is None:
        parser.error('images need --calib or --intrinsics')
    check_calibration_args(parser, args)
    if args.repeat < 1:
        parser.error('--repeat must be at least 1')
    return args


def _median_time(fn, repeat: int):
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def check(inferencer, runner, items, repeat: int, atol: float) -> dict:
    """PyTorch against onnxruntime on every image.

    Returns:
        dict: per image ``max_abs_diff`` of the dense outputs, ``boxes``
        (count), ``same_boxes``, ``torch_s`` / ``onnxruntime_s`` (median
        network latency) and ``torch_full_s`` / ``onnxruntime_full_s``
        (with post-processing); and the totals.
    """
    import torch
    from torch.utils._pytree import tree_leaves

    from cmkd_mmdet3d.apis import onnx_test_step, same_detections
    model = inferencer.model
    rows = []
    for item, data in zip(items, inferencer.preprocess(items, batch_size=1)):
        with torch.no_grad():
            batch = model.data_preprocessor(data, False)
            t_torch, ref = _median_time(
                lambda: model(**batch, mode='tensor'), repeat)
            img, l2c, c2i, _ = model.camera_inputs(
                dict(imgs=torch.stack(
                    [im.float() for im in data['inputs']['img']])),
                data['data_samples'])
            t_ort, outs = _median_time(lambda: runner(img, l2c, c2i),
                                       repeat)
            diff = max((a - b).abs().max().item()
                       for a, b in zip(tree_leaves(outs), tree_leaves(ref)))
            t_torch_full, p_ref = _median_time(
                lambda: model.test_step(data), repeat)
            t_ort_full, p_ort = _median_time(
                lambda: onnx_test_step(runner, model, data), repeat)
        a, b = p_ref[0].pred_instances_3d, p_ort[0].pred_instances_3d
        same = same_detections(a, b, atol=1e-4)
        rows.append(dict(image=item['img'], max_abs_diff=diff,
                         boxes=len(a.scores_3d), same_boxes=same,
                         torch_s=t_torch, onnxruntime_s=t_ort,
                         torch_full_s=t_torch_full,
                         onnxruntime_full_s=t_ort_full))
    med = (lambda key: statistics.median(r[key] for r in rows))
    return dict(
        images=rows,
        max_abs_diff=max(r['max_abs_diff'] for r in rows),
        all_same_boxes=all(r['same_boxes'] for r in rows),
        ok=all(r['same_boxes'] and r['max_abs_diff'] <= atol for r in rows),
        atol=atol,
        threads=torch.get_num_threads(),
        median_torch_s=med('torch_s'),
        median_onnxruntime_s=med('onnxruntime_s'),
        median_torch_full_s=med('torch_full_s'),
        median_onnxruntime_full_s=med('onnxruntime_full_s'))


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    import torch

    from cmkd_mmdet3d.apis import (CMKDMono3DInferencer, ONNXStudent,
                                   export_onnx)
    from cmkd_mmdet3d.utils import find_config
    config = find_config(args.config)
    if not osp.isfile(args.checkpoint):
        sys.exit(f'checkpoint {args.checkpoint} not found')
    cfg = Config.fromfile(config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    inferencer = CMKDMono3DInferencer(cfg, args.checkpoint, device='cpu',
                                      show_progress=False)
    model = inferencer.model
    items, example = [], None
    if args.images:
        items = inferencer._inputs_to_list(
            calibrated_inputs(args.images, args))
        data = next(inferencer.preprocess(items[:1], batch_size=1))
        img = torch.stack([im.float() for im in data['inputs']['img']])
        example = model.camera_inputs(dict(imgs=img),
                                      data['data_samples'])[:3]
        shape = tuple(img.shape[-2:])
    else:
        shape = tuple(args.shape)
    t = time.perf_counter()
    meta = export_onnx(model, args.out_file, shape,
                       opset_version=args.opset, example=example)
    print(f'exported {args.out_file} ({osp.getsize(args.out_file) / 2**20:.1f}'
          f' MiB) in {time.perf_counter() - t:.0f} s: input 1 x 3 x '
          f'{shape[0]} x {shape[1]}, outputs '
          f'{", ".join("x".join(map(str, s)) for s in meta["shapes"])}')
    result = dict(onnx_file=args.out_file, img_shape=list(shape))
    if items:
        runner = ONNXStudent(args.out_file)
        result.update(check(inferencer, runner, items, args.repeat,
                            args.atol))
        print(f'{"image":<28} {"max |diff|":>10} {"boxes":>6} {"same":>5} '
              f'{"torch s":>8} {"ort s":>8}')
        for r in result['images']:
            print(f'{osp.basename(r["image"]):<28} {r["max_abs_diff"]:10.2e} '
                  f'{r["boxes"]:6d} {str(r["same_boxes"]):>5} '
                  f'{r["torch_s"]:8.3f} {r["onnxruntime_s"]:8.3f}')
        print(f'{len(items)} images, {result["threads"]} threads: largest '
              f'difference {result["max_abs_diff"]:.2e} (limit '
              f'{args.atol:g}), same boxes: {result["all_same_boxes"]}; '
              f'median network latency PyTorch {result["median_torch_s"]:.3f}'
              f' s, onnxruntime {result["median_onnxruntime_s"]:.3f} s; with '
              f'post-processing {result["median_torch_full_s"]:.3f} s / '
              f'{result["median_onnxruntime_full_s"]:.3f} s')
    if args.report:
        from cmkd_mmdet3d.utils.atomic_io import atomic_open
        with atomic_open(args.report, 'w') as f:
            json.dump(result, f, indent=1)
    if items and not result['ok']:
        sys.exit(1)
    return result


if __name__ == '__main__':
    main()
