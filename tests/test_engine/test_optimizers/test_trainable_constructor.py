"""cmkd_mmdet3d.engine.optimizers.trainable_constructor: optimizers over the
trainable parameters only."""
import torch
from torch import nn


def _model():
    torch.manual_seed(0)
    model = nn.Module()
    model.teacher = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    model.student = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
    model.teacher.requires_grad_(False)
    return model


def _ids(optim_wrapper):
    return [id(p) for g in optim_wrapper.optimizer.param_groups
            for p in g['params']]


def test_frozen_parameters_stay_out_of_the_optimizer():
    from mmengine.optim import DefaultOptimWrapperConstructor
    from cmkd_mmdet3d.engine.optimizers.trainable_constructor import \
        TrainableOptimWrapperConstructor
    cfg = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1),
               clip_grad=dict(max_norm=10))
    model = _model()
    student = [id(p) for p in model.student.parameters()]
    # mmengine's default takes all parameters, frozen ones included
    default = DefaultOptimWrapperConstructor(cfg)(model)
    assert len(_ids(default)) == len(student) + 4
    optim = TrainableOptimWrapperConstructor(cfg)(model)
    assert _ids(optim) == student
    assert optim.optimizer.param_groups[0]['lr'] == 0.1
    # a wrapped (DDP-like) model and a paramwise_cfg give the same set
    wrapper = nn.Module()
    wrapper.module = model
    assert _ids(TrainableOptimWrapperConstructor(cfg)(wrapper)) == student
    paramwise = TrainableOptimWrapperConstructor(
        cfg, dict(bias_lr_mult=2.0))(model)
    assert sorted(_ids(paramwise)) == sorted(student)
    # the built optimizer steps the student and leaves the teacher alone
    before = [p.clone() for p in model.parameters()]
    loss = model.student(model.teacher(torch.randn(5, 3))).square().sum()
    optim.update_params(loss)
    changed = [not torch.equal(a, b)
               for a, b in zip(before, model.parameters())]
    assert changed == [False] * 4 + [True] * 4
