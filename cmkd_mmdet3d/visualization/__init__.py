from .bev_features import (bev_to_display, channel_norm, cosine_map,
                           display_extent, mean_cosine, mean_mse,
                           mse_per_cell, render_bev_feature_figure)
from .draw import draw_bev, draw_boxes_on_image, render_prediction_panel

__all__ = [
    'draw_bev', 'draw_boxes_on_image', 'render_prediction_panel',
    'channel_norm', 'cosine_map', 'mse_per_cell', 'mean_mse', 'mean_cosine',
    'bev_to_display', 'display_extent', 'render_bev_feature_figure'
]
