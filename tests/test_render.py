"""Rendering: what a frame draws (units, bars, lines, crosses, terrain), images, replays, recording."""
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.image import AxesImage

from course_lib.envs.smac import render as R


def snapshot(t=3, alive=(1, 1, 1, 1, 0, 1), target=(3, 5, 1, 0, -1, -1), walls=True):
    pathing = np.ones((32, 32), bool)
    if walls:
        pathing[:, :3] = False
    return {
        "map_name": "fake_map", "t": t, "width": 32, "height": 32, "pathing": pathing,
        "n_agents": 3, "n_enemies": 3,
        "pos": np.array([[9, 16], [10, 18], [8, 14], [20, 16], [21, 18], [22, 14]], float),
        "team": np.array([0, 0, 0, 1, 1, 1]),
        "unit_type": ["stalker", "zealot", "medivac", "stalker", "zealot", "zergling"],
        "radius": np.array([0.625, 0.5, 0.75, 0.625, 0.5, 0.375]),
        "health": np.array([80, 30, 150, 40, 0, 35.0]),
        "health_max": np.array([80, 100, 150, 80, 100, 35.0]),
        "shield": np.array([40, 0, 0, 80, 0, 0.0]),
        "shield_max": np.array([80, 50, 0, 80, 50, 0.0]),
        "alive": np.array(alive, bool), "target": np.array(target), "last_actions": np.array([6, 8, 7]),
    }


def _collections(ax):
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    patches = [c for c in ax.collections if isinstance(c, PatchCollection)]
    return lines, patches


def test_frame_draws_living_units_letters_lines_crosses_and_terrain():
    fig = R.render_frame(snapshot())
    ax = fig.axes[0]
    lines, patches = _collections(ax)
    circles = patches[0]
    assert len(circles.get_paths()) == 5  # 5 living units
    letters = sorted(t.get_text() for t in ax.texts)
    assert letters == sorted(["S", "Z", "+", "S", "z"])
    # Attack lines: 3->0? no: living attackers with a target: 0->3, 1->5, 2->1 (heal), 3->0.
    segs = lines[0].get_segments()
    assert len(segs) == 4
    colours = [tuple(np.round(c[:3], 3)) for c in lines[0].get_colors()]
    green = tuple(np.round(matplotlib.colors.to_rgb(R.HEAL_COLOUR), 3))
    assert colours.count(green) == 1, "exactly one heal line (medivac -> ally)"
    heal = segs[colours.index(green)]
    np.testing.assert_allclose(heal, [[8, 14], [10, 18]])
    # Bars: 5 health bars (bg + fill) and 3 shield bars (Protoss units alive: 2 stalkers, 1 zealot).
    assert len(patches[1].get_paths()) == 2 * 5 + 2 * 3
    # Dead unit (index 4) drawn as a cross at its position.
    crosses = [c for c in ax.collections if c.get_offsets().shape[0] == 1 and not isinstance(c, LineCollection)]
    assert any(np.allclose(c.get_offsets()[0], [21, 18]) for c in crosses)
    assert any(isinstance(im, AxesImage) for im in ax.images)
    assert "fake_map" in ax.get_title() and "step 3" in ax.get_title() and "enemies 2/3" in ax.get_title()


def test_open_terrain_draws_no_image_and_full_view_shows_whole_map():
    fig = R.render_frame(snapshot(walls=False), view="full")
    ax = fig.axes[0]
    assert not ax.images
    assert ax.get_xlim() == (0, 32) and ax.get_ylim() == (0, 32)


def test_auto_view_contains_every_unit_inside_the_map():
    s = snapshot()
    x0, x1, y0, y1 = R.auto_view(s)
    assert 0 <= x0 < 8 - 0.75 and 22 + 0.375 < x1 <= 32 and 0 <= y0 < 14 and 18 < y1 <= 32
    assert abs((x1 - x0) - (y1 - y0)) < 1e-9  # square window
    corner = dict(s, pos=np.array([[0.5, 0.5]] * 3 + [[31.5, 31.5]] * 3, float))
    assert R.auto_view(corner) == (0.0, 32.0, 0.0, 32.0)
    with pytest.raises(ValueError, match="view must be"):
        R.render_frame(s, view=(5, 1, 0, 3))


