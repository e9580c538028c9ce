"""Notebooks 04-06: each exercise check accepts a right answer and rejects typical wrong ones with a hint."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.checks import ExerciseFailed, nb04, nb05, nb06

NEG = -1e9


def _stub(*args, **kwargs):
    raise NotImplementedError("Exercise: stub")


# ================================================================ notebook 04
# ---------------------------------------------------------------- 4.1 agent inputs
def agent_inputs(obs, last):
    B, N, _ = obs.shape
    return torch.cat([obs, last, torch.eye(N).expand(B, N, N)], dim=-1)


def test_agent_inputs_accepts_the_answer(capsys):
    nb04.check_agent_inputs(agent_inputs)
    assert "✅ Exercise 4.1 passed" in capsys.readouterr().out


def test_agent_inputs_reference_equals_the_library_controller():
    from course_lib.learners import MultiAgentController

    mac = MultiAgentController(n_agents=3, n_actions=9, obs_dim=30)
    obs = torch.rand(4, 3, 30)
    last = F.one_hot(torch.randint(0, 9, (4, 3)), 9).float()
    assert torch.equal(mac.build_inputs(obs, last), nb04.reference_agent_inputs(obs, last))


@pytest.mark.parametrize("wrong, hint", [
    (lambda o, l: torch.cat([o, l], -1), "agent id"),
    (lambda o, l: torch.cat([o, torch.eye(o.shape[1]).expand(o.shape[0], -1, -1)], -1), "previous action"),
    (lambda o, l: torch.cat([o, torch.eye(o.shape[1]).expand(o.shape[0], -1, -1), l], -1), "previous action"),
    (lambda o, l: torch.cat([o, l, torch.eye(o.shape[1]).flip(0).expand(o.shape[0], -1, -1)], -1), "identity"),
    (lambda o, l: agent_inputs(o, l).numpy(), "torch.Tensor"),
    (_stub, "not implemented yet"),
])
def test_agent_inputs_rejects_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        nb04.check_agent_inputs(wrong)


# ---------------------------------------------------------------- 4.2 masked epsilon-greedy
def eps_greedy(q, avail, epsilon, generator=None):
    greedy = q.masked_fill(~avail, float("-inf")).argmax(-1)
    probs = avail.float().reshape(-1, q.shape[-1])
    rand = torch.multinomial(probs, 1, generator=generator).reshape(q.shape[:-1])
    explore = torch.rand(q.shape[:-1], generator=generator) < epsilon
    return torch.where(explore, rand, greedy)


def test_masked_epsilon_greedy_accepts_the_answer_and_the_library(capsys):
    nb04.check_masked_epsilon_greedy(eps_greedy)
    from course_lib.runners.episode_runner import select_actions

    nb04.check_masked_epsilon_greedy(lambda q, a, e, g=None: select_actions(q, a, e, g))
    assert capsys.readouterr().out.count("✅ Exercise 4.2 passed") == 2


def _unmasked_greedy(q, avail, epsilon, generator=None):
    return q.argmax(-1)


def _unmasked_random(q, avail, epsilon, generator=None):
    rand = torch.randint(0, q.shape[-1], q.shape[:-1], generator=generator)
    explore = torch.rand(q.shape[:-1], generator=generator) < epsilon
    return torch.where(explore, rand, q.masked_fill(~avail, NEG).argmax(-1))


def _swapped_epsilon(q, avail, epsilon, generator=None):
    return eps_greedy(q, avail, 1.0 - epsilon, generator)


@pytest.mark.parametrize("wrong, hint", [
    (_unmasked_greedy, "AVAILABLE"),
    (_unmasked_random, "UNAVAILABLE"),
    (_swapped_epsilon, "probability of exploring|AVAILABLE"),
    (lambda q, a, e, g=None: eps_greedy(q, a, e, g).float(), "integers"),
    (lambda q, a, e, g=None: eps_greedy(q, a, 0.0, g), "epsilon = 1"),
    (_stub, "not implemented yet"),
])
def test_masked_epsilon_greedy_rejects_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        nb04.check_masked_epsilon_greedy(wrong)


def test_swapped_epsilon_is_explained_when_greedy_part_is_right():
    # greedy at epsilon 0 handled correctly, but epsilon used as P(greedy) for epsilon in (0, 1)
    def wrong(q, avail, epsilon, generator=None):
        e = epsilon if epsilon in (0.0, 1.0) else 1.0 - epsilon
        return eps_greedy(q, avail, e, generator)

    with pytest.raises(ExerciseFailed, match="probability of exploring"):
        nb04.check_masked_epsilon_greedy(wrong)


# ---------------------------------------------------------------- 4.3 IQL targets
def iql_targets(reward, terminated, q_online_next, q_target_next, avail_next, gamma):
    a = q_online_next.masked_fill(~avail_next, float("-inf")).argmax(-1, keepdim=True)
    return reward[..., None] + gamma * (1 - terminated[..., None]) * q_target_next.gather(-1, a).squeeze(-1)


def test_iql_targets_accepts_the_answer(capsys):
    nb04.check_iql_td_targets(iql_targets)
    assert "✅ Exercise 4.3 passed" in capsys.readouterr().out


def test_iql_reference_agrees_with_the_library_learner_targets():
    """The check's reference equals QLearner.compute_targets for IQL with one-step targets."""
    from course_lib.buffers.episode import EpisodeBatch
    from course_lib.config import make_config
    from course_lib.learners import MultiAgentController, make_learner

    torch.manual_seed(0)
    B, T, N, A, O = 4, 5, 3, 6, 7
    lengths = torch.tensor([5, 3, 5, 2])
    filled = (torch.arange(T)[None] < lengths[:, None]).float()
    avail = torch.rand(B, T + 1, N, A) < 0.6
    avail[..., 0] = True
    terminated = torch.zeros(B, T)
    terminated[1, 2] = 1.0
    batch = EpisodeBatch(obs=torch.randn(B, T + 1, N, O), state=torch.randn(B, T + 1, 4), avail=avail,
                         actions=torch.randint(0, A, (B, T, N)), reward=torch.rand(B, T) * filled,
                         terminated=terminated, filled=filled, lengths=lengths)
    mac = MultiAgentController(N, A, O, hidden_dim=16)
    learner = make_learner("q_learner", mac, None, make_config("iql", "3m", gamma=0.9))
    for p in learner.target_mac.parameters():  # make the target network differ from the online one
        p.data.add_(0.1 * torch.randn_like(p))
    with torch.no_grad():
        q_on, _ = mac.unroll(batch.obs, batch.actions)
        q_tg, _ = learner.target_mac.unroll(batch.obs, batch.actions)
        lib = learner.compute_targets(batch, q_on)
    mine = nb04.reference_iql_targets(batch.reward, batch.terminated, q_on[:, 1:], q_tg[:, 1:], batch.avail[:, 1:], 0.9)
    m = filled.bool()
    assert torch.allclose(lib[m], mine[m], atol=1e-6)


