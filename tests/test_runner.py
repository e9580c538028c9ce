"""Episode runner: epsilon-greedy over available actions, episodes written correctly, resumable state."""
import pytest
import torch

from _fake_env import FakeBatchedSMAC, real_smac_available
from course_lib.buffers.episode import EpisodeReplayBuffer
from course_lib.learners import MultiAgentController
from course_lib.runners import EpisodeRunner, greedy_episodes, select_actions


def random_avail(shape, gen, p=0.4):
    avail = torch.rand(shape, generator=gen) < p
    avail[..., 0] |= ~avail.any(-1)  # at least one action per agent
    return avail


@pytest.mark.parametrize("eps", [0.0, 0.3, 1.0])
def test_epsilon_greedy_never_picks_unavailable(eps):
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        q = torch.randn(16, 5, 9, generator=g) * 10
        avail = random_avail((16, 5, 9), g)
        q[~avail] += 100.0  # unavailable actions look best: they must still never be picked
        a = select_actions(q, avail, eps, g)
        assert a.shape == (16, 5) and a.dtype == torch.long
        assert avail.gather(-1, a.unsqueeze(-1)).all()


def test_greedy_picks_best_available_and_random_is_uniform_over_available():
    q = torch.tensor([[[5.0, 1.0, 3.0, 9.0]]])
    avail = torch.tensor([[[True, True, True, False]]])
    assert select_actions(q, avail, 0.0).item() == 0
    g = torch.Generator().manual_seed(1)
    qq, aa = q.expand(6000, 1, 4), avail.expand(6000, 1, 4)
    counts = torch.bincount(select_actions(qq, aa, 1.0, g).flatten(), minlength=4)
    assert counts[3] == 0
    assert all(abs(c - 2000) < 150 for c in counts[:3].tolist())  # 1/3 each, sd ~ 37
    # epsilon 0.5: greedy (action 0) half the time plus a third of the random half
    counts = torch.bincount(select_actions(qq, aa, 0.5, g).flatten(), minlength=4)
    assert abs(counts[0].item() / 6000 - (0.5 + 0.5 / 3)) < 0.03


def test_select_actions_rejects_bad_input():
    with pytest.raises(ValueError, match="no available action"):
        select_actions(torch.zeros(2, 3), torch.tensor([[True, False, False], [False, False, False]]), 0.1)
    with pytest.raises(ValueError, match="epsilon"):
        select_actions(torch.zeros(1, 3), torch.ones(1, 3, dtype=torch.bool), 1.5)


def _setup(n_envs=4, seed=0, episode_limit=12):
    torch.manual_seed(seed)
    env = FakeBatchedSMAC(n_envs=n_envs, seed=seed, auto_reset=False, episode_limit=episode_limit)
    mac = MultiAgentController(env.n_agents, env.n_actions, env.obs_dim)
    buf = EpisodeReplayBuffer(100, env.episode_limit, env.n_agents, env.obs_dim, env.state_dim, env.n_actions, seed=seed)
    return env, mac, buf, EpisodeRunner(env, mac, buf, seed=seed)


def test_runner_writes_consistent_episodes():
    env, mac, buf, runner = _setup()
    st = runner.collect(10, epsilon=1.0)
    assert st.episodes >= 10 and len(buf) == st.episodes
    assert st.env_steps == runner.t_env and st.env_steps % env.n_envs == 0
    assert st.env_steps >= int(st.lengths.sum())  # unfinished episodes also took steps
    s = buf.storage
    n = len(buf)
    lengths = s["lengths"][:n]
    assert torch.equal(s["filled"][:n].sum(1).long(), lengths)
    for i in range(n):
        L = int(lengths[i])
        # padding is zero, the final state (index L) is stored, every real step had an available action
        assert s["obs"][i, L + 1:].abs().sum() == 0 and s["avail"][i, L + 1:].sum() == 0
        assert s["avail"][i, L].any(-1).all()
        assert s["avail"][i, :L].gather(-1, s["actions"][i, :L].unsqueeze(-1)).all()
        # terminated only at the last step, and never for a timeout
        term = s["terminated"][i]
        assert term[:L - 1].sum() == 0 and term[L:].sum() == 0
        if L == env.episode_limit:
            assert term[L - 1] == 0
        else:
            assert term[L - 1] == 1
    assert torch.allclose(s["reward"][:n].sum(1), st.returns[:n], atol=1e-5)


def test_learner_unroll_reproduces_the_acting_q_values():
    """The learner rebuilds inputs (obs, last action, id) from stored episodes: greedy collection must agree."""
    env, mac, buf, runner = _setup(seed=3, episode_limit=15)
    runner.collect(8, epsilon=0.0)
    b = buf.gather(torch.arange(len(buf)))
    q, h = mac.unroll(b.obs, b.actions)
    greedy = q[:, :-1].masked_fill(~b.avail[:, :-1], float("-inf")).argmax(-1)
    m = b.filled.bool()
    assert torch.equal(greedy[m], b.actions[m])


def test_runner_state_dict_resumes_exactly():
    env, mac, buf, runner = _setup(seed=5)
    runner.collect(5, epsilon=0.5)
    sd = runner.state_dict()
    buf_sd = buf.state_dict()
    after = runner.collect(7, epsilon=0.5)
    # a fresh runner with a different seed and environment, restored from the state
    env2, mac2, buf2, runner2 = _setup(seed=99)
    mac2.load_state_dict(mac.state_dict())
    buf2.load_state_dict(buf_sd)
    runner2.load_state_dict(sd)
    again = runner2.collect(7, epsilon=0.5)
    assert torch.equal(after.returns, again.returns) and torch.equal(after.lengths, again.lengths)
    assert torch.equal(buf.storage["actions"], buf2.storage["actions"])


def test_greedy_episodes_reports_one_episode_per_game():
    torch.manual_seed(0)
    env = FakeBatchedSMAC(n_envs=6, seed=1, auto_reset=True)
    mac = MultiAgentController(env.n_agents, env.n_actions, env.obs_dim)
    res = greedy_episodes(env, mac)
    assert res["won"].shape == (6,) and 0.0 <= res["win_rate"] <= 1.0
    assert ((res["lengths"] >= 1) & (res["lengths"] <= env.episode_limit)).all()
    env_b = FakeBatchedSMAC(n_envs=6, seed=1, auto_reset=False)
    res_b = greedy_episodes(env_b, mac)  # same games without auto-reset: same result
    assert torch.equal(res["returns"], res_b["returns"])


@pytest.mark.skipif(not real_smac_available(), reason="course_lib.envs.BatchedSMAC not available yet")
def test_runner_on_real_3m():
    from course_lib.envs import BatchedSMAC

    torch.manual_seed(0)
    env = BatchedSMAC("3m", 4, device="cpu", seed=0, auto_reset=False)
    mac = MultiAgentController(env.n_agents, env.n_actions, env.obs_dim)
    buf = EpisodeReplayBuffer(50, env.episode_limit, env.n_agents, env.obs_dim, env.state_dim, env.n_actions)
    runner = EpisodeRunner(env, mac, buf, seed=0)
    st = runner.collect(6, epsilon=1.0)
    assert st.episodes >= 6 and len(buf) == st.episodes
    n = len(buf)
    s = buf.storage
    assert torch.equal(s["filled"][:n].sum(1).long(), s["lengths"][:n])
    for i in range(n):
        L = int(s["lengths"][i])
        assert s["avail"][i, :L].gather(-1, s["actions"][i, :L].unsqueeze(-1)).all()
