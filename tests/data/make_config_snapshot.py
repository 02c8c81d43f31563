"""The keys of every config that matter, as plain JSON.

    PYTHONPATH=. python tests/data/make_config_snapshot.py          # write
    PYTHONPATH=. python tests/data/make_config_snapshot.py --check  # compare

For every config under ``configs/`` (not ``configs/_base_``) it records:

* ``model``, with a distiller's ``student`` / ``teacher`` given as
  ``dict(cfg_path=..., **overrides)`` resolved into the full model dicts the
  way ``cmkd_mmdet3d.models.detectors.teacher_utils.model_cfg_from`` does,
  except that ``cmkd_mmdet3d::<path>`` is read from this working tree's
  ``configs/<path>`` (mmengine's ``get_config`` would read the installed
  package's ``.mim`` copy, which may be stale), and its
  ``data_preprocessor`` as the distiller builds it (``distiller_preprocessor``:
  by default the student's, voxelising as the teacher's);
* the learning rate / beta1 schedule: every ``param_scheduler`` built as
  mmengine's Runner builds it (``end`` defaults to ``train_cfg.max_epochs``,
  epoch-based entries converted to iterations) on the config's
  ``optim_wrapper``, then stepped through the whole training with
  ``EPOCH_LENGTH`` iterations per epoch: per scheduler its parameter, first /
  last iteration, period and effective ``eta_min``, the ``by_epoch`` /
  ``convert_to_iter_based`` flags of its config entry; and lr / beta1 at the
  start of every epoch, at the peak and at the last iteration;
* ``optim_wrapper``, ``train_cfg``, ``val_cfg``, ``test_cfg``, the three
  dataloaders (batch size, sampler, datasets and pipelines), the evaluators,
  ``load_from``, ``auto_scale_lr``, ``default_hooks`` and ``custom_hooks``.

Values are normalised (tuples as lists, dict keys sorted, schedule values
rounded to 10 significant digits), so equal configs give equal JSON.
"""
import argparse
import copy
import glob
import json
import math
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_ROOT = osp.join(REPO_ROOT, 'configs')
SNAPSHOT = osp.join(REPO_ROOT, 'tests', 'data', 'config_snapshot.json')
EPOCH_LENGTH = 10
SCOPE = 'cmkd_mmdet3d::'
PLAIN_KEYS = ('optim_wrapper', 'train_cfg', 'val_cfg', 'test_cfg',
              'train_dataloader', 'val_dataloader', 'test_dataloader',
              'val_evaluator', 'test_evaluator', 'load_from',
              'auto_scale_lr', 'default_hooks', 'custom_hooks')


def config_paths():
    """Every config but the bases, relative to the repository root."""
    paths = glob.glob(osp.join(CONFIG_ROOT, '**', '*.py'), recursive=True)
    return sorted(
        osp.relpath(p, REPO_ROOT) for p in paths
        if osp.join(CONFIG_ROOT, '_base_') not in p)


def _setup():
    if REPO_ROOT not in sys.path:
        sys.path.insert(0, REPO_ROOT)
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    import cmkd_mmdet3d  # noqa: F401
    try:  # the one-cycle phase schedulers, wherever they get imported
        import cmkd_mmdet3d.engine.schedulers  # noqa: F401
    except ImportError:
        pass
    assert osp.dirname(cmkd_mmdet3d.__file__) == osp.join(
        REPO_ROOT, 'cmkd_mmdet3d'), (
            f'cmkd_mmdet3d imported from {cmkd_mmdet3d.__file__}, not from '
            f'{REPO_ROOT}: run with PYTHONPATH={REPO_ROOT}')


def _plain(obj, digits=None):
    """ConfigDict / tuple -> dict / list, recursively; optional rounding."""
    if isinstance(obj, dict):
        return {str(k): _plain(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v, digits) for v in obj]
    if isinstance(obj, float):
        if digits is not None and obj != 0 and math.isfinite(obj):
            return float(f'{obj:.{digits}g}')
        return obj
    return obj


_MODELS = {}


def resolve_model(spec):
    """``dict(cfg_path=..., **overrides)`` -> the model dict, from this
    working tree (``model_cfg_from`` with ``cmkd_mmdet3d::`` mapped to
    ``configs/``)."""
    from mmengine.config import Config
    if not (isinstance(spec, dict) and 'cfg_path' in spec):
        return spec
    overrides = {k: v for k, v in spec.items() if k != 'cfg_path'}
    path = spec['cfg_path']
    if path.startswith(SCOPE):
        path = osp.join(CONFIG_ROOT, path[len(SCOPE):])
    elif not osp.isabs(path):
        path = osp.join(REPO_ROOT, path)
    if path not in _MODELS:           # the same few teachers, many times
        _MODELS[path] = Config.fromfile(path).model
    model = copy.deepcopy(_MODELS[path])
    if overrides:
        model = Config._merge_a_into_b(overrides, model)
    return model


