"""torchvision ``deeplabv3_resnet50`` state dict -> ``DepthDistributionNet``.

The reference depth network (``Cc-Hy/CMKD:pcdet/models/backbones_3d/vfe/
image_vfe_modules/ffn/ddn/ddn_template.py``, ``DDNTemplate.get_model`` and
``filter_pretrained_dict``) builds torchvision's ``deeplabv3_resnet50`` with
``num_bins + 1`` classes and loads the whole COCO checkpoint
(``deeplabv3_resnet50_coco-cd0a2569.pth``): backbone, ASPP and the head's
3x3 conv; it drops ``aux_classifier.*`` (no auxiliary head) and, because the
class count differs, the last classifier conv ``classifier.4.*``, which
keeps its fresh initialisation.

Key mapping (torchvision -> ours), ``N`` = number of atrous branches (3):

=====================================  ======================================
``backbone.*``                         ``backbone.*`` (mmdet ResNet names =
                                       torchvision's)
``classifier.0.convs.{i}.0`` / ``.1``  ``aspp.branches.{i}.conv`` / ``.bn``
(``i <= N``: 1x1 and atrous branches)
``classifier.0.convs.{N+1}.1`` / ``.2``  ``aspp.image_pool.1.conv`` / ``.bn``
``classifier.0.project.0`` / ``.1``    ``aspp.project.0.conv`` / ``.bn``
``classifier.1`` / ``classifier.2``    ``depth_head.0.conv`` / ``.bn``
``classifier.4``                       ``depth_head.1`` (dropped when the
                                       class count differs)
``aux_classifier.*``                   dropped
=====================================  ======================================

Pure: depends on nothing but the standard library (the tensors are passed
through untouched), so that ``tools/analysis_tools/
check_deeplabv3_conversion.py`` can import it beside torchvision.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Tuple

#: torchvision's last classifier conv (``DeepLabHead[4]``) and ours
TV_LAST_CONV = ('classifier.4.weight', 'classifier.4.bias')
LAST_CONV = ('depth_head.1.weight', 'depth_head.1.bias')

_CONVS = re.compile(r'^classifier\.0\.convs\.(\d+)\.(\d+)\.(.+)$')
_PROJECT = re.compile(r'^classifier\.0\.project\.(\d+)\.(.+)$')
_HEAD = re.compile(r'^classifier\.([1-4])\.(.+)$')


def is_deeplabv3_state_dict(state_dict: Mapping) -> bool:
    """Whether ``state_dict`` has torchvision DeepLabV3 names
    (``backbone.*`` and ``classifier.0.convs.*``).

    Args:
        state_dict (Mapping): Parameter name -> tensor.

    Returns:
        bool
    """
    keys = list(state_dict)
    return any(k.startswith('classifier.0.convs.') for k in keys) and any(
        k.startswith('backbone.') for k in keys)


def _num_conv_branches(keys: List[str]) -> int:
    """Number of entries of torchvision's ``ASPP.convs`` (1x1 branch, atrous
    branches and the pooling branch, the last)."""
    idx = [int(m.group(1)) for m in map(_CONVS.match, keys) if m]
    return max(idx) + 1 if idx else 0


def convert_deeplabv3_key(key: str, num_conv_branches: int = 5
                          ) -> Optional[str]:
    """One torchvision ``deeplabv3_resnet*`` key -> ours.

    Args:
        key (str): A torchvision key, e.g. ``classifier.0.convs.1.1.weight``.
        num_conv_branches (int): ``len(ASPP.convs)`` of the checkpoint: the
            1x1 branch, the atrous branches and the image-pooling branch
            (5 for rates (12, 24, 36)).

    Returns:
        str | None: Our key (``aspp.branches.1.bn.weight``), or None for a
        key that has no counterpart (``aux_classifier.*``).

    Raises:
        KeyError: If ``key`` is not a DeepLabV3 key.
    """
    if key.startswith('aux_classifier.'):
        return None
    if key.startswith('backbone.'):
        return key
    pool = num_conv_branches - 1
    m = _CONVS.match(key)
    if m:
        branch, idx, rest = int(m.group(1)), int(m.group(2)), m.group(3)
        if branch < pool and idx in (0, 1):      # Sequential(conv, bn, relu)
            return f'aspp.branches.{branch}.{("conv", "bn")[idx]}.{rest}'
        if branch == pool and idx in (1, 2):     # (pool, conv, bn, relu)
            return f'aspp.image_pool.1.{("conv", "bn")[idx - 1]}.{rest}'
    m = _PROJECT.match(key)                      # (conv, bn, relu, dropout)
    if m and m.group(1) in ('0', '1'):
        return f'aspp.project.0.{("conv", "bn")[int(m.group(1))]}.' \
               f'{m.group(2)}'
    m = _HEAD.match(key)          # 1: 3x3 conv, 2: bn, 3: relu, 4: 1x1 conv
    if m and m.group(1) in ('1', '2', '4'):
        return {'1': 'depth_head.0.conv.', '2': 'depth_head.0.bn.',
                '4': 'depth_head.1.'}[m.group(1)] + m.group(2)
    raise KeyError(key)


def convert_deeplabv3_state_dict(
        state_dict: Mapping,
        num_classes: Optional[int] = None,
        source: str = '<state dict>') -> Tuple[Dict, List[str]]:
    """torchvision ``deeplabv3_resnet*`` state dict -> ``DepthDistributionNet``
    state dict, as the reference's ``filter_pretrained_dict``.

    Args:
        state_dict (Mapping): torchvision names -> tensors (a checkpoint's
            ``state_dict`` / ``model`` entry is unwrapped by the caller).
        num_classes (int, optional): Our depth classes (``num_bins + 1``).
            The last conv (``classifier.4``: (C, 256, 1, 1) weight, (C,)
            bias) is kept only when it has exactly this many classes, as in
            the reference; None always drops it.
        source (str): Name of the checkpoint, for error messages.

    Returns:
        tuple[OrderedDict, list[str]]: Our names -> the same tensor objects,
        and the torchvision keys that were dropped (``aux_classifier.*``
        and, unless kept, ``classifier.4.*``).

    Raises:
        ValueError: If ``state_dict`` is not a torchvision DeepLabV3 state
            dict, or has keys this mapping does not know (all listed).
    """
    keys = list(state_dict)
    if not is_deeplabv3_state_dict(state_dict):
        raise ValueError(
            f'{source} is not a torchvision DeepLabV3 state dict (no '
            f'backbone.* / classifier.0.convs.* keys; first keys: '
            f'{keys[:5]})')
    n = _num_conv_branches(keys)
    keep_last = False
    if num_classes is not None and TV_LAST_CONV[0] in state_dict:
        keep_last = tuple(state_dict[TV_LAST_CONV[0]].shape)[:1] == \
            (num_classes, )
    out, dropped, unknown = OrderedDict(), [], []
    for k in keys:
        try:
            new = convert_deeplabv3_key(k, n)
        except KeyError:
            unknown.append(k)
            continue
        if new is None or (k in TV_LAST_CONV and not keep_last):
            dropped.append(k)
        else:
            out[new] = state_dict[k]
    if unknown:
        raise ValueError(f'{source}: keys that are not part of torchvision\'s '
                         f'deeplabv3_resnet (no counterpart): {unknown}')
    return out, dropped


def check_converted_keys(missing: List[str], unexpected: List[str],
                         allowed_missing: List[str],
                         source: str = '<state dict>') -> None:
    """Raise unless the keys left over by ``load_state_dict(strict=False)``
    are exactly the expected ones.

    Args:
        missing (list[str]): Our keys the converted state dict lacks.
        unexpected (list[str]): Converted keys our network lacks.
        allowed_missing (list[str]): Keys that must be missing, and the
            only ones that may be (the last conv; ``num_batches_tracked`` of
            old checkpoints is tolerated too).
        source (str): Name of the checkpoint, for the message.

    Raises:
        ValueError: Naming ``source`` and every offending key.
    """
    missing_set = {k for k in missing
                   if not k.endswith('.num_batches_tracked')}
    extra_missing = sorted(missing_set - set(allowed_missing))
    not_missing = sorted(set(allowed_missing) - set(missing))
    if extra_missing or unexpected or not_missing:
        raise ValueError(
            f'{source} does not load into the depth network as torchvision '
            f"deeplabv3_resnet50 does (check depth, aspp_channels, "
            f'aspp_dilations): missing {extra_missing}, unexpected '
            f'{sorted(unexpected)}, expected to be missing but present '
            f'{not_missing}')
