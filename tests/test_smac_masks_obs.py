"""Action masks and observation/state values computed by hand from placed units (spec sections 2-4)."""
import math

import pytest
import torch

from course_lib.envs import BatchedSMAC, StarCraft2Env


def _three_marines():
    env = BatchedSMAC("3m", 1, seed=0, auto_reset=False)
    env.reset()
    return env


def test_dead_agent_may_only_noop_and_living_never_noop():
    env = _three_marines()
    nxt = env._place(0, 2, health=0)
    av = nxt["avail"][0]
    assert av[2].tolist() == [True] + [False] * 8
    assert not av[0, 0] and av[0, 1] and not av[1, 0] and av[1, 1]


def test_attack_only_within_shoot_range_6():
    env = _three_marines()
    env._place(0, 0, pos=(10.0, 10.0))
    env._place(0, 3, pos=(15.99, 10.0))      # 5.99 away: attackable
    env._place(0, 4, pos=(10.0, 16.02))      # 6.02 away: not attackable (but visible)
    nxt = env._place(0, 5, pos=(30.0, 30.0))
    av = nxt["avail"][0, 0]
    assert av[6:].tolist() == [True, False, False]
    # exactly 6.0 is still in range (SMAC: dist <= shoot_range)
    nxt = env._place(0, 4, pos=(10.0, 16.0))
    assert nxt["avail"][0, 0, 7]
    # a dead enemy is never attackable
    nxt = env._place(0, 3, health=0)
    assert not nxt["avail"][0, 0, 6]


def test_moves_blocked_at_map_bounds():
    env = _three_marines()
    nxt = env._place(0, 0, pos=(0.5, 16.0))                 # west: x - 1 < 0
    assert nxt["avail"][0, 0, 2:6].tolist() == [True, True, True, False]
    nxt = env._place(0, 0, pos=(31.5, 31.5))                # north and east: >= 32
    assert nxt["avail"][0, 0, 2:6].tolist() == [False, True, False, True]
    nxt = env._place(0, 0, pos=(1.2, 0.9))                  # 1.2 - 1 = 0.2 ok; 0.9 - 1 < 0 blocked
    assert nxt["avail"][0, 0, 2:6].tolist() == [True, False, True, True]


def test_moves_blocked_by_walls_and_cliffs():
    # corridor: the left room spans x 2-12, y 6-26; the corridor x 12-20, y 14-18
    env = BatchedSMAC("corridor", 1, seed=0, auto_reset=False)
    env.reset()
    nxt = env._place(0, 0, pos=(11.5, 20.0))                # east of here is rock (outside the corridor)
    assert nxt["avail"][0, 0, 2:6].tolist() == [True, True, False, True]
    nxt = env._place(0, 0, pos=(11.5, 16.0))                # facing the corridor mouth: east is open
    assert nxt["avail"][0, 0, 2:6].tolist() == [True, True, True, True]
    # ravine (2c_vs_64zg): ground units cannot enter the cliff band x 15-17 ...
    snap = BatchedSMAC("2c_vs_64zg", 1).snapshot()
    assert not snap["pathing"][16, 15] and snap["pathing"][16, 14]
    # ... but colossi walk over cliffs, so their move east stays available
    env = BatchedSMAC("2c_vs_64zg", 1, seed=0, auto_reset=False)
    env.reset()
    nxt = env._place(0, 0, pos=(14.6, 16.0))
    assert nxt["avail"][0, 0, 4]


def test_ground_unit_is_stopped_by_a_wall():
    env = BatchedSMAC("corridor", 1, seed=0, auto_reset=False)
    env.reset()
    for u in range(1, env.C.U):                                 # park everybody else far away
        env._place(0, u, pos=(25.0, 4.0 + 0.9 * (u % 25)) if u >= 6 else (3.0 + u, 8.0))
    env._place(0, 0, pos=(11.4, 20.0))
    for _ in range(3):                                          # keep walking north-east... north
        env.step(torch.tensor([[2] + [1] * 5]))
    x, y = env.pos[0, 0].tolist()
    assert y > 20.0 and x < 12.0                                # never entered the rock at x >= 12


