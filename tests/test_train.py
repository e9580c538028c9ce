"""train / evaluate / checkpoints / CLI, on the real simulator (3m) where it matters."""
import dataclasses
import json
import os
import signal
import subprocess
import sys

import pandas as pd
import pytest
import torch

from course_lib import evaluate, train
from course_lib.config import ALG_CONFIGS, make_config
from course_lib.train import CURVE_COLUMNS, load_checkpoint

BatchedSMAC = pytest.importorskip("course_lib.envs").BatchedSMAC

# tiny but real: 3m, 4 games, small batches, the learner trains from the 8th episode on
TINY = dict(preset="fast", n_envs=4, batch_size=8, test_nepisodes=4, test_interval=600, target_update_interval=16,
            checkpoint_interval=10**9)


def params_of(run):
    sd = {f"mac.{k}": v for k, v in run.learner.mac.state_dict().items()}
    if run.learner.mixer is not None:
        sd.update({f"mixer.{k}": v for k, v in run.learner.mixer.state_dict().items()})
    return sd


# ----------------------------------------------------------------------------------------------- config
def test_pymarl_preset_has_the_published_defaults():
    c = make_config("qmix", "3m")
    assert (c.rnn_hidden_dim, c.mixing_embed_dim, c.hypernet_layers) == (64, 32, 1)
    assert (c.epsilon_start, c.epsilon_finish, c.epsilon_anneal_time) == (1.0, 0.05, 50_000)
    assert (c.buffer_size, c.batch_size, c.target_update_interval, c.gamma) == (5000, 32, 200, 0.99)
    assert (c.optimizer, c.lr, c.optim_alpha, c.optim_eps, c.grad_norm_clip) == ("rmsprop", 5e-4, 0.99, 1e-5, 10.0)
    assert (c.double_q, c.td_lambda, c.n_envs, c.test_interval, c.test_nepisodes, c.t_max) == (True, 0.0, 1, 10_000, 32, 2_050_000)
    q = make_config("qtran", "3m")
    assert (q.mixing_embed_dim, q.opt_loss, q.nopt_min_loss, q.qtran_arch, q.learner) == (64, 1.0, 0.1, "qtran_paper", "qtran_learner")
    assert make_config("iql", "3m").mixer is None and make_config("vdn", "3m").mixer == "vdn"


def test_fast_preset_switches_on_pymarl2_tricks():
    f = make_config("qmix", "3m", "fast")
    assert (f.optimizer, f.lr, f.td_lambda, f.n_envs, f.hypernet_layers) == ("adam", 1e-3, 0.6, 8, 2)
    assert f.batch_size > 32 and f.epsilon_anneal_time < 50_000
    assert make_config("qmix", "6h_vs_8z", "fast").epsilon_anneal_time == 500_000
    assert make_config("vdn", "3m", "fast", lr=3e-4).lr == 3e-4


def test_every_config_field_is_documented_in_one_line():
    import inspect

    from course_lib.config import BaseConfig

    checked = 0
    for cls in [BaseConfig, *ALG_CONFIGS.values()]:
        src = inspect.getsource(cls)
        for f in dataclasses.fields(cls):
            if f.name in cls.__dict__.get("__annotations__", {}):
                line = next(l for l in src.splitlines() if l.strip().startswith(f"{f.name}:"))
                assert "#" in line and len(line.split("#", 1)[1].strip()) > 5, f"{cls.__name__}.{f.name} lacks a comment"
                checked += 1
    assert checked >= len(dataclasses.fields(BaseConfig)) + 8


def test_bad_config_input_is_explained():
    with pytest.raises(TypeError, match=r"unknown config field\(s\) \['learning_rate'\].*valid fields:.*'lr'"):
        make_config("qmix", "3m", learning_rate=1e-3)
    with pytest.raises(TypeError, match="hypernet_layers"):  # a QMIX field is not a VDN field
        make_config("vdn", "3m", hypernet_layers=2)
    with pytest.raises(ValueError, match=r"unknown algorithm 'qplex'.*\['acorm', 'iql', 'qmix', 'qtran', 'vdn'\]"):
        make_config("qplex", "3m")
    with pytest.raises(ValueError, match="unknown preset 'slow'"):
        make_config("qmix", "3m", "slow")
    with pytest.raises(ValueError, match="td_lambda=1.5"):
        make_config("qmix", "3m", td_lambda=1.5)
    with pytest.raises(ValueError, match="optimizer='sgd'"):
        make_config("qmix", "3m", optimizer="sgd")


