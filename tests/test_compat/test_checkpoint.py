"""cmkd_mmdet3d.compat.checkpoint: mmengine checkpoints load under torch's
weights_only default."""
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from cmkd_mmdet3d import compat
from conftest import REPO_ROOT


PAYLOAD_MARK = 'cmkd-payload-ran'


class _Exploit:
    """Pickles to a call of os.system (or any callable given)."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _save(obj, path):
    torch.save(obj, str(path))
    return str(path)


@pytest.mark.parametrize('payload', ['system', 'eval', 'getattr_ndarray',
                                     'getattr_history_buffer', 'instantiate'])
def test_malicious_checkpoint_is_refused(tmp_path, payload):
    marker = tmp_path / PAYLOAD_MARK
    cmd = f'touch {marker}'
    from mmengine.logging.history_buffer import HistoryBuffer
    from mmengine.optim.scheduler.param_scheduler import \
        OneCycleParamScheduler
    objs = {
        'system': _Exploit(os.system, cmd),
        'eval': _Exploit(eval, f'__import__("os").system("{cmd}")'),
        # getattr is allowed for HistoryBuffer statistics only
        'getattr_ndarray': _Exploit(getattr, np.ndarray, 'tofile'),
        'getattr_history_buffer': _Exploit(getattr, HistoryBuffer, '__init__'),
        # a class allowed only as a getattr target cannot be instantiated
        'instantiate': _Exploit(OneCycleParamScheduler, None, 'lr'),
    }
    path = _save({'state_dict': {'w': torch.ones(2)}, 'meta': objs[payload]},
                 tmp_path / 'evil.pth')
    with pytest.raises(compat.UnsafeCheckpointError) as err:
        compat.safe_load_checkpoint(path)
    assert 'evil.pth' in str(err.value)
    assert not marker.exists()
    # and the same through mmengine's loader used by load_from / resume
    from mmengine.runner.checkpoint import _load_checkpoint
    with pytest.raises(compat.UnsafeCheckpointError):
        _load_checkpoint(path, map_location='cpu')
    assert not marker.exists()


def test_error_names_the_offending_global(tmp_path):
    path = _save({'x': _Exploit(os.system, 'true')}, tmp_path / 'a.pth')
    with pytest.raises(compat.UnsafeCheckpointError,
                       match=r"(posix|os)\.system"):
        compat.safe_load_checkpoint(path)


def test_missing_checkpoint_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        compat.safe_load_checkpoint(tmp_path / 'nope.pth')


def test_plain_state_dict_and_numpy_content_load(tmp_path):
    obj = {
        'state_dict': {'w': torch.arange(6.).reshape(2, 3),
                       'b': torch.ones(1, dtype=torch.int64)},
        'meta': {'arr': np.arange(4, dtype=np.float32),
                 'scalar': np.float64(2.5),
                 'i': np.int64(3), 'dtype': np.dtype('float16'),
                 'classes': ('Car', 'Ped')},
    }
    out = compat.safe_load_checkpoint(_save(obj, tmp_path / 'ok.pth'))
    assert torch.equal(out['state_dict']['w'], obj['state_dict']['w'])
    np.testing.assert_array_equal(out['meta']['arr'], obj['meta']['arr'])
    assert out['meta']['scalar'] == 2.5 and out['meta']['dtype'] == np.float16
    assert out['meta']['classes'] == ('Car', 'Ped')


RUNNER_SCRIPT = textwrap.dedent('''
    import sys
    import torch
    import torch.nn as nn
    from mmengine.model import BaseModel
    from mmengine.runner import Runner
    from torch.utils.data import Dataset
    import cmkd_mmdet3d  # noqa: F401  (installs the safe loader)

    class Toy(BaseModel):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 1)

        def forward(self, x, mode='tensor'):
            out = self.lin(
                torch.stack(list(x)) if not torch.is_tensor(x) else x)
            if mode == 'loss':
                return dict(loss=((out - 1) ** 2).mean())
            return out

    class Data(Dataset):
        metainfo = dict(classes=('a', 'b'))
        def __len__(self):
            return 8
        def __getitem__(self, i):
            g = torch.Generator().manual_seed(i)
            return dict(x=torch.randn(2, generator=g))

    def runner(work_dir, epochs, resume):
        return Runner(
            model=Toy(), work_dir=work_dir, resume=resume,
            train_dataloader=dict(
                dataset=Data(), batch_size=2,
                sampler=dict(type='DefaultSampler', shuffle=True),
                collate_fn=dict(type='default_collate')),
            optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.01)),
            param_scheduler=dict(type='OneCycleLR', eta_max=0.01,
                                 total_steps=16, by_epoch=False),
            train_cfg=dict(by_epoch=True, max_epochs=epochs),
            default_hooks=dict(
                checkpoint=dict(type='CheckpointHook', interval=1)),
            randomness=dict(seed=0))

    work_dir = sys.argv[1]
    r = runner(work_dir, 2, False)
    r.train()
    r2 = runner(work_dir, 4, True)   # resumes from epoch_2.pth
    r2.train()
    assert r2.iter == 16, r2.iter
    lb = r2.message_hub.get_scalar('train/loss')
    print('RESUMED', r2.epoch, len(lb.data[0]))
''')


def test_genuine_mmengine_checkpoint_loads_and_resumes(tmp_path):
    """A Runner checkpoint (message hub, meta, AdamW and OneCycle state)
    resumes through the safe loader, in a fresh interpreter without any
    environment override."""
    script = tmp_path / 'run.py'
    script.write_text(RUNNER_SCRIPT)
    env = {k: v for k, v in os.environ.items()
           if k != 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'}
    env['PYTHONPATH'] = REPO_ROOT  # test this checkout, not an installed copy
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / 'w')],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'RESUMED 4' in proc.stdout
    ckpt = compat.safe_load_checkpoint(tmp_path / 'w' / 'epoch_4.pth')
    assert set(ckpt) >= {'meta', 'state_dict', 'message_hub', 'optimizer',
                         'param_schedulers'}
    assert ckpt['meta']['epoch'] == 4
    # the plain torch loader of this torch refuses the same file
    if tuple(int(v) for v in torch.__version__.split('.')[:2]) >= (2, 6):
        with pytest.raises(pickle.UnpicklingError):
            torch.load(tmp_path / 'w' / 'epoch_4.pth')
