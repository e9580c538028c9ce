"""Collisions: ground units do not stand on top of each other, colossi step over small units, a spine
crawler is never pushed, and swarms of zerglings form a crowd around their target instead of a stack."""
import torch

from course_lib.envs import BatchedSMAC
from course_lib.envs.smac.policies import focus_fire_policy

STOP = 1


def _names(env):
    return env.C.names


def test_who_collides_with_whom():
    env = BatchedSMAC("2c_vs_64zg", 1)
    col = env.C.collide
    colossi = [i for i, n in enumerate(_names(env)) if n == "colossus"]
    lings = [i for i, n in enumerate(_names(env)) if n == "zergling"]
    assert bool(col[colossi[0], colossi[1]]) and bool(col[lings[0], lings[1]])
    assert not bool(col[colossi[0], lings[0]]) and not bool(col[lings[0], colossi[0]])
    mmm = BatchedSMAC("MMM", 1)
    medivac = _names(mmm).index("medivac")
    assert not bool(mmm.C.collide[medivac].any()) and not bool(mmm.C.collide[:, medivac].any())


def test_two_overlapping_marines_are_separated_within_a_step():
    env = BatchedSMAC("3m", 1, seed=0, auto_reset=False)
    env.reset()
    env._place(0, 0, pos=(8.0, 16.0))
    env._place(0, 1, pos=(8.1, 16.0))                   # centres 0.1 apart, radius sum 0.75
    env.step(torch.full((1, 3), STOP))
    d = torch.linalg.vector_norm(env.pos[0, 0] - env.pos[0, 1]).item()
    assert d >= 0.7, d


def test_a_spine_crawler_is_never_pushed():
    env = BatchedSMAC("2s_vs_1sc", 1, seed=0, auto_reset=False)
    env.reset()
    spine = env.n_agents
    where = env.pos[0, spine].clone()
    env._place(0, 0, pos=(where[0].item() - 0.2, where[1].item()))   # a stalker inside the spine
    env.step(torch.full((1, 2), STOP))
    assert torch.equal(env.pos[0, spine], where)
    gap = torch.linalg.vector_norm(env.pos[0, 0] - where).item()
    assert gap >= 0.95 * (1.0 + 0.625)                                # the stalker took the whole push


def test_zerglings_swarming_colossi_form_a_crowd_not_a_stack():
    env = BatchedSMAC("2c_vs_64zg", 8, seed=2)
    C = env.C
    ratios = []
    done = torch.zeros(8, dtype=torch.bool)
    for t in range(30):
        _, _, term, _ = env.step(focus_fire_policy(env))
        done |= term
        if t >= 8:
            lings = env.alive & ~done[:, None]
            lings[:, :C.N] = False
            d = (env._dist + torch.eye(C.U) * 1e4).masked_fill(~lings[:, None, :], 1e4) / C.rsum
            nn = d.min(-1).values[lings]
            ratios.append(nn[nn < 5])
    r = torch.cat(ratios)
    # nearest neighbour at 0.7 of the touching distance on average (0.5 before the settling passes)
    assert r.mean().item() >= 0.62, r.mean().item()
