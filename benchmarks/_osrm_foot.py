"""OSRM's foot profile as a reference, run by another Python (osrm-bindings needs >= 3.12).

    PYTHON312 benchmarks/_osrm_foot.py MAP.osm.pbf WORKDIR < pairs.json > routes.json

`pairs.json` is [[lat1, lon1, lat2, lon2], ...]; each answer is {"distance_m", "duration_s"} or
null where OSRM finds no route. Not a benchmark itself (the leading underscore hides it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path


def main() -> int:
    import osrm  # type: ignore[import-not-found]

    source, work = Path(sys.argv[1]), Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    pbf = work / "map.osm.pbf"
    shutil.copyfile(source, pbf)
    home = Path(osrm.__file__).parent
    tools = home / "bin"
    profile = home / "share" / "profiles" / "foot.lua"
    base = work / "map.osrm"
    for command in (
        [tools / "osrm-extract", "-p", profile, pbf],
        [tools / "osrm-partition", base],
        [tools / "osrm-customize", base],
    ):
        subprocess.run([str(c) for c in command], check=True, capture_output=True)
    engine = osrm.OSRM(storage_config=str(base), algorithm="MLD", use_shared_memory=False)
    answers = []
    for lat1, lon1, lat2, lon2 in json.load(sys.stdin):
        params = osrm.RouteParameters(coordinates=[(lon1, lat1), (lon2, lat2)], overview="false")
        try:
            route = engine.Route(params)["routes"][0]
            answers.append({"distance_m": route["distance"], "duration_s": route["duration"]})
        except (RuntimeError, KeyError, IndexError):
            answers.append(None)
    json.dump(answers, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
