"""tools/analysis_tools/eval_depth.py on the synthetic world: a checkpoint
of the depth network alone is evaluated against the LiDAR depth, the metrics
equal those of the same network run by hand, and a checkpoint without a
depth network is refused."""
import json

import pytest
import torch
from _helpers.models import STUDENT_CFG, _registry
from _helpers.tools import load_tool


@pytest.fixture(scope='module')
def tool():
    return load_tool('analysis_tools', 'eval_depth.py')


def test_eval_depth_matches_the_network_run_by_hand(tool, synthetic_world,
                                                    tmp_path):
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from cmkd_mmdet3d.evaluation.depth_metrics import (
        depth_error_sums, summarize_depth_errors)
    from cmkd_mmdet3d.structures import (box_foreground_mask,
                                         compose_lidar2img)
    MODELS = _registry()
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(STUDENT_CFG).model)
    state = {'img_backbone.' + k: v
             for k, v in model.img_backbone.state_dict().items()}
    ckpt = str(tmp_path / 'depth.pth')
    torch.save(dict(state_dict=state), ckpt)
    out = str(tmp_path / 'depth.json')
    metrics = tool.main([STUDENT_CFG, ckpt, '--data-root', synthetic_world,
                         '--batch-size', '1', '--out', out])
    assert json.load(open(out))['abs_rel'] == pytest.approx(
        metrics['abs_rel'])
    assert metrics['frames'] == 2 and metrics['cells'] > 0

    # by hand: the same frames through the network, one at a time
    cfg = Config.fromfile(STUDENT_CFG)
    ds = tool.build_dataset(cfg, synthetic_world, 'val', 8)
    model.eval()
    sums, box_sums = {}, {}
    with torch.no_grad():
        for i in range(2):
            sample = ds[i]
            img = model.data_preprocessor(
                pseudo_collate([sample]), training=False)['inputs']['imgs']
            logits = model.img_backbone(img)['depth_logits']
            d = sample['data_samples'].gt_depth[None]
            assert d.shape[-2:] == logits.shape[-2:]
            for k, v in depth_error_sums(logits, d,
                                         model.depth_bins).items():
                sums[k] = sums.get(k, 0) + v
            # the cells of the frame's boxes, from its boxes and matrices
            ds_sample = sample['data_samples']
            meta = ds_sample.metainfo
            l2i = compose_lidar2img(
                torch.tensor(meta['lidar2cam'], dtype=torch.float64),
                torch.tensor(meta['cam2img'], dtype=torch.float64))
            corners = ds_sample.gt_instances_3d.bboxes_3d.corners.double()
            mask = box_foreground_mask(corners, l2i, img.shape[-2:],
                                       logits.shape[-2:])[None]
            assert len(corners) == 0 or mask.any()
            for k, v in depth_error_sums(logits, d, model.depth_bins,
                                         mask).items():
                box_sums[k] = box_sums.get(k, 0) + v
    expected = summarize_depth_errors(sums)
    for k in ('abs_rel', 'rmse', 'delta_1', 'bin_exact', 'cells'):
        assert metrics[k] == pytest.approx(expected[k]), k
    expected_boxes = summarize_depth_errors(box_sums)
    assert 0 < metrics['boxes']['cells'] < metrics['cells']
    for k in ('abs_rel', 'rmse', 'delta_1', 'bin_exact', 'cells'):
        assert metrics['boxes'][k] == pytest.approx(expected_boxes[k]), k

    # a LiDAR-only checkpoint has no depth network: refused, naming it
    bad = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict={'backbone.x': torch.zeros(1)}), bad)
    with pytest.raises(KeyError, match=r'teacher\.pth has no img_backbone'):
        tool.main([STUDENT_CFG, bad, '--data-root', synthetic_world])


def test_eval_depth_reads_the_object_depth_head_and_scores_the_lift(
        tool, synthetic_world, tmp_path):
    """A config with object_depth: the head's tensors are read from the
    checkpoint (refused without them) and the metrics are those of the
    lifted mixture; with the object probability pinned at 0 the mixture is
    the depth network's own distribution, so both entries agree, and pinned
    at 1 they differ."""
    from mmengine.config import Config
    MODELS = _registry()
    torch.manual_seed(0)
    cfg = Config.fromfile(STUDENT_CFG)
    cfg.model.object_depth = dict(type='ObjectDepthHead', in_channels=64)
    cfg_file = str(tmp_path / 'objdepth.py')
    cfg.dump(cfg_file)
    model = MODELS.build(cfg.model)
    ckpt = str(tmp_path / 'student.pth')
    args = [cfg_file, ckpt, '--data-root', synthetic_world]
    torch.save(dict(state_dict={'img_backbone.' + k: v for k, v in
                                model.img_backbone.state_dict().items()}),
               ckpt)
    with pytest.raises(KeyError, match=r'student\.pth has no object_depth'):
        tool.main(args)
    for fg, same in ((-1e4, True), (1e4, False)):
        with torch.no_grad():
            model.object_depth.out.bias[0] = fg
        torch.save(dict(state_dict=model.state_dict()), ckpt)
        metrics = tool.main(args)
        raw = metrics['depth_network']
        assert metrics['cells'] == raw['cells'] > 0
        assert (metrics['abs_rel'] == pytest.approx(raw['abs_rel'])) == same
        assert metrics['boxes']['cells'] == raw['boxes']['cells'] > 0
