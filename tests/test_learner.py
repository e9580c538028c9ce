"""TD(lambda) targets by hand; QLearner / QTranLearner mechanics (masking, double Q, targets, clipping)."""
import pytest
import torch

from _fake_env import FakeBatchedSMAC
from course_lib.buffers.episode import EpisodeBatch, EpisodeReplayBuffer
from course_lib.config import make_config
from course_lib.learners import (MultiAgentController, QLearner, QTranLearner, make_learner, one_step_targets,
                                 td_lambda_targets)
from course_lib.mixers import make_mixer
from course_lib.runners import EpisodeRunner

# episode 0: 3 steps, terminated at the end; episode 1: 2 steps, cut by a timeout (not terminal), padded
R = torch.tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 0.0]])
D = torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
M = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
NEXT = torch.tensor([[10.0, 20.0, 30.0], [4.0, 8.0, 999.0]])


def test_td_lambda_targets_by_hand():
    g = td_lambda_targets(R, D, M, NEXT, gamma=0.5, td_lambda=0.5)
    # ep 0: G2 = 3 (terminal); G1 = 2 + .5 (.5*20 + .5*3) = 7.75; G0 = 1 + .5 (.5*10 + .5*7.75) = 5.4375
    assert g[0].tolist() == pytest.approx([5.4375, 7.75, 3.0])
    # ep 1: G1 = 1 + .5 * 8 = 5 (last real step bootstraps fully); G0 = 1 + .5 (.5*4 + .5*5) = 3.25
    assert g[1, :2].tolist() == pytest.approx([3.25, 5.0])


def test_td_lambda_limits():
    one = td_lambda_targets(R, D, M, NEXT, gamma=0.5, td_lambda=0.0)
    assert torch.allclose(one, one_step_targets(R, D, NEXT, gamma=0.5))
    assert one[0].tolist() == pytest.approx([1 + 0.5 * 10, 2 + 0.5 * 20, 3.0])
    mc = td_lambda_targets(R, D, M, NEXT, gamma=0.5, td_lambda=1.0)
    assert mc[0].tolist() == pytest.approx([2.75, 3.5, 3.0])  # Monte-Carlo return
    assert mc[1, :2].tolist() == pytest.approx([1 + 0.5 * (1 + 0.5 * 8), 1 + 0.5 * 8])


def test_td_lambda_per_agent_broadcast_and_errors():
    nv = torch.stack([NEXT, 2 * NEXT], dim=-1)  # [B, T, N=2]
    g = td_lambda_targets(R, D, M, nv, 0.5, 0.5)
    assert g.shape == (2, 3, 2)
    assert g[..., 0].tolist() == td_lambda_targets(R, D, M, NEXT, 0.5, 0.5).tolist()
    with pytest.raises(ValueError, match="td_lambda"):
        td_lambda_targets(R, D, M, NEXT, 0.5, 1.5)
    with pytest.raises(ValueError, match="same|share"):
        td_lambda_targets(R, D[:, :2], M, NEXT, 0.5, 0.5)


def _batch(alg="qmix", seed=0, n=24, **over):
    torch.manual_seed(seed)
    cfg = make_config(alg, "fake", "fast", **over)
    env = FakeBatchedSMAC(n_envs=8, seed=seed, auto_reset=False, episode_limit=12)
    mac = MultiAgentController(env.n_agents, env.n_actions, env.obs_dim, cfg.rnn_hidden_dim, agent=cfg.agent,
                               agent_kwargs=cfg.agent_kwargs({}))
    kw = {"qmix": dict(embed_dim=8), "qtran": dict(n_actions=env.n_actions, rnn_hidden_dim=64, embed_dim=16),
          "mixrts": dict(n_trees=8, depth=2)}.get(alg, {})
    mixer = make_mixer(cfg.mixer, env.n_agents, env.state_dim, **kw)
    learner = make_learner(cfg.learner, mac, mixer, cfg)
    buf = EpisodeReplayBuffer(200, env.episode_limit, env.n_agents, env.obs_dim, env.state_dim, env.n_actions, seed=seed)
    EpisodeRunner(env, mac, buf, seed=seed).collect(n, epsilon=1.0)
    return learner, buf, buf.gather(torch.arange(len(buf)))


