"""Mixers: VDN sums, QMIX is monotonic and matches a hand computation, QTRAN losses by hand."""
import math

import pytest
import torch

from course_lib.mixers import QMixer, QTranMixer, VDNMixer, make_mixer, qtran_losses


def test_vdn_sums_over_agents():
    g = torch.Generator().manual_seed(0)
    q = torch.randn(4, 7, 5, generator=g)
    out = VDNMixer(5)(q, torch.zeros(4, 7, 3))
    assert out.shape == (4, 7, 1)
    for b, t in [(0, 0), (3, 6), (2, 4)]:
        assert out[b, t, 0].item() == pytest.approx(sum(q[b, t, i].item() for i in range(5)), abs=1e-5)
    with pytest.raises(ValueError, match="5 agents"):
        VDNMixer(5)(torch.zeros(2, 3), None)


@pytest.mark.parametrize("layers", [1, 2])
def test_qmix_is_monotonic_in_every_agent_q(layers):
    torch.manual_seed(1)
    mixer = QMixer(n_agents=4, state_dim=10, embed_dim=16, hypernet_layers=layers)
    g = torch.Generator().manual_seed(2)
    qs = (5 * torch.randn(64, 6, 4, generator=g)).requires_grad_(True)
    states = 3 * torch.randn(64, 6, 10, generator=g)
    out = mixer(qs, states)
    assert out.shape == (64, 6, 1)
    (grad,) = torch.autograd.grad(out.sum(), qs)
    assert (grad >= 0).all(), f"negative dQtot/dQi found: min {grad.min().item()}"
    assert (grad > 0).float().mean() > 0.99  # ELU' > 0 and |w| > 0 almost surely
    # and not just the identity: the mixing depends on the state
    out2 = mixer(qs, states.flip(0))
    assert (out - out2).abs().max() > 1e-3


def test_qmix_hand_computed_example():
    mixer = QMixer(n_agents=2, state_dim=1, embed_dim=2, hypernet_layers=1)
    with torch.no_grad():
        mixer.hyper_w1.weight.copy_(torch.tensor([[1.0], [-2.0], [0.5], [3.0]]))  # -> W1 = |[[1,-2],[0.5,3]]|
        mixer.hyper_w1.bias.zero_()
        mixer.hyper_b1.weight.copy_(torch.tensor([[0.5], [-1.0]]))
        mixer.hyper_b1.bias.zero_()
        mixer.hyper_w2.weight.copy_(torch.tensor([[-1.0], [2.0]]))
        mixer.hyper_w2.bias.zero_()
        mixer.V[0].weight.copy_(torch.tensor([[1.0], [1.0]]))
        mixer.V[0].bias.copy_(torch.tensor([0.0, -5.0]))
        mixer.V[2].weight.copy_(torch.tensor([[2.0, 7.0]]))
        mixer.V[2].bias.copy_(torch.tensor([0.25]))
    # by hand, s = 1, q = (1, -2): W1 = [[1, 2], [0.5, 3]]; q W1 = [1 - 1, 2 - 6] = [0, -4]
    # + b1 = [0.5, -5]; ELU -> [0.5, e^-5 - 1]; w2 = [1, 2]; V = 2 * relu(1) + 7 * relu(-4) + 0.25 = 2.25
    expected = 0.5 * 1 + (math.exp(-5) - 1) * 2 + 2.25
    out = mixer(torch.tensor([[1.0, -2.0]]), torch.tensor([[1.0]]))
    assert out.item() == pytest.approx(expected, abs=1e-6)
    w = mixer.mixing_weights(torch.tensor([[1.0]]))
    assert torch.allclose(w["w1"][0], torch.tensor([[1.0, 2.0], [0.5, 3.0]]))
    assert torch.allclose(w["w2"][0], torch.tensor([1.0, 2.0]))


def test_qmix_rejects_wrong_shapes():
    mixer = QMixer(3, 5)
    with pytest.raises(ValueError, match="3 agents"):
        mixer(torch.zeros(2, 4), torch.zeros(2, 5))
    with pytest.raises(ValueError, match="states"):
        mixer(torch.zeros(2, 3), torch.zeros(2, 6))
    with pytest.raises(ValueError, match="hypernet_layers"):
        QMixer(3, 5, hypernet_layers=3)


def test_make_mixer_registry():
    assert make_mixer(None, 3, 10) is None
    assert make_mixer("none", 3, 10) is None
    assert isinstance(make_mixer("vdn", 3, 10), VDNMixer)
    m = make_mixer("qmix", 3, 10, embed_dim=8, hypernet_layers=2)
    assert isinstance(m, QMixer) and m.embed_dim == 8 and isinstance(m.hyper_w1, torch.nn.Sequential)
    assert isinstance(make_mixer("qtran", 3, 10, n_actions=9, rnn_hidden_dim=64), QTranMixer)
    with pytest.raises(ValueError, match=r"unknown mixer 'qplex'.*'qmix'.*'qtran'.*'vdn'"):
        make_mixer("qplex", 3, 10)


