"""DQN pieces: targets by hand, networks' shapes, environments, training runs and curve binning."""
import numpy as np
import pandas as pd
import pytest
import torch

from course_lib.agents.rnn import RNNAgent
from course_lib.dqn import (
    QNetwork, double_dqn_target, dqn_target, drqn_inputs, list_envs, make_env, train_dqn,
)
from course_lib.dqn.plots import bin_by_step
from course_lib.schedules import EpsilonSchedule


# ----------------------------------------------------------------------------- targets
def test_dqn_target_hand_calculation_with_done_mask():
    r = torch.tensor([1.0, 0.0, -1.0])
    next_q = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.2]])
    done = torch.tensor([0.0, 0.0, 1.0])
    # [1 + 0.9 * 2, 0 + 0.9 * 3, -1 (terminal)]
    assert torch.allclose(dqn_target(r, next_q, done, 0.9), torch.tensor([2.8, 2.7, -1.0]))
    assert torch.allclose(dqn_target(r, next_q, done.bool(), 0.9), torch.tensor([2.8, 2.7, -1.0]))
    assert torch.allclose(dqn_target(r, next_q, done, 0.0), r)


def test_double_dqn_target_uses_online_argmax_and_target_value():
    r = torch.tensor([1.0, 0.0, -1.0])
    online = torch.tensor([[4.0, 0.0], [3.5, 0.5], [0.0, 9.0]])
    target = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.2]])
    done = torch.tensor([0.0, 0.0, 1.0])
    # online argmax = [0, 0, 1] -> target values [1.0, 3.0, 0.2]; y = [1.9, 2.7, -1 (terminal)]
    y = double_dqn_target(r, online, target, done, 0.9)
    assert torch.allclose(y, torch.tensor([1.9, 2.7, -1.0]))
    # when online and target agree, double DQN equals DQN
    assert torch.allclose(double_dqn_target(r, target, target, done, 0.9), dqn_target(r, target, done, 0.9))


def test_targets_support_time_dimension_and_carry_no_gradient():
    g = torch.Generator().manual_seed(0)
    r, d = torch.randn(4, 6, generator=g), (torch.rand(4, 6, generator=g) < 0.2).float()
    q_on = torch.randn(4, 6, 3, generator=g, requires_grad=True)
    q_t = torch.randn(4, 6, 3, generator=g)
    y = double_dqn_target(r, q_on, q_t, d, 0.99)
    assert y.shape == (4, 6) and not y.requires_grad
    # elementwise check against a loop
    for b in range(4):
        for t in range(6):
            a = int(q_on[b, t].argmax())
            assert y[b, t].item() == pytest.approx(r[b, t].item() + 0.99 * (1 - d[b, t].item()) * q_t[b, t, a].item(), abs=1e-5)


def test_target_shape_errors():
    with pytest.raises(ValueError, match="next_q_target"):
        dqn_target(torch.zeros(3), torch.zeros(4, 2), torch.zeros(3), 0.9)
    with pytest.raises(ValueError, match="done"):
        dqn_target(torch.zeros(3), torch.zeros(3, 2), torch.zeros(2), 0.9)
    with pytest.raises(ValueError, match="gamma"):
        double_dqn_target(torch.zeros(3), torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(3), 1.1)


# ----------------------------------------------------------------------------- networks
def test_qnetwork_and_rnn_agent_shapes():
    net = QNetwork(4, 2)
    assert net(torch.zeros(5, 4)).shape == (5, 2)
    assert net(torch.zeros(7, 3, 4)).shape == (7, 3, 2)
    with pytest.raises(ValueError, match="last dimension 4"):
        net(torch.zeros(5, 3))
    agent = RNNAgent(input_dim=2 + 2, n_actions=2, hidden_dim=16)
    h = agent.init_hidden(5)
    assert h.shape == (5, 16) and torch.count_nonzero(h) == 0
    q, h2 = agent(torch.zeros(5, 4), h)
    assert q.shape == (5, 2) and h2.shape == (5, 16)


def test_rnn_agent_output_depends_on_history():
    torch.manual_seed(0)
    agent = RNNAgent(3, 2, 8)
    x_now = torch.ones(1, 3)
    _, h_a = agent(torch.zeros(1, 3), agent.init_hidden(1))
    _, h_b = agent(torch.full((1, 3), 5.0), agent.init_hidden(1))
    q_a, _ = agent(x_now, h_a)
    q_b, _ = agent(x_now, h_b)
    assert not torch.allclose(q_a, q_b)  # same observation now, different past -> different Q


