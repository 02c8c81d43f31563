"""Bad inputs refused with the file, key or frame named: non-finite losses
(raise / skip, plain and AMP optim wrappers, student and distiller), depth-bin
and voxel-grid settings at build time, CMKD checkpoints given to the student,
checkpoints matching nothing and truncated checkpoint files."""
import pytest
import torch
from _helpers.models import STAGE1, STUDENT, _build, _cfg


# --------------------------------------------------------------------------
# 1. non-finite losses
# --------------------------------------------------------------------------
class _Passthrough(torch.nn.Module):
    """Data preprocessor stand-in: the batch is already model input."""

    def forward(self, data, training=False):
        return data


def _fake_training(model, key, nan_at):
    """Replace the model's loss by a quadratic of its trainable parameters
    under ``key``; non-finite at the (1-based) calls in ``nan_at``."""
    params = [p for p in model.parameters() if p.requires_grad][:3]
    calls = []

    def loss(inputs, data_samples):
        calls.append(1)
        value = sum((p.float() - 1).pow(2).mean() for p in params)
        if len(calls) in nan_at:
            value = value * float('nan')
        return {key: value, 'loss_other': params[0].float().mean() * 0}

    model.loss = loss
    model.data_preprocessor = _Passthrough()
    return params


def _data(i):
    from mmdet3d.structures import Det3DDataSample
    samples = [Det3DDataSample(metainfo=dict(
        img_path=f'training/image_2/{i:06d}.png'))]
    return dict(inputs=dict(imgs=torch.zeros(1, 3, 8, 8)),
                data_samples=samples)


def _optim_wrapper(model, amp=False, monkeypatch=None):
    from mmengine.optim import AmpOptimWrapper, OptimWrapper
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.1)
    if not amp:
        return OptimWrapper(optimizer)
    if not torch.cuda.is_available():
        # AmpOptimWrapper refuses to be built without an accelerator; on CPU
        # its GradScaler is disabled and autocast runs on the CPU, which is
        # all the guard needs (it never looks at the wrapper type)
        import mmengine.optim.optimizer.amp_optimizer_wrapper as amp_mod
        monkeypatch.setattr(amp_mod, 'is_cuda_available', lambda: True)
    return AmpOptimWrapper(optimizer=optimizer)


def _set_iter(i):
    from mmengine.logging import MessageHub
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', i)
    hub.update_info('epoch', 0)


MODELS_AND_KEYS = [(STUDENT, 'loss_depth'), (STAGE1, 'distill.loss_bev')]


@pytest.mark.parametrize('cfg_path,key', MODELS_AND_KEYS)
@pytest.mark.parametrize('amp', [False, True])
def test_nonfinite_loss_stops_training_naming_key_iter_and_frame(
        cfg_path, key, amp, monkeypatch):
    from cmkd_mmdet3d.models.detectors.guards import NonFiniteLossError
    model = _build(cfg_path)
    params = _fake_training(model, key, nan_at={3})
    wrapper = _optim_wrapper(model, amp, monkeypatch)
    for i in range(2):
        _set_iter(i)
        before = [p.detach().clone() for p in params]
        model.train_step(_data(i), wrapper)
        assert any(not torch.equal(b, p) for b, p in zip(before, params))
    _set_iter(2)
    before = [p.detach().clone() for p in params]
    with pytest.raises(NonFiniteLossError,
                       match=rf"non-finite loss {key}=nan at iteration 3 "
                       r"\(runner.iter 2, epoch 1\), frames "
                       r"\['training/image_2/000002.png'\]"):
        model.train_step(_data(2), wrapper)
    # stopped before the optimizer step: nothing changed
    assert all(torch.equal(b, p) for b, p in zip(before, params))
    assert all(p.grad is None or not p.grad.isnan().any() for p in params)


