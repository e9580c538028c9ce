"""Value decomposition on a non-additive cooperative matrix game (Son et al., 2019, QTRAN's example).

Payoff ``[[8, -12, -12], [-12, 0, 0], [-12, 0, 0]]``; the optimum is the joint action (0, 0).

Protocol (identical for every method, seed 0): one-step episodes (terminal, so the target is the payoff),
two agents with a constant observation, uniform exploration (every gradient step sees a fresh batch of
32 joint actions drawn uniformly, as epsilon = 1 would give), the library's learners with RMSprop
(lr 7e-4, pymarl's alpha/eps), 1200 gradient steps; ``course_lib.matrix_vd.fit_matrix_game`` runs it.
"Fit" = mean squared error of the learned joint value over the 9 cells.

What must hold:
- VDN: its fit can never beat the best additive least-squares fit (computed here, about 50.6); it reaches
  that bound (within 1) and its greedy joint action is not the optimum.
- QMIX: monotonic but not additive, it fits clearly better: at most 0.8 x the additive bound.
- QTRAN: its unconstrained Q_jt reproduces the payoff (fit < 1) and the agents' greedy actions are (0, 0).
"""
import numpy as np
import pytest
import torch

from course_lib.matrix_vd import fit_matrix_game

PAYOFF = torch.tensor([[8.0, -12.0, -12.0], [-12.0, 0.0, 0.0], [-12.0, 0.0, 0.0]])
STEPS, LR, SEED, BATCH = 1200, 7e-4, 0, 32
ALL_JOINT = torch.cartesian_prod(torch.arange(3), torch.arange(3))  # [9, 2], row-major (a1, a2)


def best_additive_mse() -> float:
    """min over q1, q2 of mean_(a1,a2) (q1[a1] + q2[a2] - payoff)^2, by least squares."""
    X = torch.zeros(9, 6, dtype=torch.float64)
    X[torch.arange(9), ALL_JOINT[:, 0]] = 1
    X[torch.arange(9), 3 + ALL_JOINT[:, 1]] = 1
    y = PAYOFF.flatten().double()
    sol = torch.linalg.lstsq(X, y.unsqueeze(1), driver="gelsd").solution
    return float(((X @ sol).squeeze(1) - y).pow(2).mean())


def train_on_game(alg: str):
    """The protocol above through ``course_lib.matrix_vd``; returns (fit MSE, greedy joint action, Q table)."""
    fit = fit_matrix_game(alg, PAYOFF.numpy(), steps=STEPS, seed=SEED, lr=LR, batch=BATCH)
    # the fit is measured here, from the learned table, not taken from the library's own number
    mse = float(((fit.q_joint - PAYOFF.double().numpy()) ** 2).mean())
    assert mse == pytest.approx(fit.mse, rel=1e-9)
    assert fit.greedy_action == tuple(int(a) for a in np.argmax(fit.q_agents, axis=1))
    return mse, fit.greedy_action, fit.q_joint


def test_the_additive_bound_by_hand():
    # row/column means: -16/3, -4, -4; grand mean -40/9; residual sum of squares 455.1 / 9 = 50.57
    assert best_additive_mse() == pytest.approx(4096 / 81, rel=1e-9)


def test_vdn_cannot_represent_the_payoff_but_qmix_fits_better_and_qtran_recovers_it():
    bound = best_additive_mse()
    vdn_mse, vdn_greedy, _ = train_on_game("vdn")
    assert bound - 1e-4 <= vdn_mse <= bound + 1.0, f"VDN fit {vdn_mse:.2f}, additive bound {bound:.2f}"
    assert vdn_greedy != (0, 0)

    qmix_mse, _, _ = train_on_game("qmix")
    assert qmix_mse <= 0.8 * bound, f"QMIX fit {qmix_mse:.2f} is not clearly better than VDN's bound {bound:.2f}"

    qtran_mse, qtran_greedy, joint = train_on_game("qtran")
    assert qtran_mse < 1.0, f"QTRAN Q_jt fit {qtran_mse:.2f}:\n{joint}"
    assert qtran_greedy == (0, 0)
