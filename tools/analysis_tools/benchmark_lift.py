"""Forward + backward time and peak memory of the frustum-to-voxel lift
against the materialised-frustum reference, at KITTI shapes.

    python tools/analysis_tools/benchmark_lift.py [--batch 1 2 4] \
        [--align caddn exact] [--device cpu cuda] [--repeat 3] [--out F.json]

C 64, D 120, feature 47 x 156 (375 x 1242 image at stride 8), grid
140 x 188 x 10 (range [2, -30.08, -3, 46.8, 30.08, 1], voxel 0.32 x 0.32 x
0.4). Forward + backward of the lift alone, the way operator benchmarks
measure it: the upstream gradient (B, C, Z, Y, X) is an input allocated
before measuring, and ``out.backward(grad)`` computes both input gradients.
Peak memory is what one forward + backward adds on top of its inputs:
``torch.cuda.max_memory_allocated`` on CUDA; on CPU the growth of the peak
RSS of a fresh subprocess per case, with the high-water mark reset to the
current RSS just before the step (Linux ``/proc/self/clear_refs``), so that
transient memory of imports and input creation cannot hide the step's peak.
Both include the (B, C, Z, Y, X) output and the input gradients.
``--loss square-mean`` instead backpropagates ``out.square().mean()``, whose
own temporaries (two more output-sized tensors) are then counted as well.
"""
import argparse
import json
import os
import subprocess
import sys
import time


def load_numerics():
    """(lift, reference lift, calibration_for_date, CALIB_DATES, grid_size).

    Imported from the installed plugin when the OpenMMLab stack is there;
    on a bare machine with only torch and numpy the pure modules
    (structures/geometry, depth_bins, frustum_lift, testing/synthetic/
    geometry) are loaded from this checkout by path (they import nothing
    else)."""
    try:
        from cmkd_mmdet3d.testing.synthetic.geometry import (
            CALIB_DATES, calibration_for_date)
        from cmkd_mmdet3d.models.utils import (lift_frustum_to_voxels,
                                               lift_frustum_to_voxels_reference
                                               )
    except ImportError:
        import importlib
        import types
        root = os.path.join(
            os.path.dirname(os.path.abspath(__file__)), '..', '..',
            'cmkd_mmdet3d')
        # the package tree without its __init__ files (they import the
        # OpenMMLab stack): empty packages whose __path__ is the checkout's
        # folder, so that the pure modules and their relative imports load
        for name in ('', '.structures', '.models', '.models.utils',
                     '.testing', '.testing.synthetic'):
            pkg = types.ModuleType('cmkd_mmdet3d' + name)
            pkg.__path__ = [os.path.join(root, *name.split('.'))]
            sys.modules[pkg.__name__] = pkg
        lift = importlib.import_module(
            'cmkd_mmdet3d.models.utils.frustum_lift')
        geo = importlib.import_module(
            'cmkd_mmdet3d.testing.synthetic.geometry')
        CALIB_DATES, calibration_for_date = geo.CALIB_DATES, \
            geo.calibration_for_date
        lift_frustum_to_voxels = lift.lift_frustum_to_voxels
        lift_frustum_to_voxels_reference = \
            lift.lift_frustum_to_voxels_reference
    return (lift_frustum_to_voxels, lift_frustum_to_voxels_reference,
            calibration_for_date, CALIB_DATES,
            sys.modules['cmkd_mmdet3d.structures.geometry'].grid_size)


SHAPE = dict(C=64, D=120, Hf=47, Wf=156, H=376, W=1248)
PCR = [2, -30.08, -3, 46.8, 30.08, 1]
VOXEL = [0.32, 0.32, 0.4]


def make_inputs(batch, device):
    import numpy as np
    import torch
    _, _, calibration_for_date, CALIB_DATES, _ = load_numerics()
    g = torch.Generator().manual_seed(0)
    cal = [
        calibration_for_date(CALIB_DATES[i % len(CALIB_DATES)])
        for i in range(batch)
    ]
    l2c = torch.tensor(
        np.stack([c.lidar2cam for c in cal]), dtype=torch.float32)
    c2i = torch.tensor(np.stack([c.cam2img for c in cal]), dtype=torch.float32)
    logits = torch.randn(
        batch, SHAPE['D'] + 1, SHAPE['Hf'], SHAPE['Wf'], generator=g)
    probs = torch.softmax(logits, 1)[:, :SHAPE['D']].contiguous()
    feats = torch.randn(
        batch, SHAPE['C'], SHAPE['Hf'], SHAPE['Wf'], generator=g)
    return [t.to(device) for t in (probs, feats, l2c, c2i)]