@pytest.mark.parametrize('cfg_path,key', MODELS_AND_KEYS)
@pytest.mark.parametrize('amp', [False, True])
def test_nonfinite_loss_skip_keeps_parameters_and_is_bounded(
        cfg_path, key, amp, monkeypatch):
    from cmkd_mmdet3d.models.detectors.guards import (NonFiniteLossError,
                                                      NonFiniteLossWarning)
    model = _build(cfg_path, nonfinite_loss=dict(action='skip',
                                                 max_consecutive=2))
    params = _fake_training(model, key, nan_at={2, 4, 5, 6})
    wrapper = _optim_wrapper(model, amp, monkeypatch)
    _set_iter(0)
    model.train_step(_data(0), wrapper)
    _set_iter(1)
    before = [p.detach().clone() for p in params]
    with pytest.warns(NonFiniteLossWarning,
                      match=rf'non-finite loss {key}=nan at iteration 2 .*'
                      'step skipped'):
        log_vars = model.train_step(_data(1), wrapper)
    assert all(torch.equal(b, p) for b, p in zip(before, params))
    assert key not in log_vars and 'loss' not in log_vars
    assert log_vars['nonfinite_skipped'].item() == 1
    # a finite step trains again and resets the streak
    _set_iter(2)
    model.train_step(_data(2), wrapper)
    assert any(not torch.equal(b, p) for b, p in zip(before, params))
    for i in (3, 4):
        _set_iter(i)
        with pytest.warns(NonFiniteLossWarning):
            model.train_step(_data(i), wrapper)
    _set_iter(5)
    with pytest.raises(NonFiniteLossError,
                       match=rf'{key}=nan at iteration 6 .*3 consecutive '
                       r'steps .*max_consecutive=2'):
        model.train_step(_data(5), wrapper)


def test_nonfinite_loss_outside_train_step_raises_even_in_skip_mode():
    """MMDistributedDataParallel calls parse_losses and then updates
    unconditionally: a skip is impossible there, so training stops."""
    from cmkd_mmdet3d.models.detectors.guards import NonFiniteLossError
    model = _build(STUDENT, nonfinite_loss='skip')
    losses = dict(loss_depth=torch.tensor(float('inf')),
                  loss_cls=[torch.tensor(1.0), torch.tensor(float('nan'))],
                  acc=torch.tensor(float('nan')))
    with pytest.raises(NonFiniteLossError,
                       match=r'loss_depth=inf, loss_cls=nan at .*cannot skip '
                       'under MMDistributedDataParallel'):
        model.parse_losses(losses)
    # finite losses parse as in mmengine
    loss, log_vars = model.parse_losses(dict(loss_a=torch.tensor(2.0)))
    assert loss.item() == 2.0 and list(log_vars) == ['loss', 'loss_a']


def test_nonfinite_loss_option_is_validated():
    with pytest.raises(ValueError, match="nonfinite_loss.action must be one "
                       r"of \('raise', 'skip'\), got 'ignore'"):
        _build(STUDENT, nonfinite_loss='ignore')
    with pytest.raises(ValueError, match='nonfinite_loss.max_consecutive must'
                       ' be a positive integer, got 0'):
        _build(STUDENT, nonfinite_loss=dict(action='skip', max_consecutive=0))


# --------------------------------------------------------------------------
# 3. checkpoints given to the student
# --------------------------------------------------------------------------
def _load_like_the_runner(model, path, strict=False):
    """What ``Runner.load_checkpoint`` (load_from, tools/test.py) does."""
    from mmengine.runner.checkpoint import (_load_checkpoint,
                                            _load_checkpoint_to_model)
    ckpt = _load_checkpoint(path, map_location='cpu')
    return _load_checkpoint_to_model(model, ckpt, strict)


