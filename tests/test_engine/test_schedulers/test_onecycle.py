"""CosinePhaseLR / CosinePhaseMomentum: mmengine's cosine schedulers placed by
fractions of the training are the hand-written one-cycle schedule, for any
epoch count, with ``end`` given as mmengine's Runner gives it."""
import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS


PHASES = 'cmkd_mmdet3d.engine.schedulers.'


def _run(entries, epochs, epoch_length):
    wrapper = build_optim_wrapper(
        torch.nn.Linear(2, 2),
        dict(type='OptimWrapper',
             optimizer=dict(type='AdamW', lr=2e-4, betas=(0.95, 0.999))))
    scheds = [
        PARAM_SCHEDULERS.build(
            dict(e), default_args=dict(optimizer=wrapper,
                                       epoch_length=epoch_length))
        for e in entries
    ]
    group = wrapper.optimizer.param_groups[0]
    out = []
    for _ in range(epochs * epoch_length):
        out.append((group['lr'], group['betas'][0]))
        for s in scheds:
            s.step()
    return out


def _hand_written(epochs):
    common = dict(by_epoch=True, convert_to_iter_based=True)
    return [
        dict(type='CosineAnnealingLR', T_max=epochs * 0.4, eta_min_ratio=10,
             begin=0, end=epochs * 0.4, **common),
        dict(type='CosineAnnealingLR', T_max=epochs * 0.6,
             eta_min_ratio=1e-3, begin=epochs * 0.4, end=epochs, **common),
        dict(type='CosineAnnealingMomentum', T_max=epochs * 0.4,
             eta_min_ratio=0.85 / 0.95, begin=0, end=epochs * 0.4, **common),
        dict(type='CosineAnnealingMomentum', T_max=epochs * 0.6,
             eta_min_ratio=1.0, begin=epochs * 0.4, end=epochs, **common),
    ]


def _phases(end=None):
    common = dict(by_epoch=True, convert_to_iter_based=True)
    if end is not None:
        common['end'] = end
    return [
        dict(type=PHASES + 'CosinePhaseLR', phase=(0, 0.4), eta_min_ratio=10,
             **common),
        dict(type=PHASES + 'CosinePhaseLR', phase=(0.4, 1),
             eta_min_ratio=1e-3, **common),
        dict(type=PHASES + 'CosinePhaseMomentum', phase=(0, 0.4),
             eta_min_ratio=0.85 / 0.95, **common),
        dict(type=PHASES + 'CosinePhaseMomentum', phase=(0.4, 1),
             eta_min_ratio=1.0, **common),
    ]


@pytest.mark.parametrize('epochs,epoch_length', [(4, 10), (8, 7), (10, 3),
                                                 (20, 13), (60, 5)])
def test_phases_equal_the_hand_written_schedule(epochs, epoch_length):
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    ours = _run(_phases(end=epochs), epochs, epoch_length)
    ref = _run(_hand_written(epochs), epochs, epoch_length)
    for (lr, b1), (ref_lr, ref_b1) in zip(ours, ref):
        assert lr == pytest.approx(ref_lr, rel=1e-12)
        assert b1 == pytest.approx(ref_b1, rel=1e-12)


def test_phase_bounds_and_errors():
    from cmkd_mmdet3d.engine.schedulers.onecycle import phase_bounds
    assert phase_bounds((0, 0.4), 0, 20) == (0, 20 * 0.4, 20 * 0.4)
    assert phase_bounds((0.4, 1), 0, 20) == (20 * 0.4, 20, 20 * 0.6)
    assert phase_bounds((0.5, 1), 10, 30) == (20, 30, 10)
    with pytest.raises(ValueError, match='train_cfg.max_epochs'):
        _run(_phases()[:1], 1, 2)       # no end, no Runner to give one
    with pytest.raises(ValueError, match='phase'):
        phase_bounds((0.4, 0.2), 0, 10)


def test_a_phase_shorter_than_one_iteration_gets_one():
    """A 1-epoch run of 2 iterations (a smoke run): the warm-up phase
    (0, 0.4) covers 0.8 iterations, which mmengine would truncate to an
    empty phase and refuse; it gets iteration 0 instead, and the run's
    learning rates stay positive and finite."""
    wrapper = build_optim_wrapper(
        torch.nn.Linear(2, 2),
        dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-4)))
    warm = PARAM_SCHEDULERS.build(
        dict(_phases(end=1)[0]),
        default_args=dict(optimizer=wrapper, epoch_length=2))
    assert (warm.begin, warm.end, warm.T_max) == (0, 1, 1)
    lrs = [lr for lr, _ in _run(_phases(end=1), epochs=1, epoch_length=2)]
    assert len(lrs) == 2 and all(0 < lr < 1 for lr in lrs)
