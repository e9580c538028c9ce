"""The MIXRTs model shipped for notebook 08 loads with weights_only=True into the networks train builds, and plays."""
import json
from pathlib import Path

import numpy as np
import torch

from course_lib.config import config_from_dict
from course_lib.params import count_parameters, map_sizes
from course_lib.train import build_networks

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "mixrts"


def _load():
    config = config_from_dict(json.loads((ASSETS / "mixrts_3m_seed0_config.json").read_text()))
    mac, mixer = build_networks(config, map_sizes("3m", **config.env_args))
    weights = torch.load(ASSETS / "mixrts_3m_seed0.pt", map_location="cpu", weights_only=True)
    mac.load_state_dict(weights["mac"])  # strict: every key present, every shape right
    mixer.load_state_dict(weights["mixer"])
    return config, mac, mixer


def test_shipped_model_loads_strictly_and_matches_its_meta():
    config, mac, mixer = _load()
    meta = json.loads((ASSETS / "mixrts_3m_seed0_meta.json").read_text())
    assert config.alg == "mixrts" and config.map_name == "3m"
    n = sum(p.numel() for p in mac.parameters()) + sum(p.numel() for p in mixer.parameters())
    assert n == meta["parameters"] == count_parameters("mixrts", "3m", preset=config.preset)["total"]
    for name in ("README.md", "mixrts_3m_seed0_curves.csv", "make_assets.py"):
        assert (ASSETS / name).exists()


def test_shipped_model_wins_greedy_battles_where_random_play_wins_none():
    from course_lib.interpret import episode_importance

    _, mac, mixer = _load()
    results = [episode_importance(mac, "3m", seed=s, mixer=mixer, record_frames=False) for s in range(4)]
    assert sum(r["won"] for r in results) >= 2
    w = results[0]["mixing_weights"]
    assert (w >= 0).all() and np.allclose(w.sum(-1), 1.0, atol=1e-5)
