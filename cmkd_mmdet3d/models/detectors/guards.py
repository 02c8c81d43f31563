"""Training and loading guards shared by ``CMKD`` and ``CMKDMono3D``.

* :class:`NonFiniteLossGuard`: a NaN / inf loss never reaches the optimizer.
  By default training stops with :class:`NonFiniteLossError` naming the loss
  keys, their values, the iteration and the frames of the batch; with
  ``nonfinite_loss=dict(action='skip', max_consecutive=N)`` the step is
  skipped instead (no backward, no optimizer update, a warning naming the
  loss) and training stops after ``N`` consecutive skipped steps. The check
  sits in the model (``parse_losses`` / ``train_step``), so it applies
  whatever the optim wrapper is (``OptimWrapper``, ``AmpOptimWrapper`` from
  ``--amp``) and to the student alone and the distiller, with no config line.
* :class:`CheckpointKeysGuard`: ``load_from`` / ``--checkpoint`` /
  ``init_cfg=Pretrained`` with a checkpoint that matches none of the model's
  keys is refused with the file named (instead of evaluating a random model);
  ``CMKDMono3D`` additionally loads an unextracted CMKD checkpoint (keys
  ``student.*`` / ``teacher.*``) by stripping ``student.`` and dropping the
  teacher, with a log line saying so (what
  ``tools/model_converters/extract_student.py`` writes once and for all).
"""
import logging
import math
import warnings
from typing import Dict, List, Tuple, Union

import torch
from mmengine.logging import MessageHub, print_log
from torch import Tensor

NONFINITE_ACTIONS = ('raise', 'skip')


class NonFiniteLossError(FloatingPointError):
    """A loss was NaN or inf (training stops before the optimizer step)."""


class NonFiniteLossWarning(RuntimeWarning):
    """A training step was skipped because a loss was NaN or inf."""


def nonfinite_loss_cfg(cfg: Union[None, str, dict]) -> Tuple[str, int]:
    """Normalise the ``nonfinite_loss`` model option.

    Args:
        cfg (None | str | dict): None or ``'raise'`` (stop at the first
            non-finite loss, the default), ``'skip'``, or
            ``dict(action='raise' | 'skip', max_consecutive=5)``.

    Returns:
        tuple[str, int]: The action and the largest number of consecutive
        skipped steps before training stops.
    """
    if cfg is None:
        cfg = {}
    if isinstance(cfg, str):
        cfg = dict(action=cfg)
    if not isinstance(cfg, dict):
        raise TypeError('nonfinite_loss must be "raise", "skip" or '
                        f'dict(action=..., max_consecutive=...), got {cfg!r}')
    unknown = set(cfg) - {'action', 'max_consecutive'}
    if unknown:
        raise ValueError(f'nonfinite_loss: unknown keys {sorted(unknown)}; '
                         'use action and max_consecutive')
    action = cfg.get('action', 'raise')
    limit = cfg.get('max_consecutive', 5)
    if action not in NONFINITE_ACTIONS:
        raise ValueError(f'nonfinite_loss.action must be one of '
                         f'{NONFINITE_ACTIONS}, got {action!r}')
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError('nonfinite_loss.max_consecutive must be a positive '
                         f'integer, got {limit!r}')
    return action, limit


def _frames(data_samples) -> List[str]:
    """What identifies each sample: its image path, else its LiDAR path,
    else its ``sample_idx``."""
    frames = []
    for s in data_samples or []:
        meta = getattr(s, 'metainfo', {}) or {}
        for key in ('img_path', 'lidar_path', 'sample_idx'):
            value = meta.get(key)
            if value is not None:
                frames.append(str(value))
                break
    return frames