# ------------------------------------------------------------------------------------------- learning
def test_short_qmix_run_on_3m_learns(tmp_path):
    """About 10 s on one core: greedy win rate clearly above the random policy's (which is ~0 on 3m)."""
    from course_lib.learners import MultiAgentController
    from course_lib.runners import EpisodeRunner

    env = BatchedSMAC("3m", 32, device="cpu", seed=11, auto_reset=False)
    mac = MultiAgentController(env.n_agents, env.n_actions, env.obs_dim)
    random_policy = EpisodeRunner(env, mac, None, seed=0).collect(64, epsilon=1.0)
    run = train("qmix", "3m", preset="fast", seed=1, t_max=20_000, run_dir=tmp_path / "r", progress=False)
    res = evaluate(run, n_episodes=64, seed=4242, device="cpu")
    assert set(res) == {"win_rate", "return"}
    assert random_policy.win_rate <= 0.1
    assert res["win_rate"] >= random_policy.win_rate + 0.3, (res, random_policy.win_rate, run.curves)
    assert res["return"] > random_policy.mean_return + 5


# ------------------------------------------------------------------------------ files, resume, interrupts
def test_run_files_and_curves(tmp_path):
    run = train("vdn", "3m", seed=0, t_max=1200, run_dir=tmp_path / "v", progress=False, **TINY)
    assert run.stopped_by == "t_max" and not run.interrupted
    assert list(run.curves.columns) == CURVE_COLUMNS
    assert run.curves["env_steps"].iloc[0] == 0 and run.curves["env_steps"].iloc[-1] >= 1200
    assert run.curves["env_steps"].is_monotonic_increasing and run.curves["wall_time"].is_monotonic_increasing
    assert run.curves["test_win_rate"].between(0, 1).all()
    csv = pd.read_csv(tmp_path / "v" / "curves.csv")
    assert len(csv) == len(run.curves) and list(csv.columns) == CURVE_COLUMNS
    cfg = json.loads((tmp_path / "v" / "config.json").read_text())
    assert cfg["config"]["alg"] == "vdn" and cfg["config"]["batch_size"] == 8 and cfg["sizes"]["n_agents"] == 3
    ck = load_checkpoint(tmp_path / "v")
    assert ck["alg"] == "vdn" and ck["map_name"] == "3m" and ck["runner"]["t_env"] == run.final["env_steps"]
    assert run.final == {"env_steps": int(run.curves.env_steps.iloc[-1]),
                         "win_rate": float(run.curves.test_win_rate.iloc[-1]),
                         "return": float(run.curves.test_return.iloc[-1])}


@pytest.mark.parametrize("alg", ["qmix", "qtran"])
def test_resume_gives_identical_parameters(tmp_path, alg):
    full = train(alg, "3m", seed=3, t_max=2400, run_dir=tmp_path / "full", progress=False, **TINY)
    half = train(alg, "3m", seed=3, t_max=1200, run_dir=tmp_path / "half", progress=False, **TINY)
    assert half.final["env_steps"] < full.final["env_steps"]
    resumed = train(alg, "3m", t_max=2400, run_dir=tmp_path / "half", resume=True, progress=False)
    assert resumed.final["env_steps"] == full.final["env_steps"]
    a, b = params_of(full), params_of(resumed)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), f"{k} differs after resume"
    # and the half run really trained (otherwise the comparison would prove nothing)
    h = params_of(half)
    assert any(not torch.equal(h[k], a[k]) for k in a)


