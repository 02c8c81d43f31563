from . import (backbones, dense_heads, detectors, layers,  # noqa: F401
               losses, middle_encoders, necks, utils)