class NonFiniteLossGuard:
    """Mixin for mmengine ``BaseModel`` detectors: refuse (or skip) a step
    whose loss is NaN or inf. Call :meth:`_init_nonfinite_guard` in
    ``__init__``.

    The check runs in :meth:`parse_losses` (which ``MMDistributedDataParallel``
    also calls, so multi-GPU runs stop too) and :meth:`train_step` skips the
    update in ``'skip'`` mode. Under ``MMDistributedDataParallel`` the
    wrapper's own ``train_step`` calls ``optim_wrapper.update_params``
    unconditionally, so a step cannot be skipped there: ``'skip'`` then stops
    training like ``'raise'`` (never trains on the bad loss).
    """

    def _init_nonfinite_guard(self, nonfinite_loss: Union[None, str,
                                                          dict]) -> None:
        self.nonfinite_action, self.nonfinite_max_consecutive = \
            nonfinite_loss_cfg(nonfinite_loss)
        self._nonfinite_streak = 0      # consecutive skipped steps
        self._nonfinite_calls = 0       # parse_losses calls (fallback iter)
        self._nonfinite_bad: Dict[str, float] = {}
        self._nonfinite_frames: List[str] = []
        self._in_guarded_step = False

    # -- bookkeeping ------------------------------------------------------
    def forward(self, inputs, data_samples=None, mode: str = 'tensor',
                **kwargs):
        if mode == 'loss':  # remember the frames for the error message
            self._nonfinite_frames = _frames(data_samples)
        return super().forward(inputs, data_samples, mode=mode, **kwargs)

    def _where(self) -> str:
        hub = MessageHub.get_current_instance()
        it, epoch = hub.get_info('iter'), hub.get_info('epoch')
        if it is None:
            where = f'training step {self._nonfinite_calls} of this model'
        else:
            where = f'iteration {it + 1} (runner.iter {it}'
            where += f', epoch {epoch + 1})' if epoch is not None else ')'
        frames = self._nonfinite_frames
        if frames:
            more = f' and {len(frames) - 4} more' if len(frames) > 4 else ''
            where += f', frames {frames[:4]}{more}'
        return where

    # -- the check --------------------------------------------------------
    def parse_losses(self, losses: Dict[str, Union[Tensor, List[Tensor]]]
                     ) -> Tuple[Tensor, Dict[str, Tensor]]:
        """mmengine's ``parse_losses`` plus the finiteness check.

        Args:
            losses (dict): Raw losses of :meth:`loss`.

        Returns:
            tuple[Tensor, dict]: The total loss (scalar) and the log
            variables (scalars), as in mmengine.

        Raises:
            NonFiniteLossError: a loss is NaN / inf and the action is
                ``'raise'`` (or the step cannot be skipped), naming every
                non-finite loss key, its value and the iteration.
        """
        loss, log_vars = super().parse_losses(losses)
        self._nonfinite_calls += 1
        keys = [k for k in log_vars if 'loss' in k and k != 'loss'] + [
            'loss']
        values = [log_vars[k] for k in keys]
        tensors = [v.detach().float().reshape(()) for v in values
                   if isinstance(v, Tensor)]
        # one device sync for all tensors (an empty list of losses sums to
        # the int 0 in mmengine)
        floats = iter(torch.stack(tensors).tolist() if tensors else [])
        numbers = [next(floats) if isinstance(v, Tensor) else float(v)
                   for v in values]
        bad = {k: x for k, x in zip(keys[:-1], numbers[:-1])
               if not math.isfinite(x)}
        if not math.isfinite(numbers[-1]) and not bad:  # inf sum of finite
            bad = {'loss': numbers[-1]}
        self._nonfinite_bad = bad
        if bad and (self.nonfinite_action == 'raise'
                    or not self._in_guarded_step):
            names = ', '.join(f'{k}={v}' for k, v in bad.items())
            how = '' if self.nonfinite_action == 'raise' else (
                " (nonfinite_loss.action='skip' cannot skip under "
                "MMDistributedDataParallel, whose train_step updates "
                'unconditionally)')
            raise NonFiniteLossError(
                f'non-finite loss {names} at {self._where()}: training '
                f'stopped before the optimizer step{how}. Lower the learning '
                'rate, check the inputs of these frames, or set '
                "model.nonfinite_loss=dict(action='skip', max_consecutive=N)"
                ' to skip such steps')
        return loss, log_vars

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper) -> Dict[str, Tensor]:
        """mmengine's ``BaseModel.train_step`` (forward under the wrapper's
        ``optim_context``, e.g. AMP autocast; parse; update) except that a
        non-finite loss never reaches ``optim_wrapper.update_params``.

        Args:
            data (dict | tuple | list): A batch from the dataloader.
            optim_wrapper (OptimWrapper): ``OptimWrapper`` /
                ``AmpOptimWrapper`` ...

        Returns:
            dict[str, Tensor]: Log variables; after a skipped step only the
            finite ones plus ``nonfinite_skipped`` (the current streak).

        Raises:
            NonFiniteLossError: see :meth:`parse_losses`; in ``'skip'`` mode
                after more than ``max_consecutive`` consecutive skips.
        """
        self._in_guarded_step = True
        try:
            with optim_wrapper.optim_context(self):
                data = self.data_preprocessor(data, True)
                losses = self._run_forward(data, mode='loss')
            parsed, log_vars = self.parse_losses(losses)
        finally:
            self._in_guarded_step = False
        if not self._nonfinite_bad:
            self._nonfinite_streak = 0
            optim_wrapper.update_params(parsed)
            return log_vars
        self._nonfinite_streak += 1
        names = ', '.join(f'{k}={v}' for k, v in self._nonfinite_bad.items())
        limit = self.nonfinite_max_consecutive
        if self._nonfinite_streak > limit:
            raise NonFiniteLossError(
                f'non-finite loss {names} at {self._where()}: '
                f'{self._nonfinite_streak} consecutive steps with a '
                f'non-finite loss (nonfinite_loss.max_consecutive={limit}); '
                'training stopped')
        msg = (f'non-finite loss {names} at {self._where()}: step skipped '
               '(no backward, no optimizer update), '
               f'{self._nonfinite_streak} of at most {limit} in a row')
        print_log(msg, logger='current', level=logging.WARNING)
        warnings.warn(msg, NonFiniteLossWarning)
        del parsed, losses
        kept = {k: v for k, v in log_vars.items()
                if k != 'loss' and k not in self._nonfinite_bad and (
                    bool(torch.isfinite(v.detach()).all()) if isinstance(
                        v, Tensor) else math.isfinite(v))}
        kept['nonfinite_skipped'] = torch.tensor(float(
            self._nonfinite_streak))
        return kept


