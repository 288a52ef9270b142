"""Speed of partial update files and of "did you mean" against a large layer.

Anchors (issue 16), measured against a peer in the same run so that machine load cancels out:

* an update file of ``--changed`` rows x 3 columns (id, access_status, access_reason) on a
  layer of ``--sites`` gathering points lands faster than the full re-import of the layer's
  own export (the peer), and within 10 s;
* the closest known ids of a mistyped id, among ``--sites`` ids, within 50 ms each.

Usage::

    python benchmarks/bench_updates.py [--sites 20000] [--changed 2000] [--typos 100] [--seed 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

import pandas as pd

from geoplan.demo.scenario import generate_scenario
from geoplan.imports import export_layer, import_file
from geoplan.outputs import write_csv
from geoplan.spreadsheets import closest_ids
from geoplan.store import open_store
from geoplan.updates import update_file

TODAY = dt.date(2026, 11, 30)
ANCHOR_UPDATE_S = 10.0
ANCHOR_HINT_MS = 50.0


def main() -> None:
    """Build the layer, time the peer import, the update and the suggestions; print figures."""
    args = _arguments()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        store = open_store(root / "ws.gpkg")
        sites = generate_scenario(seed=args.seed, sites=args.sites, visits=0, today=TODAY)
        store.upsert("gathering_points", sites["gathering_points"])
        export_layer(store, "gathering_points", root / "all.csv")
        peer = _timed(lambda: import_file(root / "all.csv", "gathering_points", store=store))
        ids = sorted(store.ids("gathering_points"))
        changes = _update_file(root / "update.csv", ids, args.changed, args.seed)
        result_box: list[int] = []
        took = _timed(
            lambda: result_box.append(
                len(update_file(changes, "gathering_points", store=store).changes)
            )
        )
        hint_ms = _hint_ms(ids, args.typos, args.seed)
    print(f"sites {len(ids):,}; update of {args.changed:,} rows x 3 columns: {took:.2f} s")
    print(f"  {result_box[0]:,} field changes listed")
    print(f"  peer, full re-import of the layer's export: {peer:.2f} s")
    verdict = "met" if took < min(peer, ANCHOR_UPDATE_S) else "MISSED"
    print(f"  anchor: under the peer and within {ANCHOR_UPDATE_S:.0f} s: {verdict}")
    hint_verdict = "met" if hint_ms <= ANCHOR_HINT_MS else "MISSED"
    print(f"did you mean among {len(ids):,} ids: {hint_ms:.1f} ms per mistyped id")
    print(f"  anchor: within {ANCHOR_HINT_MS:.0f} ms: {hint_verdict}")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=20000)
    parser.add_argument("--changed", type=int, default=2000)
    parser.add_argument("--typos", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def _timed(step: object) -> float:
    start = time.perf_counter()
    step()  # type: ignore[operator]
    return time.perf_counter() - start


def _update_file(path: Path, ids: list[str], changed: int, seed: int) -> Path:
    chosen = random.Random(seed).sample(ids, changed)
    frame = pd.DataFrame(
        {"id": chosen, "access_status": "inaccessible", "access_reason": "checkpoint"}
    )
    return write_csv(frame, path)


def _hint_ms(ids: list[str], typos: int, seed: int) -> float:
    rng = random.Random(seed)
    wrong = [_typo(rng.choice(ids), rng) for _ in range(typos)]
    start = time.perf_counter()
    for text in wrong:
        closest_ids(text, ids)
    return (time.perf_counter() - start) * 1000 / typos


def _typo(text: str, rng: random.Random) -> str:
    position = rng.randrange(len(text))
    return text[:position] + "O" + text[position + 1 :]


if __name__ == "__main__":
    main()