def _no_double(reward, terminated, q_on, q_tg, avail, gamma):
    return reward[..., None] + gamma * (1 - terminated[..., None]) * q_tg.masked_fill(~avail, NEG).max(-1).values


def _no_mask(reward, terminated, q_on, q_tg, avail, gamma):
    return iql_targets(reward, terminated, q_on, q_tg, torch.ones_like(avail), gamma)


def _no_term(reward, terminated, q_on, q_tg, avail, gamma):
    return iql_targets(reward, torch.zeros_like(terminated), q_on, q_tg, avail, gamma)


@pytest.mark.parametrize("wrong, hint", [
    (_no_double, "double Q"),
    (_no_mask, "AVAILABLE"),
    (_no_term, "terminated"),
    (lambda r, d, qo, qt, a, g: iql_targets(r, d, qo, qt, a, g).mean(-1), "shape"),
    (lambda r, d, qo, qt, a, g: iql_targets(r, d, qo, qt, a, g) + 0.1, "y = r"),
    (_stub, "not implemented yet"),
])
def test_iql_targets_reject_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        nb04.check_iql_td_targets(wrong)


# ================================================================ notebook 05
def test_vdn_sum(capsys):
    nb05.check_vdn_q_tot(lambda q: q.sum(-1, keepdim=True))
    from course_lib.mixers import VDNMixer

    nb05.check_vdn_q_tot(lambda q: VDNMixer()(q))
    assert capsys.readouterr().out.count("✅ Exercise 5.1 passed") == 2