def _pad(b: EpisodeBatch, extra: int) -> EpisodeBatch:
    def p(x, dims):
        pad = torch.zeros(x.shape[0], extra, *x.shape[2:], dtype=x.dtype)
        return torch.cat([x, pad], 1)
    return EpisodeBatch(obs=p(b.obs, 0), state=p(b.state, 0), avail=p(b.avail, 0), actions=p(b.actions, 0),
                        reward=p(b.reward, 0), terminated=p(b.terminated, 0), filled=p(b.filled, 0), lengths=b.lengths)


@pytest.mark.parametrize("alg", ["iql", "vdn", "qmix", "qtran", "mixrts"])
def test_loss_ignores_padding(alg):
    learner, buf, b = _batch(alg)
    l1 = learner.loss(b)["loss"].item()
    l2 = learner.loss(_pad(b, 5))["loss"].item()
    assert l1 == pytest.approx(l2, rel=1e-5)
    assert l1 > 0


@pytest.mark.parametrize("alg", ["iql", "vdn", "qmix", "qtran", "mixrts"])
def test_training_reduces_the_loss_on_a_fixed_batch(alg):
    learner, buf, b = _batch(alg, target_update_interval=10**9)
    first = learner.loss(b)["loss"].item()
    for _ in range(60):
        out = learner.train(b, episode_num=0)
    assert set(out) >= {"loss", "td_error_abs", "grad_norm", "q_taken_mean", "target_mean"}
    assert learner.loss(b)["loss"].item() < 0.5 * first


def test_iql_loss_is_the_mean_over_agents_of_independent_errors():
    learner, buf, b = _batch("iql")
    q, _ = learner.mac.unroll(b.obs, b.actions)
    targets = learner.compute_targets(b, q)  # [B, T, N]: each agent bootstraps on its own value
    assert targets.shape == b.actions.shape
    chosen = q[:, :-1].gather(-1, b.actions.unsqueeze(-1)).squeeze(-1)
    m = b.filled.unsqueeze(-1)
    expected = (((chosen - targets) * m) ** 2).sum() / (m.sum() * learner.mac.n_agents)
    assert learner.loss(b)["loss"].item() == pytest.approx(expected.item(), rel=1e-6)


def test_double_q_uses_online_argmax_over_available_actions():
    learner, buf, b = _batch("vdn", td_lambda=0.0, gamma=1.0)
    # make the online and target networks differ
    with torch.no_grad():
        for p in learner.target_mac.parameters():
            p.add_(0.3 * torch.randn_like(p))
    q, _ = learner.mac.unroll(b.obs, b.actions)
    qt, _ = learner.target_mac.unroll(b.obs, b.actions)
    a_star = q.masked_fill(~b.avail, -1e9).argmax(-1)
    assert b.avail.gather(-1, a_star.unsqueeze(-1))[:, 1:][b.filled.bool()].all()
    nxt = qt.gather(-1, a_star.unsqueeze(-1)).squeeze(-1).sum(-1)[:, 1:] * b.filled
    expected = b.reward + (1 - b.terminated) * nxt
    got = learner.compute_targets(b, q)
    m = b.filled.bool()
    assert torch.allclose(got[m], expected[m], atol=1e-5)
    learner.config.double_q = False
    plain = learner.compute_targets(b, q)
    expected_max = b.reward + (1 - b.terminated) * qt.masked_fill(~b.avail, -1e9).max(-1).values.sum(-1)[:, 1:] * b.filled
    assert torch.allclose(plain[m], expected_max[m], atol=1e-5)
    assert not torch.allclose(plain[m], got[m])


