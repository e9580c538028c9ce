"""Replay files: StarCraft2Env.save_replay(), replay.save_replay/read_replay/load_replay, render.load_replay."""
import numpy as np
import pytest

from course_lib.envs import BatchedSMAC, StarCraft2Env
from course_lib.envs.smac import render
from course_lib.envs.smac.replay import (REPLAY_FORMAT, REPLAY_VERSION, load_replay, read_replay, replay_episodes,
                                         save_replay)

DYNAMIC = ("pos", "health", "shield", "alive", "target", "last_actions", "t")


def _play(env, rng, steps=None):
    """One episode with random available actions (or ``steps`` steps); returns its snapshots."""
    snaps = [env.snapshot()]
    n = 0
    while steps is None or n < steps:
        acts = [int(rng.choice(np.flatnonzero(r))) for r in env.get_avail_actions()]
        _, term, _ = env.step(acts)
        snaps.append(env.snapshot())
        n += 1
        if term:
            break
    return snaps


def _same(a, b):
    for k in DYNAMIC:
        np.testing.assert_array_equal(np.asarray(a[k]), np.asarray(b[k]), err_msg=k)
    for k in ("map_name", "width", "height", "n_agents", "n_enemies", "unit_type"):
        assert a[k] == b[k], k
    for k in ("team", "radius", "health_max", "shield_max", "pathing"):
        np.testing.assert_array_equal(np.asarray(a[k]), np.asarray(b[k]), err_msg=k)


@pytest.mark.parametrize("map_name", ["3m", "MMM2"])
def test_facade_save_replay_round_trip(map_name, tmp_path):
    env = StarCraft2Env(map_name, seed=3, replay_dir=str(tmp_path / "r"), replay_prefix="eval")
    rng = np.random.default_rng(0)
    played = []
    for _ in range(2):
        env.reset()
        played.append(_play(env, rng))
    env.reset()
    played.append(_play(env, rng, steps=5))                 # an unfinished episode is saved as far as played
    path = env.save_replay()
    assert path.parent == tmp_path / "r" and path.name.startswith("eval_") and path.suffix == ".npz"
    data = read_replay(path)
    assert str(data["format"]) == REPLAY_FORMAT and int(data["version"]) == REPLAY_VERSION
    assert data["episode_lengths"].tolist() == [len(e) for e in played]
    episodes = replay_episodes(data)
    for got_ep, want_ep in zip(episodes, played):
        assert len(got_ep) == len(want_ep)
        for got, want in zip(got_ep, want_ep):
            _same(got, want)
    assert [s["t"] for s in load_replay(path, episode=-1)] == list(range(6))
    # the renderer draws a loaded frame exactly as the live one
    np.testing.assert_array_equal(render.frame_to_array(episodes[0][-1]), render.frame_to_array(played[0][-1]))
    html = render.animate(render.load_replay(path, episode=0), max_frames=3)
    assert "<" in html.data and len(html.data) > 1000
    assert env.save_replay() != path                        # a second save in the same second gets a new name


def test_replay_episodes_limit_and_opt_out(tmp_path):
    env = StarCraft2Env("3m", seed=0, replay_episodes=2)
    rng = np.random.default_rng(1)
    lengths = []
    for _ in range(4):
        env.reset()
        lengths.append(len(_play(env, rng)))
    env.reset()                                            # a fresh episode without steps is not saved
    data = read_replay(env.save_replay(tmp_path / "last2.npz"))
    assert data["episode_lengths"].tolist() == lengths[-2:]
    # recording keeps references to the tensors the step makes anyway: nothing is copied
    env.step([1, 1, 1])
    assert env._frames[-1][1] is env.batched.health and env._frames[-1][0] is env.batched._p
    off = StarCraft2Env("3m", seed=0, replay_episodes=0)
    off.reset()
    off.step([1, 1, 1])
    assert off._frames is None
    with pytest.raises(RuntimeError, match="replay_episodes=0"):
        off.save_replay(tmp_path / "x.npz")
    with pytest.raises(RuntimeError, match="no episode"):
        StarCraft2Env("3m", seed=0).save_replay(tmp_path / "y.npz")
    with pytest.raises(ValueError, match="replay_episodes"):
        StarCraft2Env("3m", seed=0, replay_episodes=-1)


def test_save_replay_of_recorded_episodes(tmp_path):
    env = BatchedSMAC("2s3z", 2, seed=1)
    ep1 = render.record_episode(env, "focus_fire", env_index=1, max_steps=12)
    ep2 = render.record_episode(env, "random", env_index=0, max_steps=7)
    path = save_replay(tmp_path / "rec.npz", [ep1, ep2])
    for want, e in ((ep1, 0), (ep2, 1)):
        got = load_replay(path, episode=e)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
    assert len(load_replay(save_replay(tmp_path / "one.npz", ep1))) == len(ep1)   # one episode: a flat list
    with pytest.raises(ValueError, match="one map"):
        save_replay(tmp_path / "mixed.npz", [ep1, render.record_episode(BatchedSMAC("3m", 1), max_steps=2)])
    with pytest.raises(ValueError, match="at least one"):
        save_replay(tmp_path / "empty.npz", [])


def test_bad_replay_files_are_explained(tmp_path):
    env = StarCraft2Env("3m", seed=0)
    env.reset()
    env.step([1, 1, 1])
    good = read_replay(env.save_replay(tmp_path / "good.npz"))
    with pytest.raises(FileNotFoundError, match="no replay"):
        read_replay(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"this is not an archive")
    with pytest.raises(ValueError, match=r"junk\.npz is not a course_lib replay"):
        read_replay(junk)

    def write(name, **changes):
        d = dict(good)
        d.update(changes)
        for k in [k for k, v in changes.items() if v is None]:
            del d[k]
        p = tmp_path / name
        with open(p, "wb") as f:
            np.savez_compressed(f, **d)
        return p

    with pytest.raises(ValueError, match="format 'other'"):
        read_replay(write("fmt.npz", format=np.array("other")))
    with pytest.raises(ValueError, match="version 2.*update course_lib"):
        read_replay(write("new.npz", version=np.array(REPLAY_VERSION + 1)))
    with pytest.raises(ValueError, match=r"missing \['pos'\]"):
        read_replay(write("nopos.npz", pos=None))
    with pytest.raises(ValueError, match="'health' has shape"):
        read_replay(write("shape.npz", health=good["health"][:, :2]))
    with pytest.raises(ValueError, match="episode_lengths"):
        read_replay(write("len.npz", episode_lengths=np.array([5])))
    # an object array would need pickle: the file is refused, nothing is unpickled
    with pytest.raises(ValueError, match="not a course_lib replay"):
        read_replay(write("obj.npz", map_name=np.array([{"a": 1}], dtype=object)))
    with pytest.raises(ValueError, match=r"episode must be an int in \[-1, 1\)"):
        load_replay(tmp_path / "good.npz", episode=1)
    assert render.load_replay is load_replay