def test_observation_by_hand():
    env = _three_marines()
    place = {0: (10.0, 10.0), 1: (13.0, 14.0), 2: (20.0, 30.0), 3: (14.0, 10.0), 4: (10.0, 17.0),
             5: (25.0, 25.0)}
    for u, p in place.items():
        env._place(0, u, pos=p)
    env._place(0, 3, health=30.0)
    nxt = env._place(0, 1, health=20.0)
    got = nxt["obs"][0, 0].tolist()
    expected = ([1, 1, 1, 1]                                    # N S E W
                + [1, 4 / 9, 4 / 9, 0, 30 / 45]                 # enemy 0: attackable, 4 away east
                + [0, 7 / 9, 0, 7 / 9, 1.0]                     # enemy 1: 7 away north, beyond shoot range
                + [0, 0, 0, 0, 0]                               # enemy 2: beyond sight
                + [1, 5 / 9, 3 / 9, 4 / 9, 20 / 45]             # ally slot 0 = agent 1 (3-4-5 triangle)
                + [0, 0, 0, 0, 0]                               # ally slot 1 = agent 2: beyond sight
                + [1.0])                                        # own health
    assert got == pytest.approx(expected, abs=1e-6)
    # agent 1 sees agent 0 in its slot 0, offsets reversed
    o1 = nxt["obs"][0, 1].tolist()
    assert o1[19:24] == pytest.approx([1, 5 / 9, -3 / 9, -4 / 9, 1.0], abs=1e-6)
    # sight is strict: exactly 9 away is not visible (SMAC: dist < sight_range)
    nxt = env._place(0, 4, pos=(10.0, 19.0))
    assert nxt["obs"][0, 0, 9:14].tolist() == [0.0] * 5


def test_state_by_hand():
    env = _three_marines()
    place = {0: (10.0, 10.0), 1: (13.0, 14.0), 2: (20.0, 30.0), 3: (14.0, 10.0), 4: (10.0, 17.0),
             5: (25.0, 25.0)}
    for u, p in place.items():
        env._place(0, u, pos=p)
    env._place(0, 0, cooldown=7.5)
    nxt = env._place(0, 4, health=0)
    s = nxt["state"][0].tolist()
    rel = lambda p: [(p[0] - 16) / 32, (p[1] - 16) / 32]
    expected = ([1.0, 7.5 / 15] + rel(place[0]) + [1.0, 0.0] + rel(place[1]) + [1.0, 0.0] + rel(place[2])
                + [1.0] + rel(place[3]) + [0.0, 0.0, 0.0] + [1.0] + rel(place[5])
                + [0.0] * 27)                                   # no action taken yet: all-zero one-hots
    assert s == pytest.approx(expected, abs=1e-6)
    # after a step the last actions are one-hot
    nxt, *_ = env.step(torch.tensor([[1, 2, 4]]))
    la = nxt["state"][0, 21:].reshape(3, 9)
    assert la.argmax(1).tolist() == [1, 2, 4] and la.sum().item() == 3


def test_protoss_shield_features_and_medivac_energy():
    env = BatchedSMAC("2s3z", 1, seed=0)
    nxt = env._place(0, 0, shield=40.0)
    names = env.get_obs_feature_names()
    assert nxt["obs"][0, 0, names.index("own_shield")].item() == pytest.approx(0.5)
    snames = env.get_state_feature_names()
    assert nxt["state"][0, snames.index("ally_0_shield")].item() == pytest.approx(0.5)
    env = BatchedSMAC("MMM", 1, seed=0)
    nxt = env.reset()
    snames = env.get_state_feature_names()
    # the medivac's "cooldown" feature is its energy / 200 (starts at 50)
    assert nxt["state"][0, snames.index("ally_9_cooldown")].item() == pytest.approx(50 / 200)


def test_medivac_heal_mask_targets_allies_not_medivacs():
    env = BatchedSMAC("MMM", 1, seed=0, auto_reset=False)
    env.reset()
    x, y = env.pos[0, 9].tolist()
    env._place(0, 0, pos=(x + 3.0, y))       # a marauder 3 away: healable
    env._place(0, 1, pos=(x + 7.0, y))        # 7 away: not
    nxt = env._place(0, 10, pos=(x, y + 8.0))  # enemy 0 within sight (8), beyond shoot range
    heal = nxt["avail"][0, 9, 6:]
    assert heal[0] and not heal[1] and not heal[9]       # never itself (a medivac)
    names = env.get_obs_feature_names()
    # SMAC reads the medivac's "attackable" flag of a visible enemy j from its mask (heal ally j)
    assert nxt["obs"][0, 9, names.index("enemy_0_attackable")].item() == 1.0
    assert nxt["obs"][0, 0, names.index("enemy_0_attackable")].item() == 0.0


def test_facade_masks_are_smac_lists():
    env = StarCraft2Env("3m", seed=0)
    env.reset()
    av = env.get_avail_actions()
    assert isinstance(av, list) and all(isinstance(a, list) for a in av)
    assert all(isinstance(v, int) for v in av[0])
    assert env.get_avail_agent_actions(1) == av[1]
    assert math.isclose(sum(av[0]), 5)                     # stop + 4 moves, nobody in range yet
