"""ACORM: batched K-means, contrastive loss, momentum encoder, agent, attention mixer, learner, config, training."""
import copy
import io
import math

import numpy as np
import pytest
import torch

from course_lib.agents import ACORMAgent, AgentBase, make_agent
from course_lib.cluster import batched_kmeans, kmeans_inertia
from course_lib.config import ACORMConfig, make_config
from course_lib.learners import ACORMLearner, MultiAgentController, make_learner
from course_lib.learners.contrastive import bilinear_scores, contrastive_role_loss, momentum_update
from course_lib.mixers import ACORMMixer, make_mixer


# ------------------------------------------------------------------------------------------------ K-means
def blobs(G, N, D, k, seed, spread=0.05):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(G, k, D, generator=g) * 5
    # every group holds all k blobs (with fewer, any split of a blob is as good as another)
    truth = torch.stack([(torch.arange(N) % k)[torch.randperm(N, generator=g)] for _ in range(G)])
    x = centres.gather(1, truth.unsqueeze(-1).expand(-1, -1, D)) + spread * torch.randn(G, N, D, generator=g)
    return x, truth


def test_kmeans_agrees_with_scikit_learn_on_separated_blobs():
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    x, truth = blobs(G=40, N=12, D=16, k=3, seed=0)
    labels = batched_kmeans(x, 3, generator=torch.Generator().manual_seed(1))
    assert labels.shape == (40, 12) and labels.dtype == torch.long
    aris = []
    for g in range(40):
        sk = KMeans(3, n_init=10, random_state=0).fit_predict(x[g].numpy())
        aris.append(adjusted_rand_score(sk, labels[g].numpy()))
    assert np.mean(aris) > 0.99 and np.min(aris) > 0.9, aris
    # and the inertia matches scikit-learn's on the same groups (within float tolerance where labels agree)
    ours = kmeans_inertia(x, labels, 3)
    sk_inertia = torch.tensor([KMeans(3, n_init=10, random_state=0).fit(x[g].numpy()).inertia_ for g in range(40)])
    assert (ours <= sk_inertia * 1.0001 + 1e-4).float().mean() > 0.95


def test_kmeans_is_deterministic_clamps_k_and_numbers_clusters_by_first_appearance():
    x, _ = blobs(G=8, N=6, D=4, k=3, seed=3)
    a = batched_kmeans(x, 3, generator=torch.Generator().manual_seed(5))
    b = batched_kmeans(x, 3, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    assert (a[:, 0] == 0).all()  # agent 0 is always in cluster 0
    for row in a.tolist():  # a new cluster number appears only after all smaller ones
        seen = []
        for v in row:
            if v not in seen:
                assert v == len(seen)
                seen.append(v)
    few = batched_kmeans(x[:, :2], 5)
    assert set(few.unique().tolist()) <= {0, 1} and (few[:, 0] != few[:, 1]).all()  # k clamped to N=2
    same = batched_kmeans(torch.zeros(3, 4, 2), 3)  # coincident points: no crash, one cluster
    assert (same == 0).all()


def test_kmeans_inertia_by_hand_and_bad_input():
    x = torch.tensor([[[0.0, 0.0], [2.0, 0.0], [10.0, 10.0]]])
    assert kmeans_inertia(x, torch.tensor([[0, 0, 1]]), 2).item() == pytest.approx(2.0)
    with pytest.raises(ValueError, match="k must be a positive integer, got 0"):
        batched_kmeans(x, 0)
    with pytest.raises(ValueError, match=r"x must be a tensor \[groups, points, dims\], got \(3, 2\)"):
        batched_kmeans(x[0], 2)
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        kmeans_inertia(x, torch.tensor([[0, 0, 2]]), 2)


# ------------------------------------------------------------------------------------------ contrastive
def test_contrastive_loss_equals_a_hand_computation():
    # 4 agents, 2 clusters {0, 1} and {2, 3}; W = diag(2, 1); q = k
    q = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]])
    W = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    labels = torch.tensor([[0, 0, 1, 1]])
    # rows of s: agents 0, 1 -> [2, 2, 0, 0]; agents 2, 3 -> [0, 0, 1, 1]
    # loss_0 = -log(2e^2 / (2e^2 + 2)) = log(1 + e^-2); loss_2 = log(1 + e^-1)
    want = (math.log(1 + math.exp(-2)) + math.log(1 + math.exp(-1))) / 2
    assert contrastive_role_loss(q, q, W, labels).item() == pytest.approx(want, rel=1e-6)
    s = bilinear_scores(q, q, W)
    assert torch.allclose(s[0, 0], torch.tensor([0.0, 0.0, -2.0, -2.0]))  # row max subtracted
    # everyone in one cluster: every anchor's positives are all agents -> loss 0
    assert contrastive_role_loss(q, q, W, torch.zeros(1, 4, dtype=torch.long)).item() == pytest.approx(0.0, abs=1e-7)


