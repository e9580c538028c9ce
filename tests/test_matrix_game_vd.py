"""Value decomposition on a non-additive cooperative matrix game (Son et al., 2019, QTRAN's example).

Payoff ``[[8, -12, -12], [-12, 0, 0], [-12, 0, 0]]``; the optimum is the joint action (0, 0).

Protocol (identical for every method, seed 0): one-step episodes (terminal, so the target is the payoff),
two agents with a constant observation, uniform exploration (every gradient step sees a fresh batch of
32 joint actions drawn uniformly, as epsilon = 1 would give), the library's learners with RMSprop
(lr 7e-4, pymarl's alpha/eps), 1200 gradient steps. "Fit" = mean squared error of the learned joint
value over the 9 cells.

What must hold:
- VDN: its fit can never beat the best additive least-squares fit (computed here, about 50.6); it reaches
  that bound (within 1) and its greedy joint action is not the optimum.
- QMIX: monotonic but not additive, it fits clearly better: at most 0.8 x the additive bound.
- QTRAN: its unconstrained Q_jt reproduces the payoff (fit < 1) and the agents' greedy actions are (0, 0).
"""
import pytest
import torch
import torch.nn.functional as F

from course_lib.buffers.episode import EpisodeBatch
from course_lib.config import make_config
from course_lib.learners import MultiAgentController, make_learner
from course_lib.mixers import make_mixer

PAYOFF = torch.tensor([[8.0, -12.0, -12.0], [-12.0, 0.0, 0.0], [-12.0, 0.0, 0.0]])
STEPS, LR, SEED = 1200, 7e-4, 0


def one_step_batch(actions: torch.Tensor) -> EpisodeBatch:
    B = actions.shape[0]
    return EpisodeBatch(obs=torch.ones(B, 2, 2, 1), state=torch.ones(B, 2, 1),
                        avail=torch.ones(B, 2, 2, 3, dtype=torch.bool), actions=actions[:, None, :],
                        reward=PAYOFF[actions[:, 0], actions[:, 1]][:, None], terminated=torch.ones(B, 1),
                        filled=torch.ones(B, 1), lengths=torch.ones(B, dtype=torch.long))


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
    torch.manual_seed(SEED)
    g = torch.Generator().manual_seed(SEED)
    cfg = make_config(alg, "matrix", lr=LR)
    mac = MultiAgentController(n_agents=2, n_actions=3, obs_dim=1)
    kw = dict(n_actions=3, rnn_hidden_dim=cfg.rnn_hidden_dim, embed_dim=cfg.mixing_embed_dim) if alg == "qtran" else {}
    if alg == "qmix":
        kw = dict(embed_dim=cfg.mixing_embed_dim)
    mixer = make_mixer(cfg.mixer, 2, 1, **kw)
    learner = make_learner(cfg.learner, mac, mixer, cfg)
    for step in range(STEPS):
        learner.train(one_step_batch(torch.randint(0, 3, (32, 2), generator=g)), episode_num=step)
    b = one_step_batch(ALL_JOINT)
    with torch.no_grad():
        q, h = mac.unroll(b.obs, b.actions)  # [9, 2, 2, 3]
        chosen = q[:, 0].gather(-1, b.actions[:, 0].unsqueeze(-1)).squeeze(-1)
        if alg == "qtran":
            joint, _ = mixer(b.state[:, 0], h[:, 0], F.one_hot(b.actions[:, 0], 3).float())
        else:
            joint = mixer(chosen, b.state[:, 0])
    joint = joint.reshape(3, 3)
    greedy = tuple(q[0, 0].argmax(-1).tolist())  # decentralised greedy actions (same for every row)
    return float((joint - PAYOFF).pow(2).mean()), greedy, joint


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
