"""EpisodeReplayBuffer: storage layout, FIFO, uniform seeded sampling, trimming, checkpoint state."""
import pytest
import torch

from course_lib.buffers.episode import EpisodeBatch, EpisodeReplayBuffer

T, N, O, S, A = 6, 2, 3, 4, 5


def make_episodes(lengths, tag0=0):
    """Episodes whose every real entry carries the episode's tag (tag0 + i) so we can tell them apart."""
    k = len(lengths)
    ep = {"obs": torch.zeros(k, T + 1, N, O), "state": torch.zeros(k, T + 1, S),
          "avail": torch.zeros(k, T + 1, N, A, dtype=torch.bool), "actions": torch.zeros(k, T, N, dtype=torch.long),
          "reward": torch.zeros(k, T), "terminated": torch.zeros(k, T), "filled": torch.zeros(k, T),
          "lengths": torch.tensor(lengths)}
    for i, L in enumerate(lengths):
        tag = float(tag0 + i)
        ep["obs"][i, : L + 1] = tag
        ep["state"][i, : L + 1] = tag
        ep["avail"][i, : L + 1] = True
        ep["actions"][i, :L] = (tag0 + i) % A
        ep["reward"][i, :L] = tag
        ep["filled"][i, :L] = 1
        ep["terminated"][i, L - 1] = 1
    return ep


def test_insert_sample_shapes_and_trimming():
    buf = EpisodeReplayBuffer(10, T, N, O, S, A, seed=0)
    assert not buf.can_sample(1) and len(buf) == 0
    buf.insert(make_episodes([2, 3, 4]))
    assert len(buf) == 3 and buf.can_sample(3) and not buf.can_sample(4)
    b = buf.sample(3)
    assert isinstance(b, EpisodeBatch)
    assert b.obs.shape == (3, 5, N, O) and b.state.shape == (3, 5, S) and b.avail.shape == (3, 5, N, A)
    assert b.actions.shape == (3, 4, N) and b.reward.shape == (3, 4) and b.filled.shape == (3, 4)
    assert b.max_t == 4 and b.batch_size == 3
    assert b.actions.dtype == torch.long and b.avail.dtype == torch.bool
    # filled mask agrees with the lengths, episode by episode
    assert torch.equal(b.filled.sum(1).long(), b.lengths)
    # all three distinct episodes (sampling without replacement)
    assert sorted(b.reward[:, 0].tolist()) == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="only 3 stored"):
        buf.sample(4)


def test_fifo_overwrites_oldest():
    buf = EpisodeReplayBuffer(4, T, N, O, S, A)
    buf.insert(make_episodes([1, 1, 1], tag0=0))
    buf.insert(make_episodes([2, 2, 2], tag0=10))
    assert len(buf) == 4 and buf.episodes_in == 6
    tags = sorted(buf.storage["reward"][:, 0].tolist())
    assert tags == [2.0, 10.0, 11.0, 12.0]  # episodes 0 and 1 were overwritten
    # an overwritten slot holds exactly the new episode (no leftovers of the old one)
    slot = int((buf.storage["reward"][:, 0] == 10.0).nonzero()[0])
    assert buf.storage["lengths"][slot] == 2 and buf.storage["filled"][slot].sum() == 2


def test_sampling_is_uniform_and_seeded():
    buf = EpisodeReplayBuffer(20, T, N, O, S, A, seed=7)
    buf.insert(make_episodes([3] * 20))
    counts = torch.zeros(20)
    for _ in range(500):
        counts[buf.sample(4).reward[:, 0].long()] += 1
    # each episode is drawn with probability 4/20 per batch: mean 100, sd ~ 9
    assert counts.min() > 65 and counts.max() < 135
    a = EpisodeReplayBuffer(20, T, N, O, S, A, seed=3)
    b = EpisodeReplayBuffer(20, T, N, O, S, A, seed=3)
    for buf_ in (a, b):
        buf_.insert(make_episodes([3] * 20))
    assert torch.equal(a.sample(5).reward, b.sample(5).reward)


def test_state_dict_roundtrip_continues_identically():
    a = EpisodeReplayBuffer(8, T, N, O, S, A, seed=1)
    a.insert(make_episodes([1, 2, 3, 4, 5]))
    a.sample(2)
    sd = a.state_dict()
    b = EpisodeReplayBuffer(8, T, N, O, S, A, seed=99)
    b.load_state_dict(sd)
    assert len(b) == 5
    for _ in range(3):
        assert torch.equal(a.sample(3).reward, b.sample(3).reward)
    a.insert(make_episodes([6], tag0=50))
    b.insert(make_episodes([6], tag0=50))
    assert torch.equal(a.storage["reward"], b.storage["reward"])
    with pytest.raises(ValueError, match="capacity"):
        EpisodeReplayBuffer(9, T, N, O, S, A).load_state_dict(sd)


def test_full_buffer_state_is_not_copied_and_roundtrips_through_a_file(tmp_path):
    """A full buffer's checkpoint state refers to the live storage (no second copy of gigabytes), a partly filled
    one's is a copy; both restore the same buffer through torch.save / torch.load."""
    a = EpisodeReplayBuffer(4, T, N, O, S, A, seed=3)
    a.insert(make_episodes([1, 2]))
    part = a.state_dict()
    assert part["storage"]["obs"].data_ptr() != a.storage["obs"].data_ptr() and part["storage"]["obs"].shape[0] == 2
    a.insert(make_episodes([3, 4, 5], tag0=10))  # 5 episodes into 4 slots: full, wrapped around
    full = a.state_dict()
    assert all(full["storage"][k].data_ptr() == v.data_ptr() for k, v in a.storage.items())
    torch.save(full, tmp_path / "buf.pt")
    b = EpisodeReplayBuffer(4, T, N, O, S, A, seed=0)
    b.load_state_dict(torch.load(tmp_path / "buf.pt", weights_only=True))
    for k, v in a.storage.items():
        assert torch.equal(b.storage[k], v)
    assert torch.equal(a.sample(3).obs, b.sample(3).obs)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="capacity"):
        EpisodeReplayBuffer(0, T, N, O, S, A)
    buf = EpisodeReplayBuffer(4, T, N, O, S, A)
    ep = make_episodes([2])
    ep["obs"] = ep["obs"][:, :T]
    with pytest.raises(ValueError, match="'obs'"):
        buf.insert(ep)
    ep = make_episodes([2])
    del ep["reward"]
    with pytest.raises(KeyError, match="reward"):
        buf.insert(ep)


def test_memory_is_preallocated_on_the_device():
    buf = EpisodeReplayBuffer(5, T, N, O, S, A, device="cpu")
    assert all(t.device.type == "cpu" for t in buf.storage.values())
    expected = 5 * ((T + 1) * N * O * 4 + (T + 1) * S * 4 + (T + 1) * N * A * 1 + T * N * 8 + 3 * T * 4 + 8)
    assert buf.memory_bytes() == expected


def test_estimate_bytes_matches_allocation():
    buf = EpisodeReplayBuffer(7, T, N, O, S, A)
    assert EpisodeReplayBuffer.estimate_bytes(7, T, N, O, S, A) == buf.memory_bytes()