def test_contrastive_loss_matches_a_loop_with_asymmetric_w_and_mask():
    g = torch.Generator().manual_seed(0)
    q, k = torch.rand(3, 4, 5, generator=g), torch.rand(3, 4, 5, generator=g)
    W = torch.rand(5, 5, generator=g)
    labels = torch.tensor([[0, 1, 0, 1], [0, 0, 1, 2], [0, 1, 2, 2]])
    mask = torch.tensor([1.0, 0.0, 1.0])
    total, n = 0.0, 0
    for gi in (0, 2):
        for i in range(4):
            s = [float(q[gi, i] @ W @ k[gi, j]) for j in range(4)]
            num = sum(math.exp(s[j]) for j in range(4) if labels[gi, j] == labels[gi, i])
            total += -math.log(num / sum(math.exp(v) for v in s))
            n += 1
    assert contrastive_role_loss(q, k, W, labels, mask).item() == pytest.approx(total / n, rel=1e-5)
    with pytest.raises(ValueError, match=r"W must be \[5, 5\]"):
        contrastive_role_loss(q, k, torch.rand(4, 4), labels)
    with pytest.raises(ValueError, match="mask must have shape"):
        contrastive_role_loss(q, k, W, labels, torch.ones(4))


def test_momentum_update_equals_its_formula():
    torch.manual_seed(0)
    src, tgt = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    before = [p.detach().clone() for p in tgt.parameters()]
    momentum_update(tgt, src, 0.1)
    for b, s, t in zip(before, src.parameters(), tgt.parameters()):
        assert torch.allclose(t, 0.9 * b + 0.1 * s)
    with pytest.raises(ValueError, match="tau must be in"):
        momentum_update(tgt, src, 1.5)
    with pytest.raises(ValueError, match="same parameter shapes"):
        momentum_update(tgt, torch.nn.Linear(3, 3), 0.1)


# ------------------------------------------------------------------------------------------------ agent
def test_acorm_agent_layout_fused_unroll_and_extras():
    torch.manual_seed(0)
    agent = make_agent("acorm", 20, 9, 64)
    assert isinstance(agent, ACORMAgent) and isinstance(agent, AgentBase)
    assert agent.hidden_dim == 192 and agent.embed_dim == 128 and agent.role_dim == 64
    assert [tuple(p.shape) for p in agent.embed_net.parameters()][0] == (128, 20)
    assert agent.q_net.fc1.in_features == 20 + 64 and agent.q_net.fc2.out_features == 9
    assert isinstance(agent.role_encoder[1], torch.nn.Sigmoid)
    x = torch.randn(5, 7, 20)
    h0 = torch.randn(5, 192)
    q, h = agent.unroll(x, h0)
    q_loop, h_loop = AgentBase.unroll(agent, x, h0)
    assert q.shape == (5, 7, 9) and h.shape == (5, 7, 192)
    assert torch.allclose(q, q_loop, atol=1e-5) and torch.allclose(h, h_loop, atol=1e-5)
    ex = agent.extras(h)
    assert ex["embedding"].shape == (5, 7, 128) and ex["roles"].shape == (5, 7, 64)
    assert ((ex["roles"] > 0) & (ex["roles"] < 1)).all()
    e, _ = agent.embed_unroll(x, h0[:, :128])
    assert torch.allclose(ex["embedding"], e, atol=1e-5)
    with pytest.raises(ValueError, match="input_dim=20"):
        agent.unroll(torch.randn(5, 7, 21))
    with pytest.raises(ValueError, match="role_dim=0"):
        ACORMAgent(20, 9, role_dim=0)