@pytest.mark.parametrize("wrong, hint", [
    (lambda q: q.mean(-1, keepdim=True), "mean"),
    (lambda q: q.sum(-1), "keepdim"),
    (lambda q: q.sum(), "LAST dimension"),
    (lambda q: q.sum(0, keepdim=True), "shape"),
    (_stub, "not implemented yet"),
])
def test_vdn_sum_rejects_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        nb05.check_vdn_q_tot(wrong)


def additive_fit(payoff):
    p = np.asarray(payoff, dtype=float)
    return p.mean(1), p.mean(0) - p.mean()


def test_additive_fit_accepts_the_closed_form(capsys):
    nb05.check_best_additive_fit(additive_fit)
    out = capsys.readouterr().out
    assert "✅ Exercise 5.2 passed" in out and "50.57" in out


def test_additive_reference_is_the_least_squares_optimum():
    """No perturbation of the reference fit (within the additive family) lowers the squared error."""
    rng = np.random.default_rng(3)
    p = rng.normal(size=(3, 4))
    fit = nb05.reference_additive_fit(p)
    base = ((fit - p) ** 2).mean()
    for _ in range(50):
        d1, d2 = rng.normal(scale=0.1, size=3), rng.normal(scale=0.1, size=4)
        assert ((fit + d1[:, None] + d2[None, :] - p) ** 2).mean() >= base - 1e-12
    nm = np.array([[8.0, -12, -12], [-12, 0, 0], [-12, 0, 0]])
    assert ((nb05.reference_additive_fit(nm) - nm) ** 2).mean() == pytest.approx(4096 / 81)


@pytest.mark.parametrize("wrong, hint", [
    (lambda p: (np.asarray(p).mean(1), np.asarray(p).mean(0)), "grand mean twice"),
    (lambda p: (np.asarray(p).max(1), np.asarray(p).max(0)), "derivative"),
    (lambda p: (np.asarray(p).mean(1), np.asarray(p).mean(1) - np.asarray(p).mean()), "entries|derivative"),
    (lambda p: 3.0, "pair"),
    (_stub, "not implemented yet"),
])
def test_additive_fit_rejects_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        nb05.check_best_additive_fit(wrong)


# ================================================================ notebook 06
def qmix_forward(q, w1, b1, w2, v):
    hidden = F.elu(torch.einsum("bn,bne->be", q, w1.abs()) + b1)
    return (hidden * w2.abs()).sum(-1, keepdim=True) + v


def test_qmix_forward_accepts_the_answer(capsys):
    nb06.check_qmix_forward(qmix_forward)
    assert "✅ Exercise 6.1 passed" in capsys.readouterr().out


def test_qmix_reference_matches_the_library_mixer():
    from course_lib.mixers import QMixer

    torch.manual_seed(0)
    for layers in (1, 2):
        mixer = QMixer(n_agents=3, state_dim=10, embed_dim=8, hypernet_layers=layers)
        s, q = torch.randn(6, 10), torch.randn(6, 3)
        w1 = mixer.hyper_w1(s).view(6, 3, 8)
        got = nb06.reference_qmix_forward(q, w1, mixer.hyper_b1(s), mixer.hyper_w2(s), mixer.V(s))
        assert torch.allclose(got, mixer(q, s), atol=1e-5)


