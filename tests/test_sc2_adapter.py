"""The optional real-game adapter: error paths (no smac, SMAC3, no StarCraft II, no map) and the
batched adapter's logic against a fake oxwhirl-style environment (no StarCraft II needed)."""
import sys
import textwrap
import types

import numpy as np
import pytest
import torch

from course_lib.envs.smac import sc2
from course_lib.envs.smac.sc2 import SC2BatchedAdapter, SC2NotAvailableError, make_sc2_env


class FakeSC2Env:
    """Mimics oxwhirl's StarCraft2Env: 2 agents, 1 enemy, 7 actions, episode limit 5.

    Each attack action (6) removes 1 enemy hp and earns reward 1; the enemy starts with 3-5 hp (seeded);
    agent 1 dies at step 2 when nobody attacks at step 1 (so dead-agent masks appear).
    """

    instances = []

    def __init__(self, map_name="3m", seed=None, **kw):
        self.map_name, self._seed, self.kwargs = map_name, seed, kw
        self.n_agents, self.n_enemies, self.n_actions, self.episode_limit = 2, 1, 7, 5
        self.rng = np.random.default_rng(seed)
        self.timeouts = 0
        self.won_count = 0
        self.games = 0
        self.step_log = []
        FakeSC2Env.instances.append(self)

    def get_env_info(self):
        return {"state_shape": 3, "obs_shape": 4, "n_actions": 7, "n_agents": 2, "episode_limit": 5}

    def reset(self):
        self.t = 0
        self.enemy_hp = int(self.rng.integers(3, 6))
        self.alive = [True, True]
        self.nobody_attacked = False
        return self.get_obs(), self.get_state()

    def get_obs(self):
        return [np.array([self.t, self.enemy_hp, i, float(self.alive[i])], dtype=np.float32) for i in range(2)]

    def get_state(self):
        return np.array([self.t, self.enemy_hp, sum(self.alive)], dtype=np.float32)

    def get_avail_actions(self):
        return [[0, 1, 1, 1, 1, 1, 1] if self.alive[i] else [1, 0, 0, 0, 0, 0, 0] for i in range(2)]

    def step(self, actions):
        assert len(actions) == 2
        for i, a in enumerate(actions):
            assert self.get_avail_actions()[i][a] == 1, "SMAC asserts availability"
        self.step_log.append(list(actions))
        self.t += 1
        hits = sum(1 for a in actions if a == 6)
        dmg = min(hits, self.enemy_hp)
        self.enemy_hp -= dmg
        if self.t == 2 and self.nobody_attacked:
            self.alive[1] = False
        self.nobody_attacked = self.t == 1 and hits == 0
        won = self.enemy_hp == 0
        info = {"battle_won": won, "dead_allies": 2 - sum(self.alive), "dead_enemies": int(won)}
        term = won
        if not won and self.t >= self.episode_limit:
            term = True
            self.timeouts += 1
        if term:
            self.games += 1
            self.won_count += int(won)
        return float(dmg), term, info

    def get_stats(self):
        return {"battles_won": self.won_count, "battles_game": self.games, "battles_draw": self.timeouts,
                "timeouts": self.timeouts, "restarts": 0, "win_rate": 0.0}

    def close(self):
        self.closed = True


# ----------------------------------------------------------------------------- error paths
@pytest.fixture
def no_smac_modules(monkeypatch):
    for name in list(sys.modules):
        if name == "smac" or name.startswith("smac."):
            monkeypatch.delitem(sys.modules, name)
    return monkeypatch


def _write_pkg(root, files):
    for rel, src in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(src))


def test_missing_smac_says_what_to_install(no_smac_modules):
    no_smac_modules.setitem(sys.modules, "smac", None)  # makes `import smac` raise ImportError
    with pytest.raises(SC2NotAvailableError) as err:
        make_sc2_env("3m")
    msg = str(err.value)
    assert "pip install git+https://github.com/oxwhirl/smac.git" in msg
    assert "never `pip install smac`" in msg
    assert "SC2PATH" in msg and "SMAC_Maps" in msg and "4.10" in msg
    assert isinstance(err.value, RuntimeError)