# ------------------------------------------------------------------------------------------------ mixer
def test_attention_weights_are_distributions_over_agents():
    torch.manual_seed(0)
    mixer = make_mixer("acorm", 5, 30)
    assert isinstance(mixer, ACORMMixer) and mixer.extra_inputs == ("roles",)
    a = mixer.attention_weights(torch.randn(2, 6, 30), torch.rand(2, 6, 5, 64))
    assert a.shape == (2, 6, 4, 5, 5)
    assert (a >= 0).all() and torch.allclose(a.sum(-1), torch.ones(2, 6, 4, 5), atol=1e-6)
    assert mixer.attention.fc_q.bias is None and mixer.attention.fc_k.bias is None
    assert mixer.state_gru.hidden_size == 5 * 64 and mixer.hyper_in == 30 + 5 * 64


@pytest.mark.parametrize("use_attention", [True, False])
def test_mixer_is_monotonic_in_every_agent_q(use_attention):
    torch.manual_seed(1)
    mixer = ACORMMixer(4, 12, use_attention=use_attention)
    with torch.no_grad():  # make it far from initialisation
        for p in mixer.parameters():
            p.mul_(3.0).add_(torch.randn_like(p))
    qs = (torch.randn(3, 8, 4) * 10).requires_grad_(True)
    roles = torch.rand(3, 8, 4, 64)
    out = mixer(qs, torch.randn(3, 8, 12), roles if use_attention else None)
    assert out.shape == (3, 8, 1)
    (grad,) = torch.autograd.grad(out.sum(), qs)  # Q_tot[b, t] depends on qs[b, t] only
    assert (grad >= 0).all() and (grad > 0).any()
    if not use_attention:
        assert mixer.extra_inputs == () and mixer.hyper_in == 12
        with pytest.raises(ValueError, match="use_attention=False"):
            mixer.attention_weights(torch.randn(3, 8, 12), roles)


def test_mixer_mixes_over_time_and_rejects_bad_shapes():
    torch.manual_seed(0)
    mixer = ACORMMixer(3, 10)
    qs, s, z = torch.randn(2, 5, 3), torch.randn(2, 5, 10), torch.rand(2, 5, 3, 64)
    full = mixer(qs, s, z)
    # the state GRU is causal: the first 3 steps do not depend on later ones
    assert torch.allclose(full[:, :3], mixer(qs[:, :3], s[:, :3], z[:, :3]), atol=1e-6)
    with pytest.raises(ValueError, match=r"expected roles \(2, 5, 3, 64\)"):
        mixer(qs, s, None)
    with pytest.raises(ValueError, match="expected qs"):
        mixer(torch.randn(2, 5, 4), s, z)
    with pytest.raises(ValueError, match="n_heads=3"):
        ACORMMixer(3, 10, n_heads=3)


