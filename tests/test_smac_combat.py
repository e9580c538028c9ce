"""Combat arithmetic: 1v1 duels end at the step and with the health that the unit statistics imply.

The reference below is written from the statistics of spec section 7 only: attack ``k`` of a unit
happens at game loop ``k * cooldown * 16`` and falls in environment step ``floor(loop / 8) + 1``; every
hit deals ``damage (+ bonus)``, shields absorb first, what reaches the hull is reduced by armor (at least
0.5); zerglings regenerate 0.27 hp per game second.
"""
import math

import pytest
import torch

from course_lib.envs import BatchedSMAC
from course_lib.envs.smac.units import UNIT_TYPES


def _hit(state, dmg, armor):
    """One hit on ``state = [health, shield]`` (in place)."""
    if state[1] >= dmg:
        state[1] -= dmg
        return
    rest = dmg - state[1]
    state[1] = 0.0
    state[0] -= max(rest - armor, 0.5)


def reference_duel(a_name, e_name, max_steps=500):
    """Returns ``(end_step, ally_state, enemy_state)`` with states ``[health, shield]`` (0 when dead)."""
    a, e = UNIT_TYPES[a_name], UNIT_TYPES[e_name]
    st = {"a": [a.health, a.shield], "e": [e.health, e.shield]}
    unit = {"a": a, "e": e}
    for s in range(1, max_steps + 1):
        lo, hi = 8.0 * (s - 1), 8.0 * s
        for me, other in (("a", "e"), ("e", "a")):
            u, v = unit[me], unit[other]
            cd = u.cooldown * 16.0
            n = math.ceil(hi / cd - 1e-9) - math.ceil(lo / cd - 1e-9)  # attacks with lo <= k*cd < hi
            dmg = u.damage + (u.bonus[1] if u.bonus and getattr(v, u.bonus[0]) else 0.0)
            for _ in range(n * u.hits):
                _hit(st[other], dmg, v.armor)
        for k in ("a", "e"):
            if st[k][0] > 0 and unit[k].regen:
                st[k][0] = min(st[k][0] + unit[k].regen * 0.5, unit[k].health)
        if st["a"][0] <= 0 or st["e"][0] <= 0:
            return s, [max(st["a"][0], 0.0), st["a"][1]], [max(st["e"][0], 0.0), st["e"][1]]
    raise AssertionError("duel did not end")


def run_duel(map_name, ally, enemy):
    """Kill everybody except ``ally`` and ``enemy`` (unit indices), put both within each other's weapon
    range, let the ally hold (stop: fire at the nearest enemy in range) and the AI attack."""
    env = BatchedSMAC(map_name, 1, seed=0, auto_reset=False)
    env.reset()
    C = env.C
    for u in range(C.U):
        if u not in (ally, enemy):
            env._place(0, u, health=0)
    ua, ue = C.units[ally], C.units[enemy]
    gap = min(ua.range, ue.range) - 0.02
    env._place(0, ally, pos=(10.0, 16.0))
    env._place(0, enemy, pos=(10.0 + ua.radius + ue.radius + gap, 16.0))
    actions = torch.ones(1, env.n_agents, dtype=torch.long)
    actions[0, :] = 0
    actions[0, ally] = 1
    for _ in range(500):
        nxt, reward, term, info = env.step(actions)
        if term[0]:
            break
    hs = lambda u: [env.health[0, u].item(), env.shield[0, u].item()]
    return int(env.t[0]), hs(ally), hs(enemy), info


def test_marine_duel_by_hand():
    # 45 hp / 6 damage = 8 shots; the 8th at 7 x 13.76 = 96.3 loops -> step 13; both shoot in step 13
    t, a, e, info = run_duel("3m", 0, 3)
    assert t == 13 and a[0] == 0 and e[0] == 0
    # a draw: both sides dead (the other marines were removed before the duel)
    assert not info["battle_won"][0] and info["dead_allies"][0] == 3 and info["dead_enemies"][0] == 3


