"""Voices beside numbers: coded interviews, focus groups and documents, triangulated with the
barrier indicators.

Researchers code qualitative material in NVivo, ATLAS.ti, MAXQDA or QualCoder and exchange
it as REFI-QDA projects (``.qdpx``) or coded-segments spreadsheets. This package

* reads both (:func:`read_qdpx`, :func:`read_segments_file`) and writes ``.qdpx``
  (:func:`write_qdpx`);
* ingests them into pseudonymised, redacted Parquet tables with every file, source and
  segment accounted for (:func:`ingest_voices`; ``kkbm voices ingest``);
* maps the study's codes onto the bilingual, versioned barrier-theme codebook
  (:func:`load_codebook`, ``resources/barrier_themes.yaml``);
* analyses them: theme prevalence (:func:`theme_prevalence`, suppressed:
  :func:`published_prevalence`), co-occurrence, saturation, inter-coder agreement;
* sets each province's barrier indicators beside the matching themes and publishable
  excerpts, with a convergence verdict (:func:`joint_display`);

::

    from kkbm_analysis import qualitative as qual
    voices = qual.Voices.load("data/processed/demo-voices")
    qual.theme_prevalence(voices, by="province")
    qual.joint_display(qual.barrier_metrics(data), voices).to_markdown("35", lang="id")
"""
from .agreement import Agreement, intercoder_agreement
from .analysis import (Cooccurrence, Saturation, ThemePrevalence, cooccurrence, published_prevalence, saturation,
                       theme_prevalence)
from .codebook import Codebook, CodebookError, load_codebook, map_codes
from .ingest import VoicesIngest, ingest_voices
from .joint import JointDisplay, barrier_metrics, joint_display
from .model import QualProject
from .redact import Redactor
from .refi import QdpxError, read_qdpx, write_qdpx
from .spreadsheet import read_segments_file
from .voices import Voices

__all__ = ["Agreement", "Codebook", "CodebookError", "Cooccurrence", "JointDisplay", "QdpxError", "QualProject",
           "Redactor", "Saturation", "ThemePrevalence", "Voices", "VoicesIngest", "barrier_metrics", "cooccurrence",
           "ingest_voices", "intercoder_agreement", "joint_display", "load_codebook",
           "map_codes", "published_prevalence", "read_qdpx", "read_segments_file", "saturation", "theme_prevalence",
           "write_qdpx"]