def test_frame_to_array_is_an_image_that_reflects_the_battle():
    img = R.frame_to_array(snapshot(), view="full")
    assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8 and img.shape[0] > 100
    np.testing.assert_array_equal(img, R.frame_to_array(snapshot(), view="full"))  # deterministic

    def blue_pixels(im):
        r, g, b = (im[..., k].astype(int) for k in range(3))
        return int(((b > 150) & (r < 80) & (g > 90) & (g < 150)).sum())

    all_alive = blue_pixels(img)
    one_ally = blue_pixels(R.frame_to_array(snapshot(alive=(1, 0, 0, 1, 0, 1)), view="full"))
    assert all_alive > 0 and one_ally < all_alive * 0.6


def test_tensors_are_accepted_and_bad_snapshots_are_explained():
    s = {k: (torch.as_tensor(v) if isinstance(v, np.ndarray) else v) for k, v in snapshot().items()}
    assert R.frame_to_array(s).dtype == np.uint8
    bad = snapshot()
    del bad["radius"]
    with pytest.raises(KeyError, match="radius"):
        R.render_frame(bad)
    short = dict(snapshot(), health=np.ones(4))
    with pytest.raises(ValueError, match="health.*4 entries.*6 units"):
        R.render_frame(short)
    with pytest.raises(TypeError, match="env.snapshot"):
        R.render_frame([1, 2, 3])


def _gif_frames(html):
    import base64
    import io

    from PIL import Image

    m = re.search(r'src="data:image/gif;base64,([A-Za-z0-9+/=]+)"', html)
    assert m, "the replay is an inline GIF"
    img = Image.open(io.BytesIO(base64.b64decode(m.group(1))))
    return img.n_frames, img.size


def test_animate_is_an_offline_gif_with_at_most_max_frames():
    snaps = [snapshot(t=i, alive=(1, 1, 1, 1, 0, int(i < 6))) for i in range(12)]
    html = R.animate(snaps, max_frames=5).data
    assert _gif_frames(html)[0] == 5
    assert "http" not in html and "<script" not in html  # nothing to fetch, nothing to run: plays offline
    n, (w, h) = _gif_frames(R.animate(snaps[:4], max_frames=None).data)
    assert n == 4 and w >= 350 and h >= 350  # large enough to read at 100% zoom
    with pytest.raises(ValueError, match="empty"):
        R.animate([])
    with pytest.raises(ValueError, match="fmt must be 'gif' or 'jshtml'"):
        R.animate(snaps, fmt="mp4")


def test_jshtml_player_needs_no_web_font():
    snaps = [snapshot(t=i) for i in range(4)]
    html = R.animate(snaps, fmt="jshtml").data
    assert len(re.findall(r"frames\[\d+\] = ", html)) == 4
    assert not re.findall(r"https?://", html), "no URL: the buttons must work offline"
    assert 'class="fa ' not in html and "&#9654;" in html  # text glyphs instead of Font Awesome icons


def test_frame_has_a_legend_naming_teams_unit_types_and_bars():
    fig = R.render_frame(snapshot())
    legend = fig.axes[0].get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert {"ally (agent)", "enemy (built-in AI)", "heal", "health bar", "shield bar", "dead"} <= set(texts)
    assert "S = stalker" in legend.get_title().get_text() and "z = zergling" in legend.get_title().get_text()
    assert R.render_frame(snapshot(), legend=False).axes[0].get_legend() is None


def test_units_keep_their_size_ratio_and_stay_visible_when_zoomed_out():
    fig = R.render_frame(snapshot(walls=False), view="full")
    circles = _collections(fig.axes[0])[1][0]
    # living units: stalker 0.625, zealot 0.5, medivac 0.75, stalker 0.625, zergling 0.375
    radii = np.array([p.get_extents().width / 2 for p in circles.get_paths()])
    np.testing.assert_allclose(radii / radii[-1], np.array([0.625, 0.5, 0.75, 0.625, 0.375]) / 0.375, rtol=1e-6)
    assert radii.min() >= R.MIN_DRAWN_RADIUS * 32 - 1e-9  # the smallest unit is not a dot


def test_replay_widget_slider_changes_the_image():
    snaps = [snapshot(t=0), snapshot(t=1, alive=(1, 0, 0, 1, 1, 1))]
    w = R.replay_widget(snaps)
    assert w.slider.max == 1
    first = w.image.value
    w.slider.value = 1
    assert w.image.value != first and w.image.value == w.frame_png(1)