def test_keyboard_interrupt_saves_a_checkpoint_and_says_where(tmp_path, capsys):
    calls = []

    def stop_on_third(trainer):
        calls.append(trainer.t_env)
        if len(calls) == 3:
            raise KeyboardInterrupt

    run = train("qmix", "3m", seed=0, t_max=5000, run_dir=tmp_path / "i", progress=False, callback=stop_on_third, **TINY)
    out = capsys.readouterr().out
    ckpt = tmp_path / "i" / "checkpoint.pt"
    assert run.interrupted and run.stopped_by == "interrupt"
    assert ckpt.exists() and str(ckpt) in out and "resume=True" in out
    ck = load_checkpoint(ckpt)
    assert ck["clean"] and ck["runner"]["t_env"] == calls[-1] < 5000
    # the interrupted run continues from there
    more = train("qmix", "3m", t_max=calls[-1] + 400, run_dir=tmp_path / "i", resume=True, progress=False)
    assert more.final["env_steps"] >= calls[-1] + 400 and not more.interrupted


def test_real_ctrl_c_stops_at_the_next_iteration(tmp_path, capsys):
    sent = []

    def press_ctrl_c(trainer):
        if not sent:
            sent.append(trainer.t_env)
            os.kill(os.getpid(), signal.SIGINT)  # handled by train: finishes the iteration, then saves

    run = train("iql", "3m", seed=0, t_max=5000, run_dir=tmp_path / "c", progress=False, callback=press_ctrl_c, **TINY)
    assert run.interrupted and (tmp_path / "c" / "checkpoint.pt").exists()
    assert run.final["env_steps"] < 5000
    assert "Checkpoint saved to" in capsys.readouterr().out
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_time_limit_stops_cleanly_with_a_final_evaluation(tmp_path):
    run = train("vdn", "3m", seed=0, t_max=10**7, time_limit_s=3.0, run_dir=tmp_path / "t", progress=False, **TINY)
    assert run.stopped_by == "time_limit" and not run.interrupted
    last = run.curves.iloc[-1]
    assert last["env_steps"] == run.final["env_steps"] == load_checkpoint(tmp_path / "t")["runner"]["t_env"]
    assert 2.5 < last["wall_time"] < 30


def test_mismatched_checkpoint_names_both(tmp_path):
    train("qmix", "3m", seed=0, t_max=300, run_dir=tmp_path / "m", progress=False, **TINY)
    with pytest.raises(ValueError, match=r"alg='qmix' on map '3m'.*alg='vdn' on map '3m'"):
        load_checkpoint(tmp_path / "m", alg="vdn", map_name="3m")
    with pytest.raises(ValueError, match=r"alg='qmix' on map '3m'.*alg='qmix' on map '8m'.*map"):
        load_checkpoint(tmp_path / "m", map_name="8m")
    with pytest.raises(ValueError, match=r"'qmix'.*'3m'.*'qtran'.*'2s3z'"):
        evaluate(tmp_path / "m", alg="qtran", map_name="2s3z")
    with pytest.raises(ValueError, match=r"'qmix'.*'3m'.*'vdn'"):
        train("vdn", "3m", run_dir=tmp_path / "m", resume=True, progress=False)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nothing")


def test_evaluate_a_checkpoint_is_seeded_and_greedy(tmp_path):
    run = train("qmix", "3m", seed=0, t_max=1200, run_dir=tmp_path / "e", progress=False, **TINY)
    a = evaluate(tmp_path / "e", n_episodes=8, seed=5, device="cpu")
    b = evaluate(tmp_path / "e" / "checkpoint.pt", n_episodes=8, seed=5, device="cpu", alg="qmix", map_name="3m")
    c = evaluate(run, n_episodes=8, seed=5, device="cpu")
    assert a == b == c
    assert 0.0 <= a["win_rate"] <= 1.0 and isinstance(a["return"], float)
    with pytest.raises(ValueError, match="n_episodes"):
        evaluate(run, n_episodes=0)
    # one greedy decentralised step through Run.policy never picks an unavailable action
    env = BatchedSMAC("3m", 5, device="cpu", seed=2)
    nxt = env.reset()
    actions, hidden = run.policy(nxt["obs"], nxt["avail"], torch.zeros(5, 3, 9), run.mac.init_hidden(5))
    assert actions.shape == (5, 3) and hidden.shape == (5, 3, 64)
    assert nxt["avail"].gather(-1, actions.unsqueeze(-1)).all()


