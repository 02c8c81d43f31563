from . import (dense_heads, detectors, losses, middle_encoders,  # noqa: F401
               necks, utils)