def test_smac3_module_is_detected(no_smac_modules):
    fake = types.ModuleType("smac")
    fake.name = "SMAC3"
    fake.Scenario = object
    no_smac_modules.setitem(sys.modules, "smac", fake)
    with pytest.raises(SC2NotAvailableError, match="SMAC3.*hyperparameter"):
        make_sc2_env("3m")


def test_smac3_package_layout_is_detected_from_disk(no_smac_modules, tmp_path):
    # SMAC3 1.x has no `name` attribute, but its package holds a `facade` folder.
    _write_pkg(tmp_path, {"smac/__init__.py": "__version__ = '1.4.0'\n", "smac/facade/__init__.py": ""})
    no_smac_modules.syspath_prepend(str(tmp_path))
    with pytest.raises(SC2NotAvailableError, match="SMAC3"):
        sc2.import_oxwhirl_smac()


def test_smac_without_env_submodule_is_rejected(no_smac_modules, tmp_path):
    _write_pkg(tmp_path, {"smac/__init__.py": ""})
    no_smac_modules.syspath_prepend(str(tmp_path))
    with pytest.raises(SC2NotAvailableError, match="no 'smac.env'"):
        sc2.import_oxwhirl_smac()


def test_smac_with_missing_dependency_names_it(no_smac_modules, tmp_path):
    _write_pkg(tmp_path, {"smac/__init__.py": "", "smac/env/__init__.py": "import pysc2_not_installed_xyz\n"})
    no_smac_modules.syspath_prepend(str(tmp_path))
    with pytest.raises(SC2NotAvailableError, match="pysc2_not_installed_xyz"):
        sc2.import_oxwhirl_smac()


@pytest.fixture
def oxwhirl_fake(no_smac_modules, tmp_path):
    """A fake oxwhirl package whose smac.env.StarCraft2Env is FakeSC2Env."""
    pkg = types.ModuleType("smac")
    pkg.__path__ = []
    env_mod = types.ModuleType("smac.env")
    env_mod.StarCraft2Env = FakeSC2Env
    no_smac_modules.setitem(sys.modules, "smac", pkg)
    no_smac_modules.setitem(sys.modules, "smac.env", env_mod)
    FakeSC2Env.instances.clear()
    return no_smac_modules


def _fake_game_dir(tmp_path, maps=("3m",)):
    game = tmp_path / "StarCraftII"
    (game / "Versions").mkdir(parents=True)
    (game / "Maps" / "SMAC_Maps").mkdir(parents=True)
    for m in maps:
        (game / "Maps" / "SMAC_Maps" / f"{m}.SC2Map").write_bytes(b"fake")
    return game


def test_sc2path_pointing_nowhere(oxwhirl_fake, tmp_path):
    oxwhirl_fake.setenv("SC2PATH", str(tmp_path / "nope"))
    with pytest.raises(SC2NotAvailableError, match="does not exist"):
        make_sc2_env("3m")


def test_sc2path_without_versions_folder(oxwhirl_fake, tmp_path):
    oxwhirl_fake.setenv("SC2PATH", str(tmp_path))
    with pytest.raises(SC2NotAvailableError, match="Versions"):
        make_sc2_env("3m")


def test_no_sc2path_and_no_default_install(oxwhirl_fake, tmp_path):
    oxwhirl_fake.delenv("SC2PATH", raising=False)
    oxwhirl_fake.setattr(sc2, "_default_sc2_paths", lambda: [tmp_path / "StarCraftII"])
    with pytest.raises(SC2NotAvailableError, match="not found") as err:
        make_sc2_env("3m")
    assert str(tmp_path / "StarCraftII") in str(err.value)
    # ... and the default folder is used once it exists.
    game = _fake_game_dir(tmp_path)
    assert sc2.find_sc2_path() == game


def test_missing_map_file(oxwhirl_fake, tmp_path):
    oxwhirl_fake.setenv("SC2PATH", str(_fake_game_dir(tmp_path, maps=("3m",))))
    with pytest.raises(SC2NotAvailableError, match=r"8m\.SC2Map"):
        make_sc2_env("8m")


