from .prediction_vis_hook import PredictionVisHook
from .pseudo_label_hook import PseudoLabelHook

__all__ = ['PredictionVisHook', 'PseudoLabelHook']