def test_drqn_inputs_one_hot_previous_action():
    obs = torch.tensor([[0.5, -0.5], [1.0, 2.0], [3.0, 4.0]])
    x = drqn_inputs(obs, torch.tensor([-1, 0, 2]), n_actions=3)
    assert x.shape == (3, 5)
    assert x[:, 2:].tolist() == [[0, 0, 0], [1, 0, 0], [0, 0, 1]]
    assert torch.equal(x[:, :2], obs)


# ----------------------------------------------------------------------------- environments
def test_make_env_unknown_id_lists_known_ids():
    with pytest.raises(ValueError) as err:
        make_env("CartPole-v0")
    for env_id in list_envs():
        assert env_id in str(err.value)
    assert "CartPole-NoVelocity" in list_envs()


def test_cartpole_no_velocity_hides_velocities():
    full, pomdp = make_env("CartPole-v1"), make_env("CartPole-NoVelocity")
    o_full, _ = full.reset(seed=3)
    o_part, _ = pomdp.reset(seed=3)
    assert pomdp.observation_space.shape == (2,) and o_part.shape == (2,)
    assert np.allclose(o_part, o_full[[0, 2]])
    for _ in range(5):
        o_full, *_ = full.step(1)
        o_part, *_ = pomdp.step(1)
    assert np.allclose(o_part, o_full[[0, 2]])


# ----------------------------------------------------------------------------- training
@pytest.mark.parametrize("double,recurrent", [(False, False), (True, False), (False, True)])
def test_tiny_train_dqn_is_a_seeded_dataframe(double, recurrent):
    kw = dict(double=double, recurrent=recurrent, learning_starts=100, batch_size=16, progress=False)
    env_id = "CartPole-NoVelocity" if recurrent else "CartPole-v1"
    a = train_dqn(env_id, 400, seed=3, **kw)
    b = train_dqn(env_id, 400, seed=3, **kw)
    c = train_dqn(env_id, 400, seed=4, **kw)
    assert isinstance(a, pd.DataFrame) and len(a) > 3
    assert list(a.columns) == ["episode", "step", "return", "disc_return", "q_start", "length", "algo", "env", "seed"]
    assert a["step"].is_monotonic_increasing and a["step"].max() <= 400
    assert (a["length"] == a["return"]).all()  # CartPole pays +1 per step
    assert a["algo"].iloc[0] == ("Double " if double else "") + ("DRQN" if recurrent else "DQN")
    pd.testing.assert_frame_equal(a, b)
    assert not a[["return", "q_start"]].equals(c[["return", "q_start"]])


def test_train_dqn_bad_arguments():
    with pytest.raises(ValueError, match="unknown environment id 'Pong'"):
        train_dqn("Pong", 10, progress=False)
    with pytest.raises(ValueError, match="steps"):
        train_dqn("CartPole-v1", 0, progress=False)
    with pytest.raises(ValueError, match="learning_starts"):
        train_dqn("CartPole-v1", 10, learning_starts=10, batch_size=32, progress=False)
    with pytest.raises(TypeError, match="EpsilonSchedule"):
        train_dqn("CartPole-v1", 10, epsilon=0.1, progress=False)


def test_dqn_learns_cartpole_in_a_short_run():
    df = train_dqn("CartPole-v1", 4000, seed=0, epsilon=EpsilonSchedule(1.0, 0.05, 1000), progress=False)
    first, last = df["return"].head(10).mean(), df["return"].tail(5).mean()
    # A random policy balances ~20 steps; after 4000 steps DQN should hold the pole far longer.
    assert first < 40
    assert last > 100, f"DQN did not learn: first episodes {first:.1f}, last five {last:.1f}"


# ----------------------------------------------------------------------------- curves
def test_bin_by_step_averages_inside_bins():
    df = pd.DataFrame({"algo": ["A"] * 4 + ["B"] * 2, "seed": [0, 0, 0, 0, 0, 0],
                       "step": [10, 40, 60, 100, 50, 100], "return": [1.0, 3.0, 5.0, 7.0, 2.0, 4.0]})
    out = bin_by_step(df, n_bins=2)
    got = {(r.algo, r.step): r["return"] for _, r in out.iterrows()}
    # bins (0, 50] and (50, 100]: A -> 2.0 and 6.0 ; B -> 2.0 and 4.0
    assert got == {("A", 50): 2.0, ("A", 100): 6.0, ("B", 50): 2.0, ("B", 100): 4.0}
    with pytest.raises(ValueError, match="missing columns"):
        bin_by_step(df.drop(columns="seed"))