def test_make_sc2_env_returns_oxwhirl_env_or_adapter(oxwhirl_fake, tmp_path):
    oxwhirl_fake.setenv("SC2PATH", str(_fake_game_dir(tmp_path)))
    single = make_sc2_env("3m", seed=4, step_mul=8)
    assert isinstance(single, FakeSC2Env)
    assert single.map_name == "3m" and single._seed == 4 and single.kwargs == {"step_mul": 8}
    batched = make_sc2_env("3m", n_envs=3, seed=10, difficulty="7")
    assert isinstance(batched, SC2BatchedAdapter)
    assert [e._seed for e in batched.envs] == [10, 11, 12]
    assert all(e.kwargs == {"difficulty": "7"} for e in batched.envs)


# ----------------------------------------------------------------------------- adapter logic
def _stop_or_noop(nxt):
    """Stop (1) for living agents, no-op (0) for dead ones: always valid."""
    return torch.where(nxt["avail"][..., 1], 1, 0).long()


def _adapter(n_envs=3, auto_reset=True, seed=0):
    return SC2BatchedAdapter("3m", n_envs, device="cpu", seed=seed, auto_reset=auto_reset, env_fn=FakeSC2Env)


def test_reset_shapes_dtypes_and_env_info():
    env = _adapter()
    nxt = env.reset()
    assert nxt["obs"].shape == (3, 2, 4) and nxt["obs"].dtype == torch.float32
    assert nxt["state"].shape == (3, 3) and nxt["avail"].shape == (3, 2, 7) and nxt["avail"].dtype == torch.bool
    assert env.get_env_info() == dict(FakeSC2Env().get_env_info(), n_enemies=1)
    assert (env.n_agents, env.n_enemies, env.n_actions, env.episode_limit) == (2, 1, 7, 5)
    # State carries each game's seeded enemy hp.
    expected_hp = [int(np.random.default_rng(s).integers(3, 6)) for s in range(3)]
    assert nxt["state"][:, 1].tolist() == expected_hp


def test_step_matches_direct_stepping_of_the_games():
    rng = np.random.default_rng(1)
    env = _adapter(n_envs=4, seed=7)
    ref = [FakeSC2Env(seed=7 + b) for b in range(4)]
    for r in ref:
        r.reset()
    nxt = env.reset()
    for _ in range(12):
        avail = nxt["avail"].numpy()
        acts = np.array([[rng.choice(np.flatnonzero(avail[b, i])) for i in range(2)] for b in range(4)])
        nxt, rew, term, info = env.step(torch.as_tensor(acts))
        for b, r in enumerate(ref):
            rr, tt, ii = r.step(acts[b].tolist())
            assert rew[b].item() == rr and term[b].item() == tt
            assert info["battle_won"][b].item() == ii["battle_won"]
            assert info["dead_allies"][b].item() == ii["dead_allies"]
            if tt:
                r.reset()
            np.testing.assert_array_equal(nxt["obs"][b].numpy(), np.stack(r.get_obs()))
            np.testing.assert_array_equal(nxt["state"][b].numpy(), r.get_state())
            np.testing.assert_array_equal(nxt["avail"][b].numpy(), np.array(r.get_avail_actions()) > 0)
    assert rew.dtype == torch.float32 and term.dtype == torch.bool
    assert info["dead_allies"].dtype == torch.int64 and info["episode_limit"].dtype == torch.bool


def test_win_and_timeout_flags_and_auto_reset():
    env = _adapter(n_envs=2)
    nxt = env.reset()
    hp = nxt["state"][:, 1].clone()
    # env 0 attacks every step and wins; env 1 only stops and times out at step 5.
    won_at, timeout_at = None, None
    for t in range(1, 6):
        acts = _stop_or_noop(nxt)
        if won_at is None:
            acts[0] = 6
        nxt, rew, term, info = env.step(acts)
        if term[0] and won_at is None:
            won_at = t
            assert info["battle_won"][0] and not info["episode_limit"][0]
            assert nxt["state"][0, 0] == 0, "auto_reset: the returned obs is the new episode's first"
        if term[1]:
            timeout_at = t
            assert not info["battle_won"][1] and info["episode_limit"][1]
    assert won_at == int(np.ceil(hp[0].item() / 2))
    assert timeout_at == 5
    stats = env.get_stats()
    assert stats["battles_game"] == 2 and stats["battles_won"] == 1 and stats["win_rate"] == 0.5