# ----------------------------------------------------------------------------------- config and registry
def test_published_defaults_and_fast_preset():
    c = make_config("acorm", "5m_vs_6m")
    assert isinstance(c, ACORMConfig)
    pub, pym = make_config("acorm", "3m", "published").to_dict(), make_config("acorm", "3m", "pymarl").to_dict()
    assert pub.pop("preset") == "published" and pym.pop("preset") == "pymarl" and pub == pym
    assert (c.agent, c.mixer, c.learner, c.obs_agent_id, c.obs_last_action) == ("acorm", "acorm", "acorm_learner", False, True)
    assert (c.optimizer, c.lr, c.epsilon_finish, c.epsilon_anneal_time, c.target_update_tau) == ("adam", 6e-4, 0.02, 80_000, 0.005)
    assert (c.td_lambda, c.double_q, c.buffer_size, c.batch_size, c.test_interval, c.test_nepisodes) == (0.0, True, 5000, 32, 10_000, 32)
    assert (c.cluster_num, c.embed_dim, c.role_dim, c.n_heads, c.attn_dim, c.cl_interval) == (3, 128, 64, 4, 128, 200)
    assert (c.cl_lr, c.ae_lr, c.pretrain_ae_steps, c.pretrain_cl_steps, c.lr_decay, c.lr_decay_every) == (8e-4, 1e-3, 120, 100, 0.98, 500)
    assert (c.use_contrastive, c.use_attention, c.grad_norm_clip, c.gamma, c.n_envs) == (True, True, 10.0, 0.99, 1)
    f = make_config("acorm", "3m", "fast")
    assert (f.optimizer, f.lr, f.n_envs, f.batch_size, f.td_lambda) == ("adam", 1e-3, 8, 64, 0.6)
    assert f.target_update_tau == pytest.approx(1 - 0.995 ** 8, abs=1e-3) and f.role_tau == 0.005
    assert f.cl_interval < c.cl_interval and f.pretrain_ae_steps < c.pretrain_ae_steps


def test_acorm_config_errors_name_the_field():
    with pytest.raises(ValueError, match="cluster_num=0"):
        make_config("acorm", "3m", cluster_num=0)
    with pytest.raises(ValueError, match="attn_dim=100 is not allowed: a multiple of n_heads=3"):
        make_config("acorm", "3m", n_heads=3, attn_dim=100)
    with pytest.raises(ValueError, match="optimizer='rmsprop'"):
        make_config("acorm", "3m", optimizer="rmsprop")
    with pytest.raises(ValueError, match="mixer='qmix'"):
        make_config("acorm", "3m", mixer="qmix")
    with pytest.raises(TypeError, match=r"unknown config field\(s\) \['clusters'\]"):
        make_config("acorm", "3m", clusters=4)
    with pytest.raises(ValueError, match="ACORMLearner needs the 'acorm' agent"):
        make_learner("acorm_learner", MultiAgentController(3, 9, 30), ACORMMixer(3, 48), make_config("acorm", "3m"))


def test_count_parameters_equals_the_modules():
    from course_lib.envs import BatchedSMAC
    from course_lib.params import count_parameters
    from course_lib.train import build_networks

    env = BatchedSMAC("3m", 1, device="cpu", seed=0)
    sizes = {"n_agents": env.n_agents, "n_actions": env.n_actions, "obs_dim": env.obs_dim, "state_dim": env.state_dim}
    mac, mixer = build_networks(make_config("acorm", "3m"), sizes)
    n_agent = sum(p.numel() for p in mac.parameters())
    n_mixer = sum(p.numel() for p in mixer.parameters())
    got = count_parameters("acorm", "3m")
    assert got == {"agent": n_agent, "mixer": n_mixer, "total": n_agent + n_mixer}
    ablation = count_parameters("acorm", "3m", use_attention=False)
    assert ablation["agent"] == n_agent and ablation["mixer"] < n_mixer


