"""mmdet's ResNet with torchvision's dilation pattern.

The CMKD depth network is torchvision's ``deeplabv3_resnet50``
(``Cc-Hy/CMKD:pcdet/models/backbones_3d/vfe/image_vfe_modules/ffn/ddn/
ddn_deeplabv3.py``), whose ResNet is built with
``replace_stride_with_dilation=[False, True, True]``. torchvision's
``ResNet._make_layer`` gives the FIRST block of a dilated stage the dilation
of the previous stage and the other blocks the new one:

====== ======= ========================
stage  block 0 blocks 1 ...
====== ======= ========================
layer3 1       2
layer4 2       4
====== ======= ========================

mmdet's ``ResLayer`` dilates every block of a stage alike (layer3 all 2,
layer4 all 4). The parameter shapes and names are the same either way; only
the receptive field of the first block's 3x3 conv differs.
"""
from mmdet.models.backbones import ResNet
from mmdet.models.layers import ResLayer
from mmdet3d.registry import MODELS


@MODELS.register_module()
class DilatedResNet(ResNet):
    """``mmdet.ResNet`` whose dilated stages follow torchvision's pattern.

    Args:
        torchvision_dilation (bool): If True (default), block 0 of stage
            ``i`` (``i >= 1``) is built with ``dilations[i - 1]`` and the
            other blocks with ``dilations[i]``, as torchvision's
            ``ResNet(replace_stride_with_dilation=...)`` does: with
            ``strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4)`` the 3x3 conv
            (``conv2`` of a Bottleneck) of ``layer3.0`` has dilation 1,
            ``layer3.1-5`` 2, ``layer4.0`` 2 and ``layer4.1-2`` 4. If False,
            identical to ``mmdet.ResNet`` (every block at ``dilations[i]``).
        **kwargs: ``mmdet.ResNet``'s arguments (``depth``, ``strides``,
            ``dilations``, ``out_indices``, ``init_cfg`` ...).
    """

    def __init__(self, *args, torchvision_dilation: bool = True, **kwargs):
        # read by make_res_layer, which ResNet.__init__ calls; a plain
        # attribute may be set before nn.Module.__init__
        self._torchvision_dilation = bool(torchvision_dilation)
        super().__init__(*args, **kwargs)
        self.torchvision_dilation = self._torchvision_dilation

    def make_res_layer(self, **kwargs) -> ResLayer:
        """Build stage ``len(self.res_layers)``; with torchvision's pattern
        its first block is rebuilt at the previous stage's dilation.

        Args:
            **kwargs: ``ResLayer``'s arguments as ``ResNet.__init__`` passes
                them (``block``, ``inplanes``, ``planes``, ``num_blocks``,
                ``stride``, ``dilation`` ...).

        Returns:
            ResLayer: The stage (blocks ``layerN.0`` ... keep their names).
        """
        layer = ResLayer(**kwargs)
        stage = len(self.res_layers)          # appended after this returns
        previous = self.dilations[stage - 1] if stage > 0 else 1
        if self._torchvision_dilation and previous != kwargs['dilation']:
            first = ResLayer(**dict(kwargs, num_blocks=1, dilation=previous))
            layer[0] = first[0]
        return layer