def test_without_auto_reset_step_after_termination_raises_and_reset_mask_restarts_one():
    env = _adapter(n_envs=2, auto_reset=False)
    nxt = env.reset()
    for _ in range(5):
        nxt, _, term, info = env.step(_stop_or_noop(nxt))
    assert term.all() and info["episode_limit"].all()
    with pytest.raises(RuntimeError, match=r"environments \[0, 1\] have terminated"):
        env.step(_stop_or_noop(nxt))
    nxt = env.reset(torch.tensor([True, False]))
    assert nxt["state"][0, 0] == 0 and nxt["state"][1, 0] == 5
    with pytest.raises(RuntimeError, match=r"\[1\]"):
        env.step(_stop_or_noop(nxt))
    with pytest.raises(ValueError, match="reset mask"):
        env.reset(torch.tensor([1, 0]))


def test_dead_agent_mask_and_bad_actions():
    env = _adapter(n_envs=2)
    env.reset()
    stop = torch.ones(2, 2, dtype=torch.long)
    nxt, *_ = env.step(stop)   # nobody attacked at step 1 ...
    nxt, *_ = env.step(stop)   # ... so agent 1 dies at step 2
    assert nxt["avail"][:, 1].tolist() == [[True] + [False] * 6] * 2
    with pytest.raises(ValueError, match=r"env 0, agent 1: action 1 is not available; available actions: \[0\]"):
        env.step(stop)
    ok = torch.tensor([[1, 0], [1, 0]])
    with pytest.raises(ValueError, match=r"shape \[n_envs, n_agents\] = \[2, 2\]"):
        env.step(ok[:, :1])
    with pytest.raises(TypeError, match="integer"):
        env.step(ok.float())
    with pytest.raises(ValueError, match="out of range"):
        env.step(torch.tensor([[9, 0], [1, 0]]))
    env.step(ok)  # valid actions still work after the rejected ones


def test_adapter_argument_errors():
    with pytest.raises(ValueError, match="n_envs"):
        _adapter(n_envs=0)
    with pytest.raises(RuntimeError, match="reset"):
        _adapter().step(torch.ones(3, 2, dtype=torch.long))
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA"):
            SC2BatchedAdapter("3m", 2, device="cuda", env_fn=FakeSC2Env)


def test_close_closes_every_game():
    env = _adapter(n_envs=3)
    env.close()
    assert all(getattr(e, "closed", False) for e in env.envs)


def test_adapter_over_oxwhirl_api_facade_matches_batched_simulator():
    """Our StarCraft2Env has oxwhirl's API, so the adapter can drive it: environment b must then
    reproduce BatchedSMAC(seed=seed + b) step for step, auto-resets and timeout flags included."""
    from course_lib.envs import BatchedSMAC, StarCraft2Env
    from course_lib.envs.smac.policies import random_policy

    B, seed = 3, 5
    adapter = SC2BatchedAdapter("3m", B, seed=seed, env_fn=StarCraft2Env)
    sims = [BatchedSMAC("3m", 1, seed=seed + b) for b in range(B)]
    nxt = adapter.reset()
    sim_nxt = [s.reset() for s in sims]
    gen = torch.Generator().manual_seed(0)
    n_term = 0
    for _ in range(100):
        acts = random_policy(nxt["avail"], gen)
        nxt, rew, term, info = adapter.step(acts)
        for b, s in enumerate(sims):
            sn, sr, st, si = s.step(acts[b:b + 1])
            for k in ("obs", "state", "avail"):
                torch.testing.assert_close(nxt[k][b], sn[k][0])
            torch.testing.assert_close(rew[b], sr[0])
            assert term[b] == st[0]
            for k in si:
                assert info[k][b] == si[k][0], k
        n_term += int(term.sum())
    assert n_term >= 3, "several episodes ended (and auto-reset) during the comparison"
