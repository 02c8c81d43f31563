from .prediction_vis_hook import PredictionVisHook

__all__ = ['PredictionVisHook']