def test_zealot_beats_stalker_by_hand():
    # zealot on stalker: 8 x 2 per attack; shields 80 take 5 attacks, hull 80 at (8-1) x 2 = 14 per
    # attack takes 6 more: the 11th attack at 10 x 19.2 = 192 loops -> step 25.
    # stalker on zealot (13, light: no bonus): 7 attacks in loops [0, 200): 39 + 11 to shields,
    # (2 - 1) + 3 x 12 = 37 to the hull -> the zealot keeps 63 hp, 0 shield.
    t, a, e, info = run_duel("2s3z", 2, 5)       # ally zealot (index 2) vs enemy stalker (index 5)
    assert t == 25
    assert a == pytest.approx([63.0, 0.0]) and e[0] == 0
    assert info["battle_won"][0]


DUELS = [
    ("3m", 0, 3),              # marine - marine
    ("2m_vs_1z", 0, 2),        # marine - zealot (zealot shields, armor 1)
    ("3s_vs_3z", 0, 3),        # stalker - zealot
    ("2s3z", 0, 5),            # stalker - stalker (+5 vs armored, armor 1, shields)
    ("2s3z", 2, 7),            # zealot - zealot (2 hits per attack)
    ("2s3z", 0, 7),            # stalker - zealot
    ("6h_vs_8z", 0, 6),        # hydralisk - zealot
    ("MMM", 0, 10),            # marauder - marauder (+10 vs armored)
    ("MMM", 2, 10),            # marine - marauder
    ("1c3s5z", 0, 13),         # colossus - zealot (+5 vs light, 2 hits)
    ("1c3s5z", 0, 10),         # colossus - stalker
    ("2s_vs_1sc", 0, 2),       # stalker - spine crawler (armor 2, +5 vs armored)
    ("corridor", 0, 6),        # zealot - zergling (zergling regenerates)
    ("bane_vs_bane", 4, 28),   # zergling - zergling
]


@pytest.mark.parametrize("map_name,ally,enemy", DUELS)
def test_duels_match_the_statistics(map_name, ally, enemy):
    env = BatchedSMAC(map_name, 1)
    a_name, e_name = env.C.names[ally], env.C.names[enemy]
    ref_t, ref_a, ref_e = reference_duel(a_name, e_name)
    t, a, e, info = run_duel(map_name, ally, enemy)
    assert t == ref_t, f"{a_name} vs {e_name}: ended at step {t}, statistics say {ref_t}"
    assert a == pytest.approx(ref_a, abs=1e-3) and e == pytest.approx(ref_e, abs=1e-3), (a_name, e_name)
    won = ref_e[0] == 0 and ref_a[0] > 0
    assert bool(info["battle_won"][0]) == won


def test_cooldown_is_tracked_exactly_over_many_shots():
    # a marine shooting a stationary spine-crawler-like target: count shots over 60 steps = 480 loops
    env = BatchedSMAC("3m", 1, seed=0, auto_reset=False)
    env.reset()
    env._place(0, 1, health=0)
    env._place(0, 2, health=0)
    env._place(0, 4, health=0)
    env._place(0, 5, health=0)
    env._place(0, 0, pos=(10.0, 16.0))
    env._place(0, 3, pos=(14.0, 16.0), health=1e6)  # a marine that cannot die
    shots = 0
    for _ in range(30):
        env._place(0, 0, health=45.0)              # keep our marine alive too
        env.step(torch.tensor([[6, 0, 0]]))
        shots += int(env.last_target[0, 0] == 3)
    # attacks at k x 13.76 loops < 240 loops -> k = 0..17 -> 18 shots (the rate the statistics imply)
    assert shots == math.ceil(240 / 13.76)


