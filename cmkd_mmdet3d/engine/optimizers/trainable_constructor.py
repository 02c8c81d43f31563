"""An optimizer wrapper constructor that leaves frozen parameters out."""
from mmdet3d.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from torch import nn


class _Trainable:
    """``parameters()`` of a model without the ``requires_grad=False``
    ones."""

    def __init__(self, model: nn.Module) -> None:
        self._model = model

    def parameters(self):
        return (p for p in self._model.parameters() if p.requires_grad)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class TrainableOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """``DefaultOptimWrapperConstructor`` whose optimizer holds only the
    trainable parameters: CMKD's frozen teacher never enters the optimizer
    (nor its gradient clipping). mmengine's default passes
    ``model.parameters()`` whole when there is no ``paramwise_cfg``; with a
    ``paramwise_cfg`` it already skips frozen parameters."""

    def __call__(self, model: nn.Module) -> OptimWrapper:
        if hasattr(model, 'module'):
            model = model.module
        if self.paramwise_cfg:
            return super().__call__(model)
        return super().__call__(_Trainable(model))
