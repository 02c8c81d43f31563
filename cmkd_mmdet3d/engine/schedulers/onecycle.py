"""Cosine phases of a one-cycle schedule, placed as fractions of training.

mmengine's schedulers take ``begin`` / ``end`` (and ``T_max``) in epochs, so a
one-cycle schedule written with them has to be spelled out again for every
epoch count. These two take ``phase=(start, stop)``, fractions of the span
``[begin, end)`` of the whole schedule, and leave ``end`` unset in the config:
mmengine's Runner then ends it at ``train_cfg.max_epochs`` (its default for
a scheduler without ``end``), so a config changes the length of its one-cycle
schedule with ``train_cfg`` alone::

    param_scheduler = [
        # lr: from the optimizer's lr up to 10 x lr over the first 40 % ...
        dict(type='CosinePhaseLR',
             phase=(0, 0.4), eta_min_ratio=10, by_epoch=True,
             convert_to_iter_based=True),
        # ... then down to 1e-3 x lr
        dict(type='CosinePhaseLR',
             phase=(0.4, 1), eta_min_ratio=1e-3, by_epoch=True,
             convert_to_iter_based=True),
    ]

A phase ``(a, b)`` of a schedule of ``n = end - begin`` epochs is mmengine's
``CosineAnnealingLR`` / ``CosineAnnealingMomentum`` with
``begin = begin + n * a``, ``end = begin + n * b``, ``T_max = n * (b - a)``:
exactly the values of the hand-written form (``T_max=epochs * 0.4,
begin=0, end=epochs * 0.4`` ...), also after ``convert_to_iter_based``.

Built outside a Runner (``PARAM_SCHEDULERS.build`` with ``epoch_length``),
``end`` has to be given: it is the end of the whole schedule.

The classes are registered in mmdet3d's ``PARAM_SCHEDULERS`` when the
plugin is imported (``custom_imports``).
"""
from typing import Optional, Sequence, Tuple

from mmdet3d.registry import PARAM_SCHEDULERS
from mmengine.optim.scheduler import (CosineAnnealingLR,
                                      CosineAnnealingMomentum)
from mmengine.optim.scheduler.param_scheduler import INF

__all__ = ['phase_bounds', 'CosinePhaseLR', 'CosinePhaseMomentum']


def phase_bounds(phase: Sequence[float], begin: float,
                 end: float) -> Tuple[float, float, float]:
    """``(begin, end, T_max)`` of the phase ``(start, stop)`` (fractions) of
    a schedule over ``[begin, end)``."""
    if end == INF or end is None:
        raise ValueError(
            'a CosinePhase scheduler needs the end of its schedule: leave '
            '`end` unset under mmengine\'s Runner (it defaults to '
            'train_cfg.max_epochs) or give it when building the scheduler '
            'yourself')
    start, stop = phase
    if not 0 <= start < stop <= 1:
        raise ValueError(f'phase must be (start, stop) with 0 <= start < '
                         f'stop <= 1, got {tuple(phase)}')
    span = end - begin
    return begin + span * start, begin + span * stop, span * (stop - start)


class _PhaseMixin:
    """``phase=(start, stop)`` instead of ``begin`` / ``end`` / ``T_max``."""

    def __init__(self,
                 optimizer,
                 phase: Optional[Sequence[float]] = None,
                 begin: float = 0,
                 end: float = INF,
                 T_max: Optional[float] = None,
                 **kwargs):
        if phase is not None:
            if T_max is not None:
                raise ValueError('give phase or T_max, not both')
            begin, end, T_max = phase_bounds(phase, begin, end)
        super().__init__(optimizer, T_max=T_max, begin=begin, end=end,
                         **kwargs)

    @classmethod
    def build_iter_from_epoch(cls,
                              *args,
                              phase: Optional[Sequence[float]] = None,
                              begin: float = 0,
                              end: float = INF,
                              T_max: Optional[float] = None,
                              epoch_length: Optional[int] = None,
                              **kwargs):
        if phase is not None:
            if T_max is not None:
                raise ValueError('give phase or T_max, not both')
            begin, end, T_max = phase_bounds(phase, begin, end)
            # mmengine truncates begin / end to whole iterations; a phase
            # shorter than one iteration (a 1-epoch smoke run of a few
            # iterations) would be empty and refused: give it one iteration
            if epoch_length and int(end * epoch_length) <= int(
                    begin * epoch_length):
                end = (int(begin * epoch_length) + 1) / epoch_length
                T_max = end - begin
        return super().build_iter_from_epoch(
            *args, begin=begin, end=end, T_max=T_max,
            epoch_length=epoch_length, **kwargs)


@PARAM_SCHEDULERS.register_module()
class CosinePhaseLR(_PhaseMixin, CosineAnnealingLR):
    """mmengine's ``CosineAnnealingLR`` over the fraction ``phase`` of the
    schedule (see the module docstring)."""


@PARAM_SCHEDULERS.register_module()
class CosinePhaseMomentum(_PhaseMixin, CosineAnnealingMomentum):
    """mmengine's ``CosineAnnealingMomentum`` (beta1 of Adam) over the
    fraction ``phase`` of the schedule (see the module docstring)."""