class CheckpointKeysGuard:
    """Mixin for detectors: refuse a checkpoint that matches none of the
    model's keys, naming the file; with ``strip_student_prefix`` load an
    unextracted CMKD checkpoint (``student.*`` / ``teacher.*``) into the
    student alone.

    Implemented in ``_load_from_state_dict`` of the top-level module, which
    both ``torch.nn.Module.load_state_dict`` and mmengine's
    ``load_state_dict`` (``load_from``, ``--checkpoint``, ``Pretrained``)
    call before they descend into the submodules with the same dict, so the
    renamed keys are the ones the submodules load.
    """

    strip_student_prefix = False

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        if prefix == '':  # this model is the one being loaded, not a part
            self._check_checkpoint_keys(state_dict)
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def _check_checkpoint_keys(self, state_dict: dict) -> None:
        """Rename / drop CMKD keys in place (see the class), then refuse a
        state dict with no key of this model.

        Args:
            state_dict (dict): The (copied) state dict being loaded; edited
                in place.

        Raises:
            RuntimeError: no key matches, naming the checkpoint file (the
                last one read by :func:`cmkd_mmdet3d.compat.
                safe_load_checkpoint`) and a few of its keys.
        """
        from ...compat import last_loaded_checkpoint
        filename = last_loaded_checkpoint(state_dict)
        source = f'checkpoint {filename}' if filename else 'the state dict'
        own = set(self.state_dict(keep_vars=True))
        name = type(self).__name__
        if self.strip_student_prefix and not any(
                k.startswith('student.') for k in own) and any(
                k.startswith('student.') for k in state_dict):
            student = [k for k in list(state_dict)
                       if k.startswith('student.')]
            teacher = [k for k in list(state_dict)
                       if k.startswith('teacher.')]
            for k in student:
                state_dict[k[len('student.'):]] = state_dict.pop(k)
            for k in teacher:
                state_dict.pop(k)
            print_log(
                f'{name}: {source} is a CMKD (distiller) checkpoint: loading '
                f"its {len(student)} 'student.*' tensors with the prefix "
                f"removed and ignoring its {len(teacher)} 'teacher.*' "
                'tensors (tools/model_converters/extract_student.py writes '
                'the student alone)', logger='current')
        if not own & set(state_dict):
            keys = sorted(state_dict)
            few = ', '.join(keys[:5]) + (' ...' if len(keys) > 5 else '')
            raise RuntimeError(
                f'{source} matches none of the {len(own)} keys of '
                f'{name}: its {len(keys)} keys [{few}] belong to another '
                'model; refusing to run with random weights (a CMKD '
                'checkpoint for the student alone: '
                'tools/model_converters/extract_student.py)')