def test_hard_and_soft_target_updates():
    learner, buf, b = _batch("qmix", target_update_interval=100)
    tgt0 = [p.clone() for p in learner.target_mixer.parameters()]
    learner.train(b, episode_num=50)
    assert all(torch.equal(a, p) for a, p in zip(tgt0, learner.target_mixer.parameters()))  # not yet
    learner.train(b, episode_num=100)
    assert all(torch.equal(a, p) for a, p in zip(learner.mixer.parameters(), learner.target_mixer.parameters()))
    assert learner.last_target_update_episode == 100
    soft, _, b2 = _batch("qmix", target_update_tau=0.25)
    before = [p.clone() for p in soft.target_mac.parameters()]
    soft.train(b2, episode_num=1)
    for t0, t1, on in zip(before, soft.target_mac.parameters(), soft.mac.parameters()):
        assert torch.allclose(t1, 0.75 * t0 + 0.25 * on, atol=1e-6)


def test_target_updates_counted_in_train_steps():
    """MIXRTs' code copies the targets every 200 *train steps*; the episode count is then ignored."""
    learner, buf, b = _batch("mixrts", target_update_interval=3, target_update_every="train_steps")
    tgt0 = [p.clone() for p in learner.target_mac.parameters()]
    for _ in range(2):
        learner.train(b, episode_num=10**6)  # a huge episode count does not trigger an update
    assert all(torch.equal(a, p) for a, p in zip(tgt0, learner.target_mac.parameters()))
    learner.train(b, episode_num=0)  # third train step
    assert all(torch.equal(a, p) for a, p in zip(learner.mac.parameters(), learner.target_mac.parameters()))
    assert all(torch.equal(a, p) for a, p in zip(learner.mixer.parameters(), learner.target_mixer.parameters()))
    assert (learner.train_steps, learner.last_target_update_step) == (3, 3)
    sd = learner.state_dict()
    assert sd["last_target_update_step"] == 3
    other, _, _ = _batch("mixrts", target_update_interval=3, target_update_every="train_steps")
    other.load_state_dict(sd)
    assert other.last_target_update_step == 3
    with pytest.raises(ValueError, match="target_update_every='steps'.*'episodes' or 'train_steps'"):
        make_config("qmix", "3m", target_update_every="steps")


def test_gradient_norm_is_clipped_and_optimizer_follows_config():
    learner, buf, b = _batch("vdn", grad_norm_clip=0.5, optimizer="rmsprop")
    assert isinstance(learner.optimizer, torch.optim.RMSprop)
    assert learner.optimizer.defaults["alpha"] == 0.99 and learner.optimizer.defaults["eps"] == 1e-5
    b.reward.mul_(1000.0)  # huge errors -> huge gradients
    out = learner.train(b, episode_num=0)
    total = torch.sqrt(sum((p.grad ** 2).sum() for p in learner.params if p.grad is not None))
    assert out["grad_norm"] > 0.5 and total.item() <= 0.5 + 1e-4
    adam, _, _ = _batch("vdn", optimizer="adam", lr=1e-3)
    assert isinstance(adam.optimizer, torch.optim.Adam) and adam.optimizer.defaults["lr"] == 1e-3


def test_learner_state_dict_roundtrip():
    a, buf, b = _batch("qtran")
    a.train(b, episode_num=3)
    sd = a.state_dict()
    c, _, _ = _batch("qtran", seed=9)
    c.load_state_dict(sd)
    oa, oc = a.train(b, episode_num=4), c.train(b, episode_num=4)
    assert oa["loss"] == oc["loss"]
    for pa, pc in zip(a.mac.parameters(), c.mac.parameters()):
        assert torch.equal(pa, pc)


def test_make_learner_registry():
    learner, _, _ = _batch("qtran")
    assert isinstance(learner, QTranLearner)
    with pytest.raises(ValueError, match="unknown learner 'ppo'.*q_learner"):
        make_learner("ppo", None, None, None)
    with pytest.raises(ValueError, match="QTranMixer"):
        QTranLearner(learner.mac, None, learner.config)
