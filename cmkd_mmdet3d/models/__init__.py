from . import dense_heads, detectors, losses, necks, utils  # noqa: F401
