"""Notebook 03's exercise checks accept right answers and reject typical wrong ones with a hint."""
import numpy as np
import pytest

from course_lib.checks import ExerciseFailed
from course_lib.checks import nb03


# ---------------------------------------------------------------- 3.1 observation size
def obs_size(n_agents, n_enemies, ally_shields, enemy_shields, unit_type_bits):
    nf_en = 5 + int(enemy_shields) + unit_type_bits
    nf_al = 5 + int(ally_shields) + unit_type_bits
    own = 1 + int(ally_shields) + unit_type_bits
    return 4 + n_enemies * nf_en + (n_agents - 1) * nf_al + own


def test_obs_size_accepts_the_formula(capsys):
    nb03.check_obs_size(obs_size)
    assert "✅ Exercise 3.1 passed" in capsys.readouterr().out


def test_obs_size_agrees_with_the_simulator_when_available():
    envs = pytest.importorskip("course_lib.envs")
    if not hasattr(envs, "StarCraft2Env"):
        pytest.skip("simulator core not available")
    for name, n_ag, n_en, sh_a, sh_e, utb, expected in nb03._OBS_CASES:
        env = envs.StarCraft2Env(map_name=name)
        assert env.get_obs_size() == expected == obs_size(n_ag, n_en, sh_a, sh_e, utb), name
        assert env.n_agents == n_ag


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda a, e, sa, se, u: 4 + e * 5 + a * 5 + 1, "each \\*other\\* ally"),            # counts self as ally
        (lambda a, e, sa, se, u: 4 + e * 5 + (a - 1) * 5 + 1, "shield feature"),          # ignores shields/types
        (lambda a, e, sa, se, u: float(obs_size(a, e, sa, se, u)), "return an int"),
    ],
)
def test_obs_size_rejects_wrong_formulas(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        nb03.check_obs_size(wrong)


def test_unimplemented_exercise_gets_a_friendly_message():
    def stub(*args):
        raise NotImplementedError("Exercise 3.1: observation size")

    with pytest.raises(ExerciseFailed, match="not implemented yet"):
        nb03.check_obs_size(stub)


# ---------------------------------------------------------------- 3.2 expected payoffs
def test_expected_payoffs(capsys):
    nb03.check_expected_payoffs(lambda p, pi: p @ pi)
    assert "✅ Exercise 3.2 passed" in capsys.readouterr().out
    with pytest.raises(ExerciseFailed, match="ROW"):
        nb03.check_expected_payoffs(lambda p, pi: p.T @ pi)
    with pytest.raises(ExerciseFailed, match="shape"):
        nb03.check_expected_payoffs(lambda p, pi: p * pi)
    with pytest.raises(ExerciseFailed, match="sum_b"):
        nb03.check_expected_payoffs(lambda p, pi: p.mean(axis=1))


# ---------------------------------------------------------------- 3.3 pure Nash equilibria
def _equilibria(p, strict=False):
    p = np.asarray(p)
    out = []
    for a in range(p.shape[0]):
        for b in range(p.shape[1]):
            others_col = np.delete(p[:, b], a)
            others_row = np.delete(p[a, :], b)
            if strict:
                ok = (p[a, b] > others_col).all() and (p[a, b] > others_row).all()
            else:
                ok = (p[a, b] >= others_col).all() and (p[a, b] >= others_row).all()
            if ok:
                out.append((a, b))
    return out


def test_pure_nash_equilibria(capsys):
    nb03.check_pure_nash_equilibria(_equilibria)
    assert "✅ Exercise 3.3 passed" in capsys.readouterr().out
    with pytest.raises(ExerciseFailed, match="ties count"):
        nb03.check_pure_nash_equilibria(lambda p: _equilibria(p, strict=True))
    with pytest.raises(ExerciseFailed, match="missing"):  # only the optimum is not enough
        nb03.check_pure_nash_equilibria(lambda p: [tuple(int(x) for x in np.unravel_index(np.argmax(p), p.shape))])
    with pytest.raises(ExerciseFailed, match="pairs"):
        nb03.check_pure_nash_equilibria(lambda p: 3)


def test_library_equilibria_match_the_check_reference():
    from course_lib.envs.matrix_games import pure_nash_equilibria

    rng = np.random.default_rng(5)
    for n in (2, 3, 4, 6):
        p = rng.integers(-2, 3, size=(n, n)).astype(float)
        assert pure_nash_equilibria(p) == sorted(nb03._reference_equilibria(p)) == _equilibria(p)
