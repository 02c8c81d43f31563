"""tools/analysis_tools/benchmark_inference.py at a small input: every
model runs, the stages are the ones named, none is negative (the nested
stages are the outer module minus the inner ones), and they add up to the
total; with BN folded into the convs and channels-last weights, the
student and ImVoxelNet give the plain model's outputs, and SMOKE (which
cannot take either) runs as shipped; rounds are summarised by their
median and range."""
import pytest

from _helpers.tools import load_tool

STAGES = dict(
    student=['image backbone', 'depth head', 'lift', 'collapse + SCNet',
             'BEV backbone + head'],
    imvoxelnet=['image backbone', 'FPN', 'projection to voxels', '3D neck',
                'head'],
    smoke=['image backbone', 'DLA neck', 'head'])


@pytest.mark.parametrize('name', sorted(STAGES))
def test_stage_times_add_up(name):
    import torch
    import cmkd_mmdet3d  # noqa: F401
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    bench = load_tool('analysis_tools', 'benchmark_inference.py')
    threads = torch.get_num_threads()
    try:
        r = bench.time_model(name, (96, 320), repeat=1, channels_last=True,
                             fuse=True)
    finally:
        torch.set_num_threads(threads)
    fast = name != 'smoke'
    assert (r.pop('channels_last'), r.pop('fuse_conv_bn')) == (fast, fast)
    extra = ['max_abs_diff'] if fast else []
    assert list(r) == STAGES[name] + ['post-processing', 'total', 'boxes'
                                      ] + extra
    assert bench.stage_names(name) == STAGES[name] + ['post-processing']
    if fast:
        assert r.pop('max_abs_diff') < 1e-3
    assert all(v >= 0 for v in r.values()), r
    assert r['total'] > 0
    assert sum(v for k, v in r.items() if k not in ('total', 'boxes')) == \
        pytest.approx(r['total'], rel=1e-9)


def test_rounds_are_summarised_by_median_and_range():
    bench = load_tool('analysis_tools', 'benchmark_inference.py')
    rounds = [dict(lift=1.0, total=4.0, boxes=3, channels_last=True),
              dict(lift=3.0, total=2.0, boxes=3, channels_last=True),
              dict(lift=2.0, total=9.0, boxes=3, channels_last=True)]
    assert bench.summarize(rounds) == dict(
        lift=2.0, total=4.0, boxes=3, channels_last=True, total_min=2.0,
        total_max=9.0, rounds=3)