# ---------------------------------------------------------------------------------------------- learner
def _tiny_learner(**over):
    from course_lib.buffers.episode import EpisodeReplayBuffer
    from course_lib.envs import BatchedSMAC
    from course_lib.runners import EpisodeRunner
    from course_lib.train import build_networks

    torch.manual_seed(0)
    kw = dict(pretrain_ae_steps=2, pretrain_cl_steps=2, cl_interval=2, batch_size=4)
    kw.update(over)
    cfg = make_config("acorm", "3m", "fast", **kw)
    env = BatchedSMAC("3m", 4, device="cpu", seed=0, auto_reset=False)
    sizes = {"n_agents": env.n_agents, "n_actions": env.n_actions, "obs_dim": env.obs_dim, "state_dim": env.state_dim}
    mac, mixer = build_networks(cfg, sizes)
    learner = make_learner("acorm_learner", mac, mixer, cfg)
    buf = EpisodeReplayBuffer(16, env.episode_limit, env.n_agents, env.obs_dim, env.state_dim, env.n_actions, seed=1)
    EpisodeRunner(env, mac, buf, seed=2).collect(8, epsilon=1.0)
    return learner, buf


def test_learner_phases_optimisers_and_the_detached_key_encoder():
    learner, buf = _tiny_learner()
    assert isinstance(learner, ACORMLearner)
    batch = buf.sample(4)
    phases, outs = [], []
    key0 = copy.deepcopy(learner.key_encoder.state_dict())
    for _ in range(8):
        out = learner.train(batch, 8)
        phases.append(out["phase"])
        outs.append(out)
        assert all(isinstance(v, float) for v in out.values())
        assert all(p.grad is None for p in learner.key_encoder.parameters())  # never trained by a loss
    assert phases == [0, 0, 1, 1, 2, 2, 2, 2]
    assert not math.isnan(outs[0]["ae_loss"]) and math.isnan(outs[0]["td_loss"]) and math.isnan(outs[0]["cl_loss"])
    assert not math.isnan(outs[2]["cl_loss"]) and math.isnan(outs[2]["td_loss"])
    assert not math.isnan(outs[4]["td_loss"]) and math.isnan(outs[4]["cl_loss"]) and not math.isnan(outs[5]["cl_loss"])
    assert [s for s, _ in learner.cl_history] == [2, 3, 5, 7] and learner.last_cl_loss == learner.cl_history[-1][1]
    # the EMA moved the key encoder towards the role encoder
    k1 = learner.key_encoder.state_dict()
    assert any(not torch.equal(key0[n], k1[n]) for n in k1)
    # the contrastive optimiser holds exactly the role encoder and W
    cl_params = {id(p) for g in learner.cl_optimizer.param_groups for p in g["params"]}
    assert cl_params == {id(p) for p in learner.agent.role_encoder.parameters()} | {id(learner.W)}


def test_autoencoder_and_contrastive_losses_decrease_on_a_fixed_batch():
    learner, buf = _tiny_learner(role_tau=1e-6)  # keys (almost) frozen: the loss of the queries and W alone
    batch = buf.sample(4)
    ae = [learner.autoencoder_update(batch) for _ in range(30)]
    assert ae[-1] < 0.5 * ae[0]
    cl = [learner.contrastive_update(batch) for _ in range(20)]
    assert all(b <= a + 1e-6 for a, b in zip(cl, cl[1:])) and cl[-1] < cl[0], cl


def test_lr_decays_and_ablation_without_contrastive_loss():
    learner, buf = _tiny_learner(use_contrastive=False, lr_decay_every=2, lr_decay=0.5)
    batch = buf.sample(4)
    outs = [learner.train(batch, 8) for _ in range(6)]
    assert [o["phase"] for o in outs] == [0, 0, 2, 2, 2, 2]  # no contrastive pre-training
    assert all(math.isnan(o["cl_loss"]) for o in outs) and learner.cl_history == []
    assert outs[-1]["lr"] == pytest.approx(1e-3 * 0.25)
    assert learner.embed_optimizer.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.25)


