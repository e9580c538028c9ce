"""Soft decision trees, the recurrent tree cell, MIXRTs' agent and mixing tree, feature importance."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.agents import AGENT_REGISTRY, MIXRTAgent, RecurrentTreeCell, SoftTree, leaf_probabilities, make_agent
from course_lib.agents.soft_tree import reach_probabilities
from course_lib.interpret import feature_importance
from course_lib.mixers import MIXER_REGISTRY, MixingTree, make_mixer


def sig(z):
    return 1.0 / (1.0 + math.exp(-z))


# ------------------------------------------------------------------------------------------ one soft tree
def test_depth_one_tree_is_its_two_leaf_formula():
    tree = SoftTree(in_dim=2, depth=1)
    with torch.no_grad():
        tree.levels[0].weight.copy_(torch.tensor([[2.0, -1.0]]))
        tree.levels[0].bias.fill_(0.5)
        tree.leaves.copy_(torch.tensor([[3.0], [-1.0]]))
    x = torch.tensor([[1.0, 2.0], [0.0, -3.0]])
    for row, out in zip(x.tolist(), tree(x)[:, 0].tolist()):
        p = sig(2.0 * row[0] - 1.0 * row[1] + 0.5)  # P(left)
        assert out == pytest.approx(p * 3.0 + (1 - p) * -1.0, rel=1e-6)
    assert tree(x).shape == (2, 1)


def test_depth_two_leaf_order_is_the_binary_path():
    # nodes: root p0; level 1: p1 (left child), p2 (right child). Leaves LL, LR, RL, RR.
    p = [torch.tensor([0.7]), torch.tensor([0.2, 0.9])]
    got = leaf_probabilities(p).tolist()
    want = [0.7 * 0.2, 0.7 * 0.8, 0.3 * 0.9, 0.3 * 0.1]
    assert got == pytest.approx(want)
    reach = reach_probabilities(p)
    assert [r.tolist() for r in reach[:2]] == [[1.0], pytest.approx([0.7, 0.3])]


@settings(max_examples=40, deadline=None)
@given(depth=st.integers(1, 6), batch=st.integers(1, 4), seed=st.integers(0, 10_000),
       scale=st.floats(0.0, 50.0))
def test_leaf_probabilities_sum_to_one_for_any_depth_and_input(depth, batch, seed, scale):
    g = torch.Generator().manual_seed(seed)
    tree = SoftTree(in_dim=3, depth=depth, out_dim=2)
    x = torch.randn(batch, 3, generator=g) * scale
    leaves = leaf_probabilities(tree.node_probs(x))
    assert leaves.shape == (batch, 2 ** depth)
    assert (leaves >= 0).all()
    assert torch.allclose(leaves.sum(-1), torch.ones(batch), atol=1e-5)
    # the output is a convex combination of the leaf values
    out = tree(x)
    assert (out <= tree.leaves.max(0).values + 1e-5).all() and (out >= tree.leaves.min(0).values - 1e-5).all()


def test_bad_tree_input_is_explained():
    with pytest.raises(ValueError, match="depth must be an integer >= 1, got 0"):
        SoftTree(3, 0)
    with pytest.raises(ValueError, match=r"node_probs\[1\] must have shape \(2, 2\)"):
        leaf_probabilities([torch.rand(2, 1), torch.rand(2, 3)])
    with pytest.raises(ValueError, match=r"expected x \[..., 3\]"):
        SoftTree(3, 2)(torch.zeros(4, 5))
    with pytest.raises(ValueError, match="x_dim=0"):
        RecurrentTreeCell(0, 4, 2)


# ------------------------------------------------------------------------------------- the recurrent cell
def test_cell_shapes_parameters_and_node_order():
    cell = RecurrentTreeCell(x_dim=5, n_trees=4, depth=3)
    # per level k: Linear(5, 4*2^k) + Linear(4, 4*2^k); leaves [4, 8]
    want = sum((5 * 4 * 2 ** k + 4 * 2 ** k) + (4 * 4 * 2 ** k + 4 * 2 ** k) for k in range(3)) + 4 * 8
    assert sum(p.numel() for p in cell.parameters()) == want
    x, h = torch.randn(7, 5), torch.randn(7, 4)
    probs = cell.node_probs(x, h)
    assert [tuple(p.shape) for p in probs] == [(7, 4, 1), (7, 4, 2), (7, 4, 4)]
    # node n of tree j on level 2 uses row j*4+n of both layers (tree-major), and inner_weights says the same
    j, n = 2, 3
    logit = x @ cell.x_layers[2].weight[j * 4 + n] + cell.x_layers[2].bias[j * 4 + n] \
        + h @ cell.h_layers[2].weight[j * 4 + n] + cell.h_layers[2].bias[j * 4 + n]
    assert torch.allclose(probs[2][:, j, n], torch.sigmoid(logit), atol=1e-6)
    assert torch.equal(cell.inner_weights(2)[j, n], cell.x_layers[2].weight[j * 4 + n])
    # h_new[j] = sum over leaves of P_j(leaf) * leaves[j, leaf]
    hn = cell(x, h)
    assert hn.shape == (7, 4)
    assert torch.allclose(hn[:, j], leaf_probabilities([p[:, j] for p in probs]) @ cell.leaves[j], atol=1e-6)
    with pytest.raises(ValueError, match="depth must be an integer in"):
        cell.inner_weights(3)


def test_agent_fused_unroll_equals_the_step_loop():
    torch.manual_seed(0)
    agent = make_agent("mixrt", 11, 6, 8, depth=3)
    assert isinstance(agent, MIXRTAgent) and AGENT_REGISTRY["mixrt"] is MIXRTAgent
    assert agent.hidden_dim == 8 and agent.head.bias is None
    x = torch.randn(3, 9, 11)
    q, h = agent.unroll(x)
    hh = agent.init_hidden(3)
    for t in range(9):
        qt, hh = agent(x[:, t], hh)
        assert torch.allclose(q[:, t], qt, atol=1e-5) and torch.allclose(h[:, t], hh, atol=1e-5)
    assert q.shape == (3, 9, 6) and h.shape == (3, 9, 8)
    # Q is a linear ensemble of the trees: Linear(H, A, bias=False)(h)
    assert torch.allclose(q, h @ agent.head.weight.T, atol=1e-6)


def _memory_task(n, T, g):
    """A cue +-1 at step 0, then zeros (plus noise); the target at the last step is the cue."""
    cue = torch.randint(0, 2, (n,), generator=g).float() * 2 - 1
    x = torch.randn(n, T, 2, generator=g) * 0.1
    x[:, 0, 0] += cue
    x[:, :, 1] = 0.0
    x[:, 0, 1] = 1.0  # "this is the cue step" flag
    return x, cue


def test_the_cell_carries_information_across_time():
    """The answer depends on an input seen 5 steps earlier: learned with recurrence, not with h zeroed."""
    T = 6

    def fit(recurrent: bool) -> float:
        torch.manual_seed(0)
        g = torch.Generator().manual_seed(1)
        agent = MIXRTAgent(2, 1, hidden_dim=8, depth=2)
        opt = torch.optim.Adam(agent.parameters(), lr=2e-2)
        for _ in range(100):
            x, cue = _memory_task(64, T, g)
            if recurrent:
                q, _ = agent.unroll(x)
                pred = q[:, -1, 0]
            else:  # the same network, but h_{t-1} = 0 at every step: only the last input is seen
                pred = agent(x[:, -1], agent.init_hidden(64))[0][:, 0]
            loss = (pred - cue).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        x, cue = _memory_task(512, T, torch.Generator().manual_seed(99))
        with torch.no_grad():
            pred = agent.unroll(x)[0][:, -1, 0] if recurrent else agent(x[:, -1], agent.init_hidden(512))[0][:, 0]
        return float((pred - cue).pow(2).mean())

    with_memory, without = fit(True), fit(False)
    assert with_memory < 0.05, with_memory  # learned (the cue's variance is 1; about 5e-5 here)
    assert without > 0.8, without  # cannot beat predicting the mean


# -------------------------------------------------------------------------------------------- mixing tree
def test_mixing_weights_are_a_distribution_and_q_tot_their_average():
    torch.manual_seed(3)
    mixer = make_mixer("mixing_tree", 5, 12, n_trees=16, depth=3)
    assert isinstance(mixer, MixingTree) and MIXER_REGISTRY["mixing_tree"] is MixingTree
    qs, s = torch.randn(4, 7, 5) * 10, torch.randn(4, 7, 12)
    w = mixer.weights(qs, s)
    assert w.shape == (4, 7, 5) and (w >= 0).all()
    assert torch.allclose(w.sum(-1), torch.ones(4, 7), atol=1e-6)
    q_tot = mixer(qs, s)
    assert q_tot.shape == (4, 7, 1)
    assert torch.allclose(q_tot[..., 0], (w * qs).sum(-1), atol=1e-5)
    # a convex combination: between the smallest and the largest agent value
    assert (q_tot[..., 0] <= qs.max(-1).values + 1e-5).all() and (q_tot[..., 0] >= qs.min(-1).values - 1e-5).all()
    # parameters: Linear(S, 16) + cell(x = N, 16 trees, depth 3) + Linear(16, N, bias=False)
    cell = sum((5 * 16 * 2 ** k + 16 * 2 ** k) + (16 * 16 * 2 ** k + 16 * 2 ** k) for k in range(3)) + 16 * 8
    assert sum(p.numel() for p in mixer.parameters()) == (12 * 16 + 16) + cell + 16 * 5
    with pytest.raises(ValueError, match=r"MixingTree expected qs \[..., 5\]"):
        mixer(torch.zeros(2, 4), torch.zeros(2, 12))


def test_mixing_weights_depend_on_the_q_values_so_q_tot_is_not_monotonic_in_general():
    # one tree of depth 1 reading Q_1: W_1 grows with Q_1, so with a large Q_2 raising Q_1 LOWERS Q_tot
    mixer = MixingTree(2, 3, n_trees=1, depth=1)
    with torch.no_grad():
        for p in mixer.parameters():
            p.zero_()
        mixer.cell.x_layers[0].weight.copy_(torch.tensor([[10.0, 0.0]]))  # P(left) = sigmoid(10 Q_1)
        mixer.cell.leaves.copy_(torch.tensor([[5.0, -5.0]]))  # h = 5 p - 5 (1 - p)
        mixer.agent_logits.weight.copy_(torch.tensor([[1.0], [-1.0]]))  # logits (h, -h)
    s = torch.zeros(2, 3)
    qs = torch.tensor([[-1.0, 10.0], [1.0, 10.0]])
    w = mixer.weights(qs, s)
    assert w[0, 0] < 0.01 and w[1, 0] > 0.99
    q_tot = mixer(qs, s)[:, 0]
    assert q_tot[0] > 9.9 and q_tot[1] < 1.2  # Q_1 went up by 2, Q_tot went down by about 9


# ----------------------------------------------------------------------------------- feature importance
def test_feature_importance_of_a_hand_set_tree():
    # one tree of depth 2 over x = (x0, x1) and h of size 1
    cell = RecurrentTreeCell(x_dim=2, n_trees=1, depth=2)
    with torch.no_grad():
        for p in cell.parameters():
            p.zero_()
        cell.x_layers[0].weight.copy_(torch.tensor([[1.0, 0.0]]))  # root looks at x0
        cell.x_layers[1].weight.copy_(torch.tensor([[0.0, 2.0], [3.0, -1.0]]))  # left child, right child
        cell.h_layers[0].weight.fill_(0.5)  # root also reads h
    x, h = torch.tensor([[1.0, 4.0]]), torch.tensor([[2.0]])
    p_root = sig(1.0 * 1.0 + 0.5 * 2.0)  # P(left) at the root, logit 2
    want = [1.0 * 1.0 + p_root * 0.0 + (1 - p_root) * 3.0,  # x0: root w=1 (reach 1), left 0, right 3
            1.0 * 0.0 + p_root * 2.0 + (1 - p_root) * -1.0]  # x1
    got = feature_importance(cell, x, h)
    assert got.shape == (1, 2)
    assert got[0].tolist() == pytest.approx(want, rel=1e-6)
    # an agent or a controller holding the cell is accepted; anything else is refused by name
    agent = MIXRTAgent(2, 3, hidden_dim=1, depth=2)
    agent.cell.load_state_dict(cell.state_dict())
    assert torch.allclose(feature_importance(agent, x, h), got)
    with pytest.raises(TypeError, match="RecurrentTreeCell"):
        feature_importance(torch.nn.Linear(2, 2), x, h)
