"""The table schemas are pandera's own, built without importing Dask (``kkbm_analysis.frame_models``)."""
from __future__ import annotations

import subprocess
import sys
import threading

from kkbm_analysis.schema import TABLES


def test_every_table_schema_equals_the_one_pandera_builds_unaided():
    """pandera keeps a model's schema per thread: a new thread builds each one again with pandera's own probes."""
    unaided = {}
    builder = threading.Thread(target=lambda: unaided.update({n: t.model.to_schema() for n, t in TABLES.items()}))
    builder.start()
    builder.join()
    assert sorted(unaided) == sorted(TABLES)
    for name, spec in TABLES.items():
        assert spec.schema is not unaided[name] and spec.schema == unaided[name], name


def test_building_every_schema_imports_no_dask():
    probe = ("import sys\nfrom kkbm_analysis.schema import TABLES\n"
             "assert all(len(t.schema.columns) for t in TABLES.values())\n"
             "print(sorted(m for m in sys.modules if m == 'dask' or m.startswith('dask.')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]", done.stdout