def test_learner_state_is_weights_only_safe_and_restores_exactly():
    learner, buf = _tiny_learner()
    batch = buf.sample(4)
    for _ in range(5):
        learner.train(batch, 8)
    f = io.BytesIO()
    torch.save(learner.state_dict(), f)
    f.seek(0)
    sd = torch.load(f, weights_only=True)
    other, _ = _tiny_learner()
    other.load_state_dict(sd)
    torch.manual_seed(7)
    a = [learner.train(batch, 8) for _ in range(3)]
    torch.manual_seed(7)
    b = [other.train(batch, 8) for _ in range(3)]
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        for k in x:
            assert (math.isnan(x[k]) and math.isnan(y[k])) or x[k] == y[k], k
    assert torch.equal(learner.W, other.W)


# ------------------------------------------------------------------------------------------------- viz
def test_collect_episode_and_pictures():
    import matplotlib

    matplotlib.use("Agg")
    from course_lib.envs import BatchedSMAC
    from course_lib.train import build_networks
    from course_lib.viz.acorm import animate_clusters, collect_episode, plot_attention_heads, plot_tsne_roles

    torch.manual_seed(0)
    env = BatchedSMAC("3m", 1, device="cpu", seed=0)
    sizes = {"n_agents": env.n_agents, "n_actions": env.n_actions, "obs_dim": env.obs_dim, "state_dim": env.state_dim}
    mac, mixer = build_networks(make_config("acorm", "3m"), sizes)
    ep = collect_episode(mac, mixer, "3m", seed=3)
    T = ep["length"]
    assert T > 0 and len(ep["snapshots"]) == T + 1
    assert ep["embeddings"].shape == (T, 3, 128) and ep["roles"].shape == (T, 3, 64) and ep["clusters"].shape == (T, 3)
    assert ep["attention"].shape == (T, 4, 3, 3) and torch.allclose(ep["attention"].sum(-1), torch.ones(T, 4, 3))
    again = collect_episode(mac, mixer, "3m", seed=3)
    assert torch.equal(again["clusters"], ep["clusters"]) and again["return"] == ep["return"]
    fig, axes, coords = plot_tsne_roles(ep["embeddings"].reshape(-1, 128), ep["roles"].reshape(-1, 64),
                                        ep["clusters"].reshape(-1))
    assert coords["embeddings"].shape == (3 * T, 2) and len(axes) == 2
    fig2, axes2 = plot_attention_heads(ep["attention"], times=(0, 1, 10_000))
    assert len(axes2) == 3 and "episode ended" in axes2[2].get_title()
    assert axes2[0].images[0].get_array().shape == (4, 3)  # rows = heads, columns = agents
    html = animate_clusters(ep["snapshots"], ep["clusters"], max_frames=3)
    assert "data:image/gif;base64," in html.data and "https://" not in html.data  # offline player
    with pytest.raises(ValueError, match="needs an ACORM run or controller"):
        collect_episode(MultiAgentController(3, 9, 30), None, "3m")
    with pytest.raises(ValueError, match="same length"):
        plot_tsne_roles(torch.zeros(6, 4), torch.zeros(5, 4), torch.zeros(6))


# --------------------------------------------------------------------------------------------- training
TINY = dict(preset="fast", n_envs=4, batch_size=8, test_nepisodes=4, test_interval=600, checkpoint_interval=10**9,
            pretrain_ae_steps=3, pretrain_cl_steps=2, cl_interval=3, lr_decay_every=4)


def _params(run):
    L = run.learner
    sd = {f"mac.{k}": v for k, v in L.mac.state_dict().items()}
    sd.update({f"mixer.{k}": v for k, v in L.mixer.state_dict().items()})
    sd.update({f"key.{k}": v for k, v in L.key_encoder.state_dict().items()})
    sd.update({f"decoder.{k}": v for k, v in L.decoder.state_dict().items()})
    sd["W"] = L.W.detach()
    return sd


