from .draw import draw_bev, draw_boxes_on_image, render_prediction_panel

__all__ = ['draw_bev', 'draw_boxes_on_image', 'render_prediction_panel']
