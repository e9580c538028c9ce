"""ReplayBuffer (DQN transitions) and SequenceReplayBuffer (DRQN windows)."""
import numpy as np
import pytest
import torch

from course_lib.buffers.replay import ReplayBuffer
from course_lib.dqn.sequence_replay import SequenceReplayBuffer


def _fill(buf, n, start=0):
    for i in range(start, start + n):
        buf.add(np.full(buf.obs_shape, i, dtype=np.float32), i % 3, float(i), np.full(buf.obs_shape, i + 1), i % 5 == 0)


def test_sample_shapes_dtypes_and_consistency():
    buf = ReplayBuffer(100, (4,), seed=0)
    _fill(buf, 50)
    assert len(buf) == 50
    b = buf.sample(32)
    assert set(b) == {"obs", "action", "reward", "next_obs", "done"}
    assert b["obs"].shape == (32, 4) and b["next_obs"].shape == (32, 4)
    assert b["action"].shape == (32,) and b["action"].dtype == torch.int64
    assert b["reward"].dtype == torch.float32 and b["done"].dtype == torch.float32
    assert all(v.device.type == "cpu" for v in b.values())
    # each sampled row is one stored transition: obs = i, reward = i, next_obs = i + 1, action = i % 3
    i = b["reward"].long()
    assert torch.equal(b["obs"][:, 0].long(), i) and torch.equal(b["next_obs"][:, 0].long(), i + 1)
    assert torch.equal(b["action"], i % 3) and torch.equal(b["done"], (i % 5 == 0).float())
    # without replacement: 32 distinct transitions
    assert len(set(i.tolist())) == 32


def test_multi_dimensional_observations():
    buf = ReplayBuffer(10, (2, 3), seed=0)
    buf.add(np.ones((2, 3)), 1, 0.5, np.zeros((2, 3)), False)
    b = buf.sample(1)
    assert b["obs"].shape == (1, 2, 3) and b["obs"].sum() == 6


def test_capacity_fifo_overwrite():
    buf = ReplayBuffer(10, (1,), seed=0)
    _fill(buf, 25)
    assert len(buf) == 10
    b = buf.sample(10)
    assert sorted(b["reward"].tolist()) == list(range(15, 25))  # only the newest 10 survive


def test_add_batch_equals_single_adds_and_wraps():
    a, b = ReplayBuffer(8, (2,), seed=3), ReplayBuffer(8, (2,), seed=3)
    obs = np.arange(24, dtype=np.float32).reshape(12, 2)
    for k in range(12):
        a.add(obs[k], k % 2, k, obs[k] + 1, k == 11)
    b.add_batch(obs[:5], np.arange(5) % 2, np.arange(5), obs[:5] + 1, np.zeros(5))
    b.add_batch(obs[5:], np.arange(5, 12) % 2, np.arange(5, 12), obs[5:] + 1, np.arange(5, 12) == 11)
    sa, sb = a.sample(8), b.sample(8)
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key
    big = ReplayBuffer(4, (2,))
    big.add_batch(obs, np.zeros(12), np.arange(12), obs, np.zeros(12))  # larger than capacity
    assert len(big) == 4 and sorted(big.sample(4)["reward"].tolist()) == [8, 9, 10, 11]


def test_seeded_reproducibility():
    def batches(seed):
        buf = ReplayBuffer(1000, (3,), seed=seed)
        _fill(buf, 500)
        return [buf.sample(16)["reward"] for _ in range(3)]
    x, y, z = batches(1), batches(1), batches(2)
    assert all(torch.equal(p, q) for p, q in zip(x, y))
    assert not all(torch.equal(p, q) for p, q in zip(x, z))


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0, (4,))
    with pytest.raises(ValueError, match="obs_shape"):
        ReplayBuffer(5, (0,))
    buf = ReplayBuffer(5, (4,))
    with pytest.raises(ValueError, match="only 0 stored"):
        buf.sample(1)
    with pytest.raises(ValueError, match="shape"):
        buf.add(np.zeros(3), 0, 0.0, np.zeros(3), False)
    _fill(buf, 3)
    with pytest.raises(ValueError, match="cannot sample 4"):
        buf.sample(4)


def test_sampling_is_roughly_uniform():
    buf = ReplayBuffer(10, (1,), seed=0)
    _fill(buf, 10)
    counts = np.bincount(np.concatenate([buf.sample(5)["reward"].long().numpy() for _ in range(4000)]), minlength=10)
    assert np.allclose(counts / counts.sum(), 0.1, atol=0.01)


# ----------------------------------------------------------------------------- sequence replay (DRQN)
def _episode(T, offset):
    obs = np.arange(T + 1, dtype=np.float32)[:, None] + offset  # obs value = offset + t
    actions = np.arange(T) % 2
    rewards = np.ones(T)
    term = np.zeros(T)
    term[-1] = 1.0
    return obs, actions, rewards, term


def test_sequence_windows_are_consecutive_and_masked():
    buf = SequenceReplayBuffer(1000, 1, seed=0)
    buf.add_episode(*_episode(5, 0))
    buf.add_episode(*_episode(12, 100))
    assert len(buf) == 17 and buf.n_episodes == 2
    b = buf.sample(64, seq_len=4)
    assert b["obs"].shape == (64, 5, 1) and b["prev_action"].shape == (64, 5)
    for key in ("action", "reward", "done", "mask"):
        assert b[key].shape == (64, 4)
    for i in range(64):
        n = int(b["mask"][i].sum())
        o = b["obs"][i, : n + 1, 0]
        assert torch.equal(o - o[0], torch.arange(n + 1, dtype=torch.float32))  # consecutive steps
        t0 = int(o[0].item()) % 100
        # action at step t is t % 2; previous action -1 at an episode's first step
        assert b["action"][i, :n].tolist() == [(t0 + k) % 2 for k in range(n)]
        assert b["prev_action"][i, 0].item() == (-1 if t0 == 0 else (t0 - 1) % 2)
        ep_len = 5 if o[0] < 100 else 12
        assert n == min(4, ep_len - t0)
        assert b["done"][i, :n].tolist() == [1.0 if t0 + k == ep_len - 1 else 0.0 for k in range(n)]
        assert b["mask"][i, n:].sum() == 0


def test_sequence_buffer_evicts_oldest_and_validates():
    buf = SequenceReplayBuffer(20, 1, seed=0)
    for k in range(5):
        buf.add_episode(*_episode(8, 100 * k))
    assert len(buf) <= 20 and buf.n_episodes == 2
    starts = buf.sample(200, 2)["obs"][:, 0, 0]
    assert starts.min() >= 300  # only the last two episodes remain
    with pytest.raises(ValueError, match="obs"):
        buf.add_episode(np.zeros((3, 1)), [0, 1, 0], [0, 0, 0], [0, 0, 0])
    with pytest.raises(ValueError, match="empty"):
        SequenceReplayBuffer(10, 1).sample(1, 2)