def test_train_rejects_unknown_overrides_and_bad_resume(tmp_path):
    with pytest.raises(TypeError, match="valid fields"):
        train("qmix", "3m", run_dir=tmp_path / "x", progress=False, learning_rate=1.0)
    with pytest.raises(ValueError, match="run_dir"):
        train("qmix", "3m", resume=True, progress=False)


def test_cli_help_lists_algorithms_and_maps():
    from course_lib.envs import list_maps

    out = subprocess.run([sys.executable, "-m", "course_lib.train", "--help"], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr
    for alg in ("iql", "vdn", "qmix", "qtran", "acorm"):
        assert alg in out.stdout
    for m in list_maps():
        assert m in out.stdout
    assert "--resume" in out.stdout and "--time-limit" in out.stdout


def test_cli_trains_and_resumes(tmp_path):
    base = [sys.executable, "-m", "course_lib.train", "--alg", "vdn", "--map", "3m", "--preset", "fast", "--no-progress",
            "--set", "n_envs=4", "--set", "batch_size=8", "--set", "test_nepisodes=4"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(base + ["--t-max", "400", "--run-dir", str(tmp_path / "cli")], capture_output=True, text=True,
                         timeout=180, env=env)
    assert out.returncode == 0, out.stderr
    assert "greedy win rate" in out.stdout and (tmp_path / "cli" / "checkpoint.pt").exists()
    out2 = subprocess.run([sys.executable, "-m", "course_lib.train", "--resume", str(tmp_path / "cli"), "--t-max", "800",
                           "--no-progress"], capture_output=True, text=True, timeout=180, env=env)
    assert out2.returncode == 0, out2.stderr
    assert load_checkpoint(tmp_path / "cli")["runner"]["t_env"] >= 800
    bad = subprocess.run(base + ["--map", "4m"], capture_output=True, text=True, timeout=120, env=env)
    assert bad.returncode == 2 and "unknown map '4m'" in bad.stderr


def test_plot_helpers(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.mixers import QMixer
    from course_lib.plotting import curves_frame, plot_comparison_grid, plot_learning_curves, plot_qmix_weights

    rows = []
    for alg in ("vdn", "qmix"):
        for seed in range(3):
            for k, t in enumerate(range(0, 50_000, 10_000)):
                rows.append({"env_steps": t + 37 * seed, "test_win_rate": min(1.0, k * (0.2 if alg == "qmix" else 0.1)),
                             "alg": alg, "map_name": "3m", "seed": seed})
    df = pd.DataFrame(rows)
    ax = plot_learning_curves(df)
    assert len(ax.get_lines()) >= 2 and ax.get_ylim()[1] <= 1.05
    # seeds evaluated at slightly different steps are binned together: one mean per evaluation point
    xs = ax.get_lines()[0].get_xdata()
    assert len(xs) == 5
    fig = plot_comparison_grid(pd.concat([df, df.assign(map_name="2s3z")]), maps=["3m", "2s3z"], algs=["qmix", "vdn"])
    assert len([a for a in fig.axes if a.get_visible() and a.get_title()]) == 2
    with pytest.raises(ValueError, match="no curves for maps"):
        plot_comparison_grid(df, maps=["8m"])
    mixer = QMixer(3, 48)
    fig = plot_qmix_weights(mixer, torch.randn(48))
    assert fig.axes[0].get_title().startswith("QMIX first-layer weights")
    with pytest.raises(TypeError, match="QMixer"):
        plot_qmix_weights(torch.nn.Linear(2, 2), torch.randn(2))
    run = train("vdn", "3m", seed=0, t_max=600, run_dir=tmp_path / "p", progress=False, **TINY)
    assert set(curves_frame([run, run])["alg"]) == {"vdn"}
    plt.close("all")


def test_callback_can_stop_the_run_cleanly(tmp_path):
    def stop_after_two(trainer):
        if trainer.runner.episodes >= 2 * trainer.config.n_envs:
            trainer.request_stop()

    run = train("vdn", "3m", seed=0, t_max=10**6, run_dir=tmp_path / "s", progress=False, callback=stop_after_two, **TINY)
    assert run.stopped_by == "callback" and not run.interrupted
    assert run.curves["env_steps"].iloc[-1] == run.final["env_steps"] < 10**6