# ------------------------------------------------------------------ recording with the simulator
def _envs():
    envs = pytest.importorskip("course_lib.envs")
    if not hasattr(envs, "StarCraft2Env"):
        pytest.skip("simulator core not available")
    return envs


def _check_episode(snaps, limit):
    ts = [int(s["t"]) for s in snaps]
    assert ts == list(range(len(snaps))), ts
    last = snaps[-1]
    team, alive = np.asarray(last["team"]), np.asarray(last["alive"], bool)
    over = not alive[team == 0].any() or not alive[team == 1].any() or ts[-1] == limit
    assert over, "the last snapshot shows the end of the episode"
    for s in snaps[:-1]:
        a = np.asarray(s["alive"], bool)
        assert a[np.asarray(s["team"]) == 0].any() and a[np.asarray(s["team"]) == 1].any()


def test_record_episode_on_the_facade_random_and_focus_fire():
    envs = _envs()
    env = envs.StarCraft2Env(map_name="3m", seed=1)
    snaps = R.record_episode(env, "random", seed=0)
    _check_episode(snaps, env.episode_limit)
    again = R.record_episode(envs.StarCraft2Env(map_name="3m", seed=1), "random", seed=0)
    assert len(again) == len(snaps)
    np.testing.assert_allclose(np.asarray(again[-1]["health"]), np.asarray(snaps[-1]["health"]))
    ff = R.record_episode(envs.StarCraft2Env(map_name="3m", seed=1), "focus_fire")
    _check_episode(ff, env.episode_limit)
    short = R.record_episode(envs.StarCraft2Env(map_name="3m", seed=1), "random", max_steps=3)
    assert len(short) == 4


def test_record_episode_on_the_batched_env_keeps_auto_reset():
    envs = _envs()
    env = envs.BatchedSMAC("3m", 4, seed=2, auto_reset=True)
    calls = []

    def stop_policy(avail):  # a callable policy: stop while alive, no-op when dead
        calls.append(tuple(avail.shape))
        return torch.where(avail[..., 1], 1, 0)

    snaps = R.record_episode(env, stop_policy, env_index=2, max_steps=5)
    assert len(snaps) == 6 and calls[0] == (4, env.n_agents, env.n_actions)
    assert env.auto_reset is True
    full = R.record_episode(env, "random", env_index=3)
    _check_episode(full, env.episode_limit)
    assert env.auto_reset is True
    nxt, *_ = env.step(torch.where(env.reset()["avail"][..., 1], 1, 0))  # still steppable
    assert nxt["obs"].shape[0] == 4
    with pytest.raises(ValueError, match="env_index"):
        R.record_episode(env, "random", env_index=4)
    with pytest.raises(ValueError, match="unknown policy"):
        R.record_episode(env, "greedy")
    with pytest.raises(TypeError, match="no snapshot"):
        R.record_episode(object(), "random")


def test_follow_camera_zooms_in_as_the_living_units_close_in():
    far = snapshot(t=0)
    near = dict(snapshot(t=9), pos=np.array([[14, 16], [15, 17], [14, 15], [17, 16], [18, 17], [17, 15]], float))
    snaps = [far] * 10 + [near] * 10
    views = R.follow_views(snaps, window=2)
    span = [v[1] - v[0] for v in views]
    assert span[0] > span[-1] and span[-1] >= 9.0  # tighter at the end, never below min_span
    x0, x1, y0, y1 = views[-1]
    live = near["pos"][near["alive"]]
    assert (live[:, 0] > x0).all() and (live[:, 0] < x1).all() and (live[:, 1] > y0).all() and (live[:, 1] < y1).all()


def test_stored_notebooks_replays_need_nothing_from_the_internet():
    import json
    from pathlib import Path

    found_gif = 0
    for path in sorted((Path(__file__).resolve().parents[1] / "solutions").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            for out in cell.get("outputs", []):
                html = "".join(out.get("data", {}).get("text/html", ""))
                assert not re.findall(r"(?:src|href)=[\"']https?://", html), f"{path.name} loads from the web"
                assert 'class="fa ' not in html, f"{path.name}: web-font icons would be blank offline"
                found_gif += "data:image/gif;base64," in html
    assert found_gif >= 2, "notebooks 00 and 04 store their battle replays as inline GIFs"