def test_unextracted_cmkd_checkpoint_loads_into_the_student(tmp_path,
                                                            monkeypatch):
    from cmkd_mmdet3d.models.detectors import guards
    logged = []
    monkeypatch.setattr(guards, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    torch.manual_seed(1)
    source = _build(STUDENT)
    torch.manual_seed(2)
    model = _build(STUDENT)
    state = {f'student.{k}': v for k, v in source.state_dict().items()}
    state['teacher.backbone.blocks.0.0.weight'] = torch.ones(2, 2)
    path = str(tmp_path / 'epoch_4.pth')
    torch.save(dict(meta=dict(epoch=4), state_dict=state), path)
    _load_like_the_runner(model, path, strict=True)    # nothing unexpected
    for k, v in source.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k
    assert len(logged) == 1 and 'epoch_4.pth is a CMKD (distiller) ' \
        f"checkpoint: loading its {len(state) - 1} 'student.*' tensors" \
        in logged[0] and "ignoring its 1 'teacher.*'" in logged[0]
    # torch's own load_state_dict goes through the same hook
    torch.manual_seed(3)
    other = _build(STUDENT)
    other.load_state_dict(dict(state), strict=True)
    assert torch.equal(other.lift_neck.collapse.conv.weight,
                       source.lift_neck.collapse.conv.weight)


def test_checkpoint_matching_nothing_is_refused_naming_the_file(tmp_path):
    model = _build(STUDENT)
    path = str(tmp_path / 'pointpillars_teacher.pth')
    torch.save(dict(state_dict={'voxel_encoder.pfn.weight': torch.ones(2),
                                'backbone.x.weight': torch.ones(1)}), path)
    with pytest.raises(RuntimeError,
                       match=r'checkpoint .*pointpillars_teacher.pth matches '
                       r'none of the \d+ keys of CMKDMono3D: its 2 keys '
                       r'\[backbone.x.weight, voxel_encoder.pfn.weight\]'):
        _load_like_the_runner(model, path)
    # a state dict that is not from a file is not blamed on one
    with pytest.raises(RuntimeError, match='^the state dict matches none of '
                       'the'):
        model.load_state_dict({'foo': torch.ones(1)}, strict=False)


# --------------------------------------------------------------------------
# 4. truncated checkpoint files
# --------------------------------------------------------------------------
def test_truncated_checkpoint_names_the_file(tmp_path):
    from cmkd_mmdet3d import compat
    path = str(tmp_path / 'full.pth')
    torch.save(dict(meta=dict(epoch=1),
                    state_dict={'w': torch.randn(64, 64),
                                'b': torch.randn(64)}), path)
    data = open(path, 'rb').read()
    for n in (0, 1, 10, 100, len(data) // 2, len(data) - 10):
        cut = str(tmp_path / f'epoch_{n}.pth')
        with open(cut, 'wb') as f:
            f.write(data[:n])
        with pytest.raises(compat.CorruptCheckpointError,
                           match=rf'cannot read checkpoint .*epoch_{n}.pth '
                           rf'\({n} bytes\): truncated or not a checkpoint'):
            compat.safe_load_checkpoint(cut)
        # and through mmengine's loader (load_from, --resume, tools/test.py)
        from mmengine.runner.checkpoint import _load_checkpoint
        with pytest.raises(compat.CorruptCheckpointError,
                           match=rf'epoch_{n}.pth'):
            _load_checkpoint(cut, map_location='cpu')
    legacy = str(tmp_path / 'legacy.pth')
    torch.save({'w': torch.randn(16)}, legacy,
               _use_new_zipfile_serialization=False)
    data = open(legacy, 'rb').read()
    with open(legacy, 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(compat.CorruptCheckpointError,
                       match='legacy.pth .*truncated or not a checkpoint'):
        compat.safe_load_checkpoint(legacy)
    # the whole file still loads
    assert torch.equal(compat.safe_load_checkpoint(path)['state_dict']['b'],
                       torch.load(path)['state_dict']['b'])


def test_runner_load_from_with_a_cmkd_checkpoint_loads_the_student(
        tmp_path):
    """``tools/test.py STUDENT_CONFIG cmkd_epoch_N.pth`` path: the runner's
    ``load_checkpoint`` (what ``load_from`` runs) loads the student part."""
    from mmengine.runner import Runner
    cfg = _cfg(STUDENT)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.launcher = 'none'
    torch.manual_seed(5)
    source = _build(STUDENT)
    state = {f'student.{k}': v for k, v in source.state_dict().items()}
    state['teacher.voxel_encoder.pfn_layers.0.linear.weight'] = \
        torch.ones(64, 9)
    path = str(tmp_path / 'cmkd_epoch_4.pth')
    torch.save(dict(meta=dict(epoch=4), state_dict=state), path)
    runner = Runner.from_cfg(cfg)
    runner.load_checkpoint(path)
    got = runner.model.state_dict()
    for k, v in source.state_dict().items():
        assert torch.equal(got[k], v), k
    log = open(runner.logger.log_file).read()
    assert 'cmkd_epoch_4.pth is a CMKD (distiller) checkpoint' in log
    assert 'unexpected key' not in log