@pytest.mark.parametrize("wrong, hint", [
    (lambda q, w1, b1, w2, v: (F.elu(torch.einsum("bn,bne->be", q, w1) + b1) * w2).sum(-1, keepdim=True) + v, "ABSOLUTE"),
    (lambda q, w1, b1, w2, v: (F.relu(torch.einsum("bn,bne->be", q, w1.abs()) + b1) * w2.abs()).sum(-1, keepdim=True) + v, "ELU"),
    (lambda q, w1, b1, w2, v: qmix_forward(q, w1, b1, w2, v) - v, "V\\(s\\)"),
    (lambda q, w1, b1, w2, v: qmix_forward(q, w1, torch.zeros_like(b1), w2, v), "bias b1"),
    (lambda q, w1, b1, w2, v: qmix_forward(q, w1, b1, w2, v).squeeze(-1), "trailing dimension"),
    (lambda q, w1, b1, w2, v: qmix_forward(q, w1, b1, w2, v) * 1.1, "hidden = ELU"),
    (_stub, "not implemented yet"),
])
def test_qmix_forward_rejects_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        nb06.check_qmix_forward(wrong)


def lambda_returns(rewards, terminated, mask, next_values, gamma, lam):
    B, T = rewards.shape
    out = torch.zeros(B, T)
    g_next = torch.zeros(B)
    m_next = torch.zeros(B)
    for t in reversed(range(T)):
        boot = (1 - lam * m_next) * next_values[:, t] + lam * m_next * g_next
        out[:, t] = rewards[:, t] + gamma * (1 - terminated[:, t]) * boot
        g_next, m_next = out[:, t], mask[:, t]
    return out


def test_lambda_returns_accepts_the_answer_and_the_library(capsys):
    from course_lib.learners.targets import td_lambda_targets

    nb06.check_lambda_returns(lambda_returns)
    nb06.check_lambda_returns(td_lambda_targets)
    assert capsys.readouterr().out.count("✅ Exercise 6.2 passed") == 2


def test_lambda_reference_special_cases():
    """lambda = 0: one-step targets; lambda = 1 and gamma = 1 on a terminated episode: the sum of rewards."""
    r = torch.tensor([[1.0, 2.0, 3.0, 0.0]])
    d = torch.tensor([[0.0, 0.0, 1.0, 0.0]])
    m = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    nv = torch.tensor([[10.0, 20.0, 30.0, 40.0]])
    one = nb06.reference_lambda_returns(r, d, m, nv, 0.9, 0.0)
    assert torch.allclose(one[:, :3], torch.tensor([[1 + 9.0, 2 + 18.0, 3.0]]))
    mc = nb06.reference_lambda_returns(r, d, m, nv, 1.0, 1.0)
    assert torch.allclose(mc[:, :3], torch.tensor([[6.0, 5.0, 3.0]]))
    # a timeout (not terminated) bootstraps from the value after the last real step
    to = nb06.reference_lambda_returns(r, torch.zeros_like(d), m, nv, 1.0, 1.0)
    assert torch.allclose(to[:, :3], torch.tensor([[36.0, 35.0, 33.0]]))


def _one_step(rewards, terminated, mask, nv, gamma, lam):
    return rewards + gamma * (1 - terminated) * nv


def _ignores_mask(rewards, terminated, mask, nv, gamma, lam):
    return lambda_returns(rewards, terminated, torch.ones_like(mask), nv, gamma, lam)


@pytest.mark.parametrize("wrong, hint", [
    (_one_step, "one-step targets"),
    (_ignores_mask, "last real step"),
    (lambda r, d, m, nv, g, l: lambda_returns(r, torch.zeros_like(d), m, nv, g, l), "go backwards"),
    (lambda r, d, m, nv, g, l: lambda_returns(r, d, m, nv, g, l)[:, :-1], "shape"),
    (_stub, "not implemented yet"),
])
def test_lambda_returns_reject_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        nb06.check_lambda_returns(wrong)
