"""Outcome models (issue 3, section 3): what drives business activity, survival, provincial gaps
and the effect of village regulations, with guard rails against meaningless numbers.

Every model takes a :class:`~kkbm_analysis.data.ProgramData` (or the documented analysis
frame) and returns a result object with ``summary()`` (also ``print(result)`` and Jupyter
display), a tidy ``estimates`` DataFrame with 95% intervals (and odds or hazard ratios),
and ``interpretation(lang='id'|'en')``, a sentence generated from the numbers (Indonesian
with decimal commas)::

    import kkbm_analysis as kk
    from kkbm_analysis import models
    data = kk.ProgramData.load("data/processed/demo")
    models.business_running_model(data)                    # logit, SEs clustered by community
    models.business_running_model(data, method="mixed")    # random-intercept GLMM
    models.survival_curves(data).plot()                    # Kaplan-Meier by mentoring points
    models.business_survival_model(data)                   # Cox, clustered SEs, PH check
    models.province_gap_decomposition(data, "33", "35")    # Oaxaca-Blinder, Jateng vs Jatim
    models.perdes_effect(data)                             # Callaway-Sant'Anna staggered DiD

Definitions of the analysis frames are in :mod:`kkbm_analysis.models.frames`; the guard
rails (minimum sizes, clusters, separation, variation) in :mod:`kkbm_analysis.models._base`.
When inputs cannot support a model, a :class:`ModelInputError` names the problem; fragile
results raise a :class:`ModelWarning` and carry a note in the summary.
"""
from ._base import (FEW_CLUSTERS, MIN_CLUSTERS, MIN_EVENTS_PER_PARAMETER, MIN_OBSERVATIONS, ModelInputError,
                    ModelResult, ModelWarning)
from .business import BusinessModelResult, business_running_model
from .decomposition import FACTOR_GROUPS, GapDecomposition, province_gap_decomposition
from .did import PerdesEffect, perdes_effect
from .frames import (DEFAULT_COVARIATES, business_outcome_frame, business_survival_frame, community_staffing,
                     departures_panel, observation_end)
from .survival import SurvivalCurves, SurvivalModelResult, business_survival_model, survival_curves

__all__ = [
    "ModelInputError", "ModelWarning", "ModelResult", "MIN_OBSERVATIONS", "MIN_EVENTS_PER_PARAMETER",
    "MIN_CLUSTERS", "FEW_CLUSTERS", "DEFAULT_COVARIATES", "FACTOR_GROUPS",
    "business_outcome_frame", "business_survival_frame", "community_staffing", "departures_panel",
    "observation_end",
    "business_running_model", "BusinessModelResult",
    "survival_curves", "SurvivalCurves", "business_survival_model", "SurvivalModelResult",
    "province_gap_decomposition", "GapDecomposition",
    "perdes_effect", "PerdesEffect",
]