def schedule(cfg, epoch_length=EPOCH_LENGTH):
    """The lr / beta1 schedule of ``cfg``, as mmengine's Runner builds it."""
    import torch
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import PARAM_SCHEDULERS
    max_epochs = cfg.train_cfg.max_epochs
    wrapper = build_optim_wrapper(torch.nn.Linear(2, 2), cfg.optim_wrapper)
    entries = cfg.param_scheduler
    if isinstance(entries, dict):
        entries = [entries]
    scheds, described = [], []
    for entry in entries:
        entry = copy.deepcopy(entry)
        entry.setdefault('end', max_epochs)         # as Runner does
        sched = PARAM_SCHEDULERS.build(
            entry,
            default_args=dict(optimizer=wrapper, epoch_length=epoch_length))
        scheds.append(sched)
    group = wrapper.optimizer.param_groups[0]

    def beta1():
        return group['betas'][0] if 'betas' in group else group.get(
            'momentum')

    for entry, sched in zip(entries, scheds):
        base = sched.base_values[0]
        ratio = getattr(sched, 'eta_min_ratio', None)
        eta_min = getattr(sched, 'eta_min', None)
        if ratio is not None:
            eta_min = base * ratio
        described.append(dict(
            param=sched.param_name,
            begin=sched.begin,
            end=sched.end,
            T_max=getattr(sched, 'T_max', None),
            eta_min=eta_min,
            by_epoch=entry.get('by_epoch', True),
            convert_to_iter_based=entry.get('convert_to_iter_based', False)))
    total = max_epochs * epoch_length
    lrs, betas = [], []
    for _ in range(total):
        lrs.append(group['lr'])
        betas.append(beta1())
        for s in scheds:
            s.step()
    peak = max(range(total), key=lambda i: lrs[i])
    return _plain(dict(
        epoch_length=epoch_length,
        schedulers=described,
        per_epoch=dict(lr=lrs[::epoch_length], beta1=betas[::epoch_length]),
        begin=dict(lr=lrs[0], beta1=betas[0]),
        peak=dict(iter=peak, lr=lrs[peak], beta1=betas[peak]),
        min_beta1=min(betas) if betas[0] is not None else None,
        end=dict(lr=lrs[-1], beta1=betas[-1])), digits=10)


def snapshot_one(rel):
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO_ROOT, rel))
    model = cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') else dict(
        cfg.model)
    if model.get('type') == 'CMKD':
        from cmkd_mmdet3d.models.detectors.teacher_utils import \
            distiller_preprocessor
        for part in ('student', 'teacher'):
            model[part] = resolve_model(model.get(part))
        model['data_preprocessor'] = distiller_preprocessor(
            model.get('data_preprocessor'), model['student'],
            model['teacher'])
    out = dict(model=_plain(model))
    out['schedule'] = schedule(cfg)
    for key in PLAIN_KEYS:
        out[key] = _plain(cfg.get(key, '<unset>'))
    return json.loads(json.dumps(out, sort_keys=True, default=repr))


def make_snapshot(paths=None):
    _setup()
    return {rel: snapshot_one(rel) for rel in (paths or config_paths())}


def diff(old, new, path=''):
    """Human-readable differences between two JSON values."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new)):
            p = f'{path}.{k}' if path else k
            if k not in new:
                out.append(f'{p}: removed (was {old[k]!r:.200})')
            elif k not in old:
                out.append(f'{p}: added ({new[k]!r:.200})')
            else:
                out += diff(old[k], new[k], p)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(
            new):
        out = []
        for i, (a, b) in enumerate(zip(old, new)):
            out += diff(a, b, f'{path}[{i}]')
        return out
    if old != new:
        return [f'{path}: {old!r:.300} -> {new!r:.300}']
    return []


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--check', action='store_true',
                        help='compare with the snapshot instead of writing')
    parser.add_argument('--out', default=SNAPSHOT)
    args = parser.parse_args()
    snap = make_snapshot()
    if args.check:
        with open(args.out) as f:
            old = json.load(f)
        lines = diff(old, snap)
        print('\n'.join(lines) or 'no differences')
        sys.exit(1 if lines else 0)
    with open(args.out, 'w') as f:
        json.dump(snap, f, indent=1, sort_keys=True)
        f.write('\n')
    print(f'{len(snap)} configs -> {args.out}')


if __name__ == '__main__':
    main()
