"""tools/analysis_tools/benchmark_student_step.py: the step cut into parts
gives the gradients of the whole step."""
import copy
import os

import torch

from conftest import REPO_ROOT
from _helpers.tools import load_tool


def _tool():
    return load_tool('analysis_tools', 'benchmark_student_step.py')


def test_total_loss_sums_tensors_and_lists():
    tool = _tool()
    losses = dict(a=torch.tensor([1.0, 2.0]),
                  b=[torch.tensor(3.0), torch.tensor([4.0, 5.0])])
    assert tool.total_loss(losses).item() == 15.0


def test_parts_backward_gives_the_gradients_of_the_whole_step(
        synthetic_world):
    from mmdet3d.registry import DATASETS, MODELS
    from mmdet3d.utils import register_all_modules
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    register_all_modules(init_default_scope=True)
    import cmkd_mmdet3d  # noqa: F401
    tool = _tool()
    cfg = Config.fromfile(os.path.join(
        REPO_ROOT, 'configs', 'cmkd_mono3d',
        'cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-onecycle-8e_'
        'synkitti-3d-3class.py'))
    pipeline = [t for t in copy.deepcopy(cfg.train_pipeline)
                if t['type'] != 'ImageSpaceFlip3D']
    ds = DATASETS.build(dict(
        cfg.train_dataloader.dataset, data_root=synthetic_world + '/',
        pipeline=pipeline))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()    # BN statistics fixed
    data = model.data_preprocessor(pseudo_collate([ds[0]]), training=True)
    times = tool.step_times(model, data, keep_grads=True)
    assert list(times) == ['image fwd', 'lift fwd', 'BEV detector fwd',
                           'BEV detector bwd', 'lift bwd', 'depth loss fwd',
                           'image bwd']
    assert all(v >= 0 for v in times.values())
    parts = {n: p.grad.clone() for n, p in model.named_parameters()
             if p.grad is not None}
    model.zero_grad(set_to_none=True)
    tool.total_loss(model.loss(data['inputs'],
                               data['data_samples'])).backward()
    whole = {n: p.grad for n, p in model.named_parameters()
             if p.grad is not None}
    assert set(parts) == set(whole)
    assert any(n.startswith('img_backbone.') for n in whole)
    for n in whole:
        assert torch.allclose(parts[n], whole[n], rtol=1e-3, atol=1e-6), n


def test_parts_of_a_surround_view_step(nus_world):
    """Six cameras per sample: the parts take the B * 6 images and their
    backward gives the gradients of the whole step, for both lifts."""
    from _helpers.models import SURROUND_STUDENT, _registry, surround_batch
    from mmengine.config import Config
    MODELS = _registry()
    tool = _tool()
    cfg = Config.fromfile(SURROUND_STUDENT)
    batch = surround_batch(cfg, nus_world[0], [0])
    for method in ('sample', 'splat'):
        cfg.model.lift_neck.lift_method = method
        torch.manual_seed(0)
        model = MODELS.build(cfg.model).eval()
        data = model.data_preprocessor(copy.deepcopy(batch), training=True)
        tool.step_times(model, data, keep_grads=True)
        parts = {n: p.grad.clone() for n, p in model.named_parameters()
                 if p.grad is not None}
        model.zero_grad(set_to_none=True)
        tool.total_loss(model.loss(data['inputs'],
                                   data['data_samples'])).backward()
        whole = {n: p.grad for n, p in model.named_parameters()
                 if p.grad is not None}
        assert set(parts) == set(whole)
        assert any(n.startswith('img_backbone.') for n in whole)
        for n in whole:
            assert torch.allclose(parts[n], whole[n], rtol=1e-3,
                                  atol=1e-6), (method, n)