def _rss_mib(field):
    """VmRSS / VmHWM of this process in MiB (Linux)."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f'{field} not in /proc/self/status')


def _reset_peak_rss():
    """Reset the peak RSS to the current RSS; return the current RSS."""
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')
    return _rss_mib('VmRSS')


def run_case(batch, align, device, impl, repeat, loss='grad'):
    """Time and peak memory of one implementation (in this process)."""
    import torch
    (lift_frustum_to_voxels, lift_frustum_to_voxels_reference, _, _,
     grid_size) = load_numerics()
    probs, feats, l2c, c2i = make_inputs(batch, device)
    probs.requires_grad_()
    feats.requires_grad_()
    args = (l2c, c2i, (SHAPE['H'], SHAPE['W']), PCR, VOXEL, 2.0, 46.8)
    if impl == 'ref':

        def fn():
            if align != 'caddn':
                raise ValueError('the reference implements caddn only')
            return lift_frustum_to_voxels_reference(probs, feats, *args)
    else:

        def fn():
            return lift_frustum_to_voxels(probs, feats, *args, align=align)

    nx, ny, nz = grid_size(PCR, VOXEL)
    grad = torch.randn(
        batch,
        SHAPE['C'],
        nz,
        ny,
        nx,
        generator=torch.Generator().manual_seed(1)).to(device)

    def step():
        out = fn()
        if loss == 'grad':
            out.backward(grad)
        else:
            out.square().mean().backward()
        return out

    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        rss0 = _reset_peak_rss()
    out = step()  # warm-up (and the peak)
    if device == 'cuda':
        torch.cuda.synchronize()
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:
        peak = _rss_mib('VmHWM') - rss0
    times = []
    for _ in range(repeat):
        probs.grad = feats.grad = None
        if device == 'cuda':
            torch.cuda.synchronize()
        t = time.perf_counter()
        step()
        if device == 'cuda':
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return dict(ms=1000 * min(times), peak_mib=peak, out=out.detach().cpu())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--batch', type=int, nargs='+', default=[1, 2, 4])
    parser.add_argument('--align', nargs='+', default=['caddn', 'exact'])
    parser.add_argument('--device', nargs='+', default=None)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument(
        '--loss',
        choices=['grad', 'square-mean'],
        default='grad',
        help='backward from a given upstream gradient (the '
        'lift alone, default) or from out.square().mean()')
    parser.add_argument('--out', help='write the cases as JSON')
    parser.add_argument('--_case', nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    import torch
    if args._case:  # child process: one implementation, one case
        batch, align, device, impl = args._case
        res = run_case(int(batch), align, device, impl, args.repeat, args.loss)
        torch.save(res, os.environ['CMKD_BENCH_OUT'])
        return
    devices = args.device or (['cpu', 'cuda']
                              if torch.cuda.is_available() else ['cpu'])
    cases = []
    print('| device | batch | align | ref ms | ours ms | speed-up | '
          'ref peak MiB | ours peak MiB | memory ratio | max rel err |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for device in devices:
        for batch in args.batch:
            for align in args.align:
                res = {}
                for impl in ('ref', 'ours'):
                    # the reference samples the caddn mapping; for 'exact'
                    # it is the cost baseline of the materialised frustum
                    ref_align = 'caddn' if impl == 'ref' else align
                    out_file = f'/tmp/cmkd_bench_{os.getpid()}_{impl}.pt'
                    env = dict(os.environ, CMKD_BENCH_OUT=out_file)
                    subprocess.run([
                        sys.executable, __file__, '--repeat',
                        str(args.repeat), '--loss', args.loss, '--_case',
                        str(batch), ref_align, device, impl
                    ],
                                   check=True,
                                   env=env)
                    res[impl] = torch.load(out_file, weights_only=True)
                    os.remove(out_file)
                ref, ours = res['ref'], res['ours']
                if align == 'caddn':
                    err = ((ours['out'] - ref['out']).abs().max() /
                           ref['out'].abs().max()).item()
                else:
                    err = float('nan')
                case = dict(
                    batch=batch,
                    align=align,
                    device=device,
                    ref_ms=ref['ms'],
                    ours_ms=ours['ms'],
                    ref_peak_mib=ref['peak_mib'],
                    ours_peak_mib=ours['peak_mib'],
                    max_rel_err=err,
                    loss=args.loss)
                cases.append(case)
                print(
                    f"| {device} | {batch} | {align} | {ref['ms']:.3g} | "
                    f"{ours['ms']:.3g} | {ref['ms'] / ours['ms']:.2f}x | "
                    f"{ref['peak_mib']:.0f} | {ours['peak_mib']:.0f} | "
                    f"{ref['peak_mib'] / max(ours['peak_mib'], 1e-3):.1f}x "
                    f"| {err:.2e} |",
                    flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(cases, f, indent=1)


if __name__ == '__main__':
    main()
