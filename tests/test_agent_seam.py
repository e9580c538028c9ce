"""The agent/mixer seam: fused sequence unrolls equal the step-by-step loop; extras reach the mixers."""
import pytest
import torch
from torch import nn

from course_lib.agents import AGENT_REGISTRY, AgentBase, RNNAgent, make_agent
from course_lib.config import make_config
from course_lib.learners import MultiAgentController, QLearner
from course_lib.mixers import QMixer


def _loop(agent, x):
    h = agent.init_hidden(x.shape[0])
    qs, hs = [], []
    for t in range(x.shape[1]):
        q, h = agent(x[:, t], h)
        qs.append(q)
        hs.append(h)
    return torch.stack(qs, 1), torch.stack(hs, 1)


def test_rnn_agent_fused_unroll_equals_step_loop_values_and_gradients():
    torch.manual_seed(0)
    agent = RNNAgent(11, 5, 16)
    x = torch.randn(6, 9, 11)
    q1, h1 = agent.unroll(x)
    q2, h2 = _loop(agent, x)
    assert q1.shape == (6, 9, 5) and h1.shape == (6, 9, 16)
    torch.testing.assert_close(q1, q2, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(h1, h2, atol=1e-5, rtol=1e-5)
    g1 = torch.autograd.grad(q1.square().sum(), list(agent.parameters()))
    g2 = torch.autograd.grad(q2.square().sum(), list(agent.parameters()))
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_rnn_agent_unroll_from_a_given_state_and_bad_shapes():
    torch.manual_seed(1)
    agent = RNNAgent(4, 3, 8)
    x, h0 = torch.randn(2, 5, 4), torch.randn(2, 8)
    q, h = agent.unroll(x, h0)
    q1, h1 = agent(x[:, 0], h0)
    torch.testing.assert_close(q[:, 0], q1, atol=1e-6, rtol=1e-6)
    with pytest.raises(ValueError, match="input_dim=4"):
        agent.unroll(torch.randn(2, 5, 3))
    with pytest.raises(ValueError, match=r"\[batch, time, input_dim\]"):
        agent.unroll(torch.randn(5, 4))


def test_base_class_default_unroll_is_the_loop():
    class Tiny(AgentBase):
        def __init__(self):
            super().__init__()
            self.input_dim, self.n_actions, self.hidden_dim = 3, 2, 4
            self.lin = nn.Linear(3 + 4, 4)
            self.out = nn.Linear(4, 2)

        def forward(self, inputs, hidden):
            h = torch.tanh(self.lin(torch.cat([inputs, hidden], -1)))
            return self.out(h), h

    agent = Tiny()
    x = torch.randn(3, 6, 3)
    q1, h1 = agent.unroll(x)
    q2, h2 = _loop(agent, x)
    assert torch.equal(q1, q2) and torch.equal(h1, h2)
    assert agent.extras(h1) == {}


def test_mac_unroll_equals_stepping_the_controller():
    torch.manual_seed(2)
    B, T, N, A, O = 3, 7, 4, 6, 10
    mac = MultiAgentController(N, A, O, 16)
    obs = torch.randn(B, T + 1, N, O)
    actions = torch.randint(0, A, (B, T, N))
    q, h = mac.unroll(obs, actions)
    assert q.shape == (B, T + 1, N, A) and h.shape == (B, T + 1, N, 16)
    last = mac.last_actions_onehot(actions, A, T + 1)
    hid = mac.init_hidden(B)
    for t in range(T + 1):
        qt, hid = mac.step(obs[:, t], last[:, t], hid)
        torch.testing.assert_close(q[:, t], qt, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(h[:, t], hid, atol=1e-5, rtol=1e-5)


def test_unknown_agent_and_registry_validation():
    with pytest.raises(ValueError, match="unknown agent 'gru2'"):
        make_agent("gru2", 3, 2, 4)
    with pytest.raises(ValueError, match=r"agent='tree'.*one of"):
        make_config("qmix", "3m", agent="tree")
    assert "rnn" in AGENT_REGISTRY


class _RoleAgent(RNNAgent):
    """An RNN agent that also exposes a 'roles' extra (the first two hidden units)."""

    def extras(self, hidden):
        return {"roles": hidden[..., :2]}


class _RoleMixer(nn.Module):
    extra_inputs = ("roles",)

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, qs, states, roles):
        self.seen.append(roles.shape)
        return (qs.sum(-1) + roles.sum((-1, -2))).unsqueeze(-1)


def test_mixer_extra_inputs_come_from_the_agent(monkeypatch):
    monkeypatch.setitem(AGENT_REGISTRY, "role_rnn", _RoleAgent)
    cfg = make_config("vdn", "3m")
    mac = MultiAgentController(3, 5, 4, 8, agent="role_rnn")
    learner = QLearner(mac, _RoleMixer(), cfg)
    qs, states, h = torch.randn(2, 6, 3), torch.randn(2, 6, 7), torch.randn(2, 6, 3, 8)
    out = learner._mix(learner.mixer, qs, states, h)
    assert out.shape == (2, 6)
    torch.testing.assert_close(out, qs.sum(-1) + h[..., :2].sum((-1, -2)))
    plain = QLearner(MultiAgentController(3, 5, 4, 8), _RoleMixer(), cfg)
    with pytest.raises(ValueError, match=r"needs inputs \['roles'\].*RNNAgent"):
        plain._mix(plain.mixer, qs, states, h)


def test_whole_sequence_mixing_equals_per_step_mixing_for_qmix():
    torch.manual_seed(3)
    mixer = QMixer(n_agents=3, state_dim=7, embed_dim=8)
    learner = QLearner(MultiAgentController(3, 5, 4, 8), mixer, make_config("qmix", "3m"))
    qs, states = torch.randn(2, 6, 3), torch.randn(2, 6, 7)
    full = learner._mix(mixer, qs, states)
    torch.testing.assert_close(full[:, 1:], mixer(qs[:, 1:], states[:, 1:]).squeeze(-1))
