from .onecycle import CosinePhaseLR, CosinePhaseMomentum

__all__ = ['CosinePhaseLR', 'CosinePhaseMomentum']
