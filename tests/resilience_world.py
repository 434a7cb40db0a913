"""The demo-seed resilience world shared by the resilience tests (computed once per session)."""
from __future__ import annotations

import functools
import warnings


@functools.cache
def demo_world():
    """(ProgramData with the survey, analysis frame, baseline CFA) on the demo seed."""
    from kkbm_analysis.config import DEFAULT_SEED
    from kkbm_analysis.resilience import analysis_frame, cfa
    from kkbm_analysis.synth import demo_data

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = demo_data(seed=DEFAULT_SEED)
        frame = analysis_frame(data)
        model = cfa(frame)
    return data, frame, model
