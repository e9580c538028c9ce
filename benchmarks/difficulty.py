"""How hard is each map for the two reference policies? Win and timeout rates of uniformly random agents
and of the focus-fire script on every SMAC map.

    python benchmarks/difficulty.py                   # all 23 maps, 256 battles per policy
    python benchmarks/difficulty.py --maps 3m 5m_vs_6m --battles 64

Every battle is the first episode of one environment of a ``BatchedSMAC`` batch (seed 123; see
``course_lib.envs.smac.policies.battle_outcomes``), so the numbers are exactly reproducible. Prints a table and writes ``benchmarks/results/difficulty.json``.

The spec's anchors (section 8) say random agents almost never win 3m and focus fire wins most 3m battles
and far fewer 5m_vs_6m battles (tests/test_smac_difficulty.py checks these). The other rows show where the
simulator may differ from the real game most: maps of small melee units in crowds (see the README).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib.utils import save_json  # noqa: E402
from course_lib.envs import list_maps  # noqa: E402
from course_lib.envs.smac.policies import POLICIES, battle_outcomes  # noqa: E402


@torch.no_grad()
def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--maps", nargs="*", default=None, help="default: all 23 SMAC maps")
    p.add_argument("--battles", type=int, default=256, help="battles per map and policy")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "difficulty.json"))
    args = p.parse_args(argv)
    maps = args.maps or list_maps()
    rows = []
    print(f"{'map':<17} {'random win':>10} {'timeout':>8} {'length':>7}   {'focus win':>9} {'timeout':>8} "
          f"{'length':>7}")
    for m in maps:
        t0 = time.perf_counter()
        row = {"map": m, "battles": args.battles}
        for pol in POLICIES:
            row[pol] = battle_outcomes(m, pol, args.battles)
        rows.append(row)
        r, f = row["random"], row["focus_fire"]
        print(f"{m:<17} {r['win_rate']:>10.2f} {r['timeout_rate']:>8.2f} {r['mean_length']:>7.1f}   "
              f"{f['win_rate']:>9.2f} {f['timeout_rate']:>8.2f} {f['mean_length']:>7.1f}"
              f"   ({time.perf_counter() - t0:.0f} s)", flush=True)
    result = {"torch": torch.__version__, "seed": 123, "results": rows}
    save_json(result, args.out)
    return result


if __name__ == "__main__":
    main()