def test_train_acorm_runs_and_resume_is_bit_identical(tmp_path):
    from course_lib import train

    full = train("acorm", "3m", seed=3, t_max=2400, run_dir=tmp_path / "full", progress=False, **TINY)
    half = train("acorm", "3m", seed=3, t_max=1200, run_dir=tmp_path / "half", progress=False, **TINY)
    assert half.learner.rl_steps > 0 and half.learner.cl_updates > 2  # the cut falls inside the RL phase
    assert full.learner.rl_steps > half.learner.rl_steps + 4
    resumed = train("acorm", "3m", t_max=2400, run_dir=tmp_path / "half", resume=True, progress=False)
    assert resumed.final["env_steps"] == full.final["env_steps"]
    a, b = _params(full), _params(resumed)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), f"{k} differs after resume"
    assert resumed.learner.cl_history == full.learner.cl_history
    assert resumed.learner.optimizer.param_groups[0]["lr"] == full.learner.optimizer.param_groups[0]["lr"] < 1e-3
    h = _params(half)
    assert any(not torch.equal(h[k], a[k]) for k in a)
    assert list(full.curves["env_steps"]) == list(resumed.curves["env_steps"])


def test_td_gradient_reaches_the_roles_through_the_q_network_only():
    learner, buf = _tiny_learner(pretrain_ae_steps=0, pretrain_cl_steps=0)
    batch = buf.sample(4)
    out = learner.loss(batch)
    out["loss"].backward()
    role_grad = [p.grad for p in learner.agent.role_encoder.parameters()]
    assert all(g is not None and g.abs().sum() > 0 for g in role_grad)  # via the Q-network's input
    # the mixer alone (Q-values and states fixed) gives the roles no gradient
    learner.agent.zero_grad(set_to_none=True)
    q, h = learner.mac.unroll(batch.obs, batch.actions)
    learner._mix(learner.mixer, q.max(-1).values.detach(), batch.state, h).sum().backward()
    assert all(p.grad is None for p in learner.agent.role_encoder.parameters())
    learner.config.mixer_role_grad = True
    q, h = learner.mac.unroll(batch.obs, batch.actions)
    learner._mix(learner.mixer, q.max(-1).values.detach(), batch.state, h).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in learner.agent.role_encoder.parameters())


def test_ci_sized_acorm_run_on_3m_learns_and_its_contrastive_loss_decreases(tmp_path):
    """About a minute on one core. Fast preset; K = 2 because on 3m (N = 3) the published K = 3 puts every agent
    in its own cluster (no positive pair but the anchor itself); shorter pre-training and epsilon schedule."""
    from course_lib import evaluate, train
    from course_lib.envs import BatchedSMAC
    from course_lib.runners import EpisodeRunner

    env = BatchedSMAC("3m", 32, device="cpu", seed=11, auto_reset=False)
    random_policy = EpisodeRunner(env, MultiAgentController(env.n_agents, env.n_actions, env.obs_dim), None,
                                  seed=0).collect(64, epsilon=1.0)
    run = train("acorm", "3m", preset="fast", seed=1, t_max=16_000, run_dir=tmp_path / "r", progress=False,
                cluster_num=2, pretrain_ae_steps=10, pretrain_cl_steps=10, cl_interval=5, epsilon_anneal_time=10_000)
    L = run.learner
    assert L.rl_steps > 30 and L.cl_updates >= 16 and L.ae_steps == 10
    ae = [v for _, v in L.ae_history]
    assert ae[-1] < 0.7 * ae[0]
    # the contrastive loss decreases while it is the only objective (pre-training on fresh batches); in the RL
    # phase the TD loss moves the role encoder too and the loss can rise again (see the learner's docstring)
    cl_pre = [v for _, v in L.cl_history[:10]]
    assert np.mean(cl_pre[-3:]) < np.mean(cl_pre[:3]), cl_pre
    res = evaluate(run, n_episodes=64, seed=4242, device="cpu")
    assert random_policy.win_rate <= 0.1
    assert res["win_rate"] >= random_policy.win_rate + 0.3, (res, run.curves)