def test_qtran_mixer_shapes_and_dependencies():
    torch.manual_seed(0)
    m = QTranMixer(n_agents=3, state_dim=7, n_actions=5, rnn_hidden_dim=8, embed_dim=16, v_input="state")
    s, h = torch.randn(4, 6, 7), torch.randn(4, 6, 3, 8)
    a1 = torch.nn.functional.one_hot(torch.randint(0, 5, (4, 6, 3)), 5).float()
    a2 = torch.nn.functional.one_hot((a1.argmax(-1) + 1) % 5, 5).float()
    q1, v1 = m(s, h, a1)
    q2, v2 = m(s, h, a2)
    assert q1.shape == (4, 6, 1) and v1.shape == (4, 6, 1)
    assert torch.equal(v1, v2)  # V(s) does not see the actions
    assert (q1 - q2).abs().max() > 1e-4  # Q(s, u) does
    # the encoder input is [h_i, onehot(u_i)] of width H + A, as in pymarl's qtran_paper arch
    assert m.action_encoding[0].in_features == 8 + 5 and m.Q[0].in_features == 7 + 13
    with pytest.raises(ValueError, match="hidden_states"):
        m(s, h[..., :4], a1)
    # pymarl's V(s): the hidden states do not reach V
    assert torch.equal(m(s, h + 1.0, a1)[1], v1)


def test_qtran_base_v_sees_the_summed_hidden_encodings_by_default():
    torch.manual_seed(0)
    m = QTranMixer(n_agents=3, state_dim=7, n_actions=5, rnn_hidden_dim=8, embed_dim=16)
    assert m.v_input == "hidden"
    s, h = torch.randn(4, 6, 7), torch.randn(4, 6, 3, 8)
    a1 = torch.nn.functional.one_hot(torch.randint(0, 5, (4, 6, 3)), 5).float()
    a2 = torch.nn.functional.one_hot((a1.argmax(-1) + 1) % 5, 5).float()
    _, v1 = m(s, h, a1)
    assert torch.equal(m(s, h, a2)[1], v1)  # V does not see the actions
    assert (m(s, h + 1.0, a1)[1] - v1).abs().max() > 1e-4  # it sees the hidden states
    # ... through a sum over agents: permuting the agents changes nothing
    assert torch.allclose(m(s, h[..., [2, 0, 1], :], a1)[1], v1, atol=1e-5)
    # h_i -> Linear(H, H) -> ReLU -> Linear(H, H); [s, sum] -> Linear(S + H, E) -> ... -> 1
    assert [l.in_features for l in m.hidden_encoding if hasattr(l, "in_features")] == [8, 8]
    assert m.V[0].in_features == 7 + 8
    want = {"state": 7 * 16 + 16, "hidden": 2 * (8 * 8 + 8) + (7 + 8) * 16 + 16}
    n = {v: sum(p.numel() for p in QTranMixer(3, 7, 5, 8, 16, v_input=v).parameters()) for v in want}
    assert n["hidden"] - n["state"] == want["hidden"] - want["state"]
    with pytest.raises(ValueError, match="v_input='both'"):
        QTranMixer(3, 7, 5, 8, 16, v_input="both")


def test_qtran_losses_hand_computed():
    # two real steps and one padded step (garbage values, mask 0)
    jq = torch.tensor([1.0, 2.0, 50.0])
    y = torch.tensor([0.5, 3.0, -50.0])
    v = torch.tensor([0.2, -0.1, 9.0])
    chosen = torch.tensor([0.4, 1.5, 7.0])
    maxs = torch.tensor([1.0, 2.5, -3.0])
    jq_max = torch.tensor([1.5, 2.0, 4.0])
    mask = torch.tensor([1.0, 1.0, 0.0])
    out = qtran_losses(jq, y, v, chosen, maxs, jq_max, mask)
    # td: ((1 - .5)^2 + (2 - 3)^2) / 2 = 0.625
    assert out["td"].item() == pytest.approx(0.625)
    # opt: ((1 - 1.5 + .2)^2 + (2.5 - 2 - .1)^2) / 2 = (0.09 + 0.16) / 2 = 0.125
    assert out["opt"].item() == pytest.approx(0.125)
    # nopt: min(0, .4 - 1 + .2) = -.4 ; min(0, 1.5 - 2 - .1) = -.6 -> (0.16 + 0.36) / 2 = 0.26
    assert out["nopt"].item() == pytest.approx(0.26)
    assert out["loss"].item() == pytest.approx(0.625 + 0.125 + 0.1 * 0.26)
    # a positive nopt term is clipped to 0
    out2 = qtran_losses(jq[:1], y[:1], v[:1], torch.tensor([5.0]), maxs[:1], jq_max[:1], mask[:1])
    assert out2["nopt"].item() == 0.0


def test_qtran_losses_gradient_routing():
    jq = torch.tensor([1.0, 2.0], requires_grad=True)
    jq_max = torch.tensor([1.5, 2.0], requires_grad=True)
    v = torch.tensor([0.2, -0.1], requires_grad=True)
    maxs = torch.tensor([1.0, 2.5], requires_grad=True)
    out = qtran_losses(jq, torch.tensor([0.5, 3.0]), v, torch.tensor([0.4, 1.5]), maxs, jq_max, torch.ones(2),
                       opt_coef=1.0, nopt_coef=0.0)
    out["loss"].backward()
    assert jq_max.grad is None  # Q_jt(s, u*) is a fixed target inside L_opt
    # d td / d jq = 2 (jq - y) / 2
    assert torch.allclose(jq.grad, torch.tensor([0.5, -1.0]))
    # d opt / d maxs = 2 (maxs - jq_max + v) / 2
    assert torch.allclose(maxs.grad, torch.tensor([-0.3, 0.4]), atol=1e-6)
    with pytest.raises(ValueError, match="one shape"):
        qtran_losses(jq, torch.zeros(3), v, v, v, v, torch.ones(2))