def test_shields_regenerate_after_ten_seconds_without_damage():
    # 2s_vs_1sc: the only enemy is a static spine crawler, so a stalker far from it is never attacked
    env = BatchedSMAC("2s_vs_1sc", 1, seed=0, auto_reset=False)
    env.reset()
    env._place(0, 2, pos=(24.0, 16.0))
    env._place(0, 1, pos=(6.0, 18.0))
    env._place(0, 0, pos=(6.0, 14.0), shield=10.0)
    noop_hold = torch.tensor([[1, 1]])
    shields = []
    for _ in range(24):
        env.step(noop_hold)
        shields.append(env.shield[0, 0].item())
    # 10 s = 160 loops = 20 steps without damage, then 2 per game second = 1 per step
    assert shields[18] == pytest.approx(10.0) and shields[19] == pytest.approx(11.0)
    assert shields[23] == pytest.approx(15.0)


def test_medivac_heals_with_energy():
    env = BatchedSMAC("MMM", 1, seed=0, auto_reset=False)
    env.reset()
    for u in range(10, env.C.U):                     # enemies far away
        env._place(0, u, pos=(28.0, 2.0 + 1.4 * (u - 10)))
    x, y = env.pos[0, 9].tolist()
    env._place(0, 0, pos=(x + 2.0, y), health=100.0)  # a damaged marauder next to the medivac
    acts = torch.ones(1, 10, dtype=torch.long)
    acts[0, 9] = 6                                    # heal ally 0
    env.step(acts)
    # 9 hp per game second for 0.5 s = 4.5 hp, costing 1.5 energy; energy regenerates 0.5625/s
    assert env.health[0, 0].item() == pytest.approx(104.5)
    assert env.cd[0, 9].item() == pytest.approx(50.0 + 0.28125 - 1.5)
    assert env.snapshot()["target"][9] == 0


def test_baneling_explodes_and_dies():
    env = BatchedSMAC("bane_vs_bane", 1, seed=0, auto_reset=False)
    env.reset()
    N = env.n_agents
    for u in range(env.C.U):
        env._place(0, u, pos=(2.0 + 1.2 * (u % 24), 2.0 if u < N else 30.0))
    # ally baneling 0 next to two enemy zerglings (light: 16 + 19 = 35 = a zergling's health)
    env._place(0, 0, pos=(10.0, 16.0))
    env._place(0, N + 4, pos=(10.8, 16.0))
    env._place(0, N + 5, pos=(11.0, 17.2))            # 1.56 from the baneling: inside the 2.2 splash
    env._place(0, N + 6, pos=(15.0, 16.0))            # runs 1.475 toward the baneling: still outside
    acts = torch.zeros(1, N, dtype=torch.long)
    acts[0, 1:] = 1
    acts[0, 0] = 6 + 4                                # attack enemy 4
    env.step(acts)
    assert not env.alive[0, 0]                        # the baneling died exploding
    assert not env.alive[0, N + 4] and not env.alive[0, N + 5] and env.alive[0, N + 6]


def test_colossus_line_splash_hits_several_zerglings():
    env = BatchedSMAC("2c_vs_64zg", 1, seed=0, auto_reset=False)
    env.reset()
    for u in range(1, env.C.U):
        env._place(0, u, pos=(25.0 + 0.9 * (u % 6), 2.0 + 0.9 * (u // 6)))
    env._place(0, 0, pos=(8.0, 16.0))
    # three zerglings on a line across the line of fire (x = 13), one behind it
    for k, (u, y) in enumerate([(2, 16.0), (3, 16.8), (4, 15.2)]):
        env._place(0, u, pos=(13.0, y))
    env._place(0, 5, pos=(14.5, 16.0))
    env.step(torch.tensor([[6, 1]]))                   # colossus 0 attacks zergling 0 (unit 2)
    hp = env.health[0, 2:6].tolist()
    # (10 + 5 vs light) x 2 = 30 on each zergling in the line, then 0.135 regeneration
    assert hp[:3] == pytest.approx([35 - 30 + 0.135] * 3, abs=1e-4)
    assert hp[3] == pytest.approx(35.0)
