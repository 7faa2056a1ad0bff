"""One cold run of what ``deconfliction detect --all-pairs --format csv`` does, timed.

Run as a fresh process; prints a JSON object of step -> seconds. Only the standard
library is imported before the first timer starts, so the import step counts
everything the command loads (typer, numpy, pyproj, the domain). The CSV is written
as the command writes it (``Conflicts.rows`` into ``csv.writer``), to a buffer.

    python bench/_process_breakdown.py STATES.csv
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time


def main(argv: list[str]) -> int:
    """Time the steps on the states file ``argv[0]``; returns the exit code."""
    t0 = time.perf_counter()
    from deconfliction.cli.app import build_app

    build_app()  # what the console script does before the command runs
    from deconfliction.adapters.states_csv import read_states
    from deconfliction.domain.alerting import default_alert_levels
    from deconfliction.domain.detect import detect_conflicts
    from deconfliction.domain.model import (
        CONFLICT_FIELDS,
        DetectionSettings,
        SeparationMinima,
    )

    t1 = time.perf_counter()
    states = read_states(argv[0])
    t2 = time.perf_counter()
    settings = DetectionSettings(
        SeparationMinima(5.0, 1000.0), 300.0, default_alert_levels(), False
    )
    conflicts = detect_conflicts(states, settings)
    t3 = time.perf_counter()
    rows = list(conflicts.rows(states))
    t4 = time.perf_counter()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CONFLICT_FIELDS)
    writer.writerows(rows)
    t5 = time.perf_counter()
    json.dump(
        {
            "imports and building the command line (typer, numpy, domain)": t1 - t0,
            "read_states": t2 - t1,
            "detect_conflicts (cold: includes pyproj set-up)": t3 - t2,
            "Conflicts.rows (ids, rounding, to Python lists)": t4 - t3,
            "csv writing": t5 - t4,
        },
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
