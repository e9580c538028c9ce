"""Notebook 07 (ACORM): each exercise check accepts a right answer and rejects typical wrong ones with a hint;
the checks' references agree with hand computations and with the library."""
import math

import pytest
import torch
import torch.nn.functional as F

from course_lib.checks import ExerciseFailed, nb07


def _stub(*args, **kwargs):
    raise NotImplementedError("Exercise: stub")


# ---------------------------------------------------------------- 7.1 K-means step
def kmeans_step(x, centroids):
    K = centroids.shape[1]
    labels = torch.cdist(x, centroids).argmin(-1)
    onehot = F.one_hot(labels, K).float()  # [G, N, K]
    counts = onehot.sum(1)  # [G, K]
    sums = onehot.transpose(1, 2) @ x
    new = torch.where(counts[..., None] > 0, sums / counts.clamp(min=1)[..., None], centroids)
    return labels, new


def kmeans_step_l1(x, centroids):
    labels = torch.cdist(x, centroids, p=1).argmin(-1)
    oh = F.one_hot(labels, centroids.shape[1]).float()
    counts = oh.sum(1)[..., None]
    return labels, torch.where(counts > 0, (oh.transpose(1, 2) @ x) / counts.clamp(min=1), centroids)


def test_kmeans_step_accepts_the_answer(capsys):
    nb07.check_kmeans_step(kmeans_step)
    assert "✅ Exercise 7.1 passed" in capsys.readouterr().out


def test_reference_kmeans_step_by_hand():
    x = torch.tensor([[[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [11.0, 0.0]]])
    cent = torch.tensor([[[0.2, 0.0], [9.0, 0.0], [50.0, 50.0]]])
    labels, new = nb07.reference_kmeans_step(x, cent)
    assert labels.tolist() == [[0, 0, 1, 1]]
    assert torch.allclose(new, torch.tensor([[[0.5, 0.0], [10.5, 0.0], [50.0, 50.0]]]))  # empty cluster kept


def _nan_empty(x, c):
    labels, _ = kmeans_step(x, c)
    oh = F.one_hot(labels, c.shape[1]).float()
    return labels, (oh.transpose(1, 2) @ x) / oh.sum(1)[..., None]


@pytest.mark.parametrize("wrong, hint", [
    (lambda x, c: (torch.cdist(x, c).argmax(-1), c), "NEAREST"),
    (lambda x, c: kmeans_step_l1(x, c), "Euclidean"),
    (lambda x, c: (kmeans_step(x, c)[0], c), "MEAN"),
    (_nan_empty, "keep its old centroid"),
    (lambda x, c: (kmeans_step(x, c)[0].float(), kmeans_step(x, c)[1]), "integers"),
    (lambda x, c: kmeans_step(x, c)[0], "pair"),
    (_stub, "not implemented yet"),
])
def test_kmeans_step_rejects_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        nb07.check_kmeans_step(wrong)


def test_reference_kmeans_recovers_blobs_and_same_partition():
    g = torch.Generator().manual_seed(1)
    centres = torch.randn(20, 3, 4, generator=g) * 3
    who = torch.stack([torch.randperm(9, generator=g) % 3 for _ in range(20)])  # every blob in every group
    x = torch.gather(centres, 1, who[..., None].expand(20, 9, 4)) + 0.01 * torch.randn(20, 9, 4, generator=g)
    truth = who[:, :, None] == who[:, None, :]  # same blob
    labels = nb07.reference_kmeans(x, 3)
    assert torch.equal(labels[:, :, None] == labels[:, None, :], truth)
    perm = torch.tensor([2, 0, 1])
    assert bool(nb07.same_partition(labels, perm[labels]).all())
    other = labels.clone()
    other[:, 0] = (other[:, 0] + 1) % 3
    assert not bool(nb07.same_partition(labels, other).any())
    assert nb07.reference_kmeans(x[:, :2], 3).shape == (20, 2)  # k > N clamps


# ---------------------------------------------------------------- 7.2 contrastive loss
def contrastive(q, k, W, labels):
    s = q @ W @ k.transpose(1, 2)
    s = s - s.max(-1, keepdim=True).values
    pos = labels[:, :, None] == labels[:, None, :]
    return -(torch.logsumexp(s.masked_fill(~pos, -math.inf), -1) - torch.logsumexp(s, -1)).mean()


def test_contrastive_accepts_the_answer(capsys):
    nb07.check_contrastive_loss(contrastive)
    assert "✅ Exercise 7.2 passed" in capsys.readouterr().out


def test_reference_contrastive_hand_example():
    """2 clusters, 4 agents, W = I, one-hot queries and keys: scores are 0/1 and the loss has a closed form."""
    q = torch.eye(4)[None]
    k = torch.eye(4)[None]
    labels = torch.tensor([[0, 0, 1, 1]])
    # anchor i: s_ii = 1, others 0; positives: itself and its partner -> -log((e + 1) / (e + 3))
    want = -math.log((math.e + 1) / (math.e + 3))
    assert nb07.reference_contrastive_loss(q, k, torch.eye(4), labels).item() == pytest.approx(want, rel=1e-6)
    mask = torch.tensor([0.0])
    two = torch.cat([q, 5 * q]), torch.cat([k, k]), torch.cat([labels, labels])
    one_valid = nb07.reference_contrastive_loss(*two[:2], torch.eye(4), two[2], mask=torch.tensor([1.0, 0.0]))
    assert one_valid.item() == pytest.approx(want, rel=1e-6)
    assert mask.sum() == 0


def test_reference_contrastive_equals_the_library():
    contrastive_mod = pytest.importorskip("course_lib.learners.contrastive")
    g = torch.Generator().manual_seed(3)
    q, k = torch.randn(6, 5, 8, generator=g), torch.randn(6, 5, 8, generator=g)
    W, labels = torch.rand(8, 8, generator=g), torch.randint(0, 3, (6, 5), generator=g)
    mask = torch.tensor([1.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    for m in (None, mask):
        lib = contrastive_mod.contrastive_role_loss(q, k, W, labels, m)
        assert lib.item() == pytest.approx(nb07.reference_contrastive_loss(q, k, W, labels, m).item(), rel=1e-5)


def _no_max(q, k, W, labels):
    s = q @ W @ k.transpose(1, 2)
    pos = labels[:, :, None] == labels[:, None, :]
    return -torch.log((s.exp() * pos).sum(-1) / s.exp().sum(-1)).mean()


@pytest.mark.parametrize("wrong, hint", [
    (lambda q, k, W, l: contrastive(q, k, torch.eye(W.shape[0]), l), "bilinear"),
    (lambda q, k, W, l: contrastive(q, k, W, torch.arange(l.shape[1]).expand_as(l)), "ALL agents in the anchor"),
    (lambda q, k, W, l: contrastive(q, k, W, l) * l.numel(), "average over the anchors"),
    (lambda q, k, W, l: contrastive(q, k, W.T, l), "q on the left"),
    (_no_max, "subtract each row's maximum"),
    (lambda q, k, W, l: contrastive(q, k, W, l).reshape(1, 1).expand(2, 2), "one number"),
    (_stub, "not implemented yet"),
])
def test_contrastive_rejects_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        nb07.check_contrastive_loss(wrong)


# ---------------------------------------------------------------- 7.3 attention weights
def attention(tokens, roles, w_q, w_k, n_heads):
    B, N, _ = tokens.shape
    d = w_q.shape[1] // n_heads
    qh = (tokens @ w_q).view(B, N, n_heads, d).transpose(1, 2)
    kh = (roles @ w_k).view(B, N, n_heads, d).transpose(1, 2)
    return torch.softmax(qh @ kh.transpose(-1, -2) / math.sqrt(d), -1)


def test_attention_accepts_the_answer_and_equals_torch(capsys):
    nb07.check_attention_weights(attention)
    assert "✅ Exercise 7.3 passed" in capsys.readouterr().out
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(16, 4, bias=False, batch_first=True, kdim=6, vdim=6)
    tok, roles = torch.randn(2, 3, 16), torch.rand(2, 3, 6)
    _, w = mha(tok, roles, roles, need_weights=True, average_attn_weights=False)
    w_q = mha.q_proj_weight.T.detach()
    w_k = mha.k_proj_weight.T.detach()
    assert torch.allclose(nb07.reference_attention_weights(tok, roles, w_q, w_k, 4), w, atol=1e-5)


def _attention_logits(tokens, roles, w_q, w_k, n_heads):
    B, N, _ = tokens.shape
    d = w_q.shape[1] // n_heads
    qh = (tokens @ w_q).view(B, N, n_heads, d).transpose(1, 2)
    kh = (roles @ w_k).view(B, N, n_heads, d).transpose(1, 2)
    return qh @ kh.transpose(-1, -2), d


def _interleaved(tokens, roles, w_q, w_k, n_heads):
    B, N, _ = tokens.shape
    d = w_q.shape[1] // n_heads
    qh = (tokens @ w_q).view(B, N, d, n_heads).permute(0, 3, 1, 2)
    kh = (roles @ w_k).view(B, N, d, n_heads).permute(0, 3, 1, 2)
    return torch.softmax(qh @ kh.transpose(-1, -2) / math.sqrt(d), -1)


@pytest.mark.parametrize("wrong, hint", [
    (lambda t, r, wq, wk, h: torch.softmax(_attention_logits(t, r, wq, wk, h)[0], -1), "divide the scores by sqrt"),
    (lambda t, r, wq, wk, h: torch.softmax(_attention_logits(t, r, wq, wk, h)[0] / math.sqrt(wq.shape[1]), -1),
     "not of all heads"),
    (lambda t, r, wq, wk, h: torch.softmax(_attention_logits(t, r, wq, wk, h)[0]
                                           / math.sqrt(_attention_logits(t, r, wq, wk, h)[1]), -2), "last dimension"),
    (_interleaved, "contiguous columns"),
    (lambda t, r, wq, wk, h: attention(t, r, wq, wk, h)[:, 0], "shape"),
    (_stub, "not implemented yet"),
])
def test_attention_rejects_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        nb07.check_attention_weights(wrong)


# ---------------------------------------------------------------- 7.4 concept check
def test_concepts(capsys):
    right = {q: v[1] for q, v in nb07.CONCEPT_QUESTIONS.items()}
    nb07.check_concepts(lambda: right)
    assert "✅ Exercise 7.4 passed" in capsys.readouterr().out
    with pytest.raises(ExerciseFailed, match="1 answer"):
        nb07.check_concepts(lambda: {**right, "q3": "a"})
    assert "❌" in capsys.readouterr().out
    with pytest.raises(ExerciseFailed, match="2 answer"):
        nb07.check_concepts(lambda: {**right, "q1": None, "q2": "z"})
    out = capsys.readouterr().out
    assert "not answered" in out and "not an option" in out
    with pytest.raises(ExerciseFailed, match="not implemented yet"):
        nb07.check_concepts(_stub)


# ---------------------------------------------------------------- the shipped model of notebook 07
@pytest.mark.parametrize("name", ["acorm_2s3z_seed0.pt", "qmix_2s3z_seed0.pt"])
def test_shipped_assets_load_with_weights_only_and_rebuild(name):
    from pathlib import Path

    from course_lib.config import config_from_dict
    from course_lib.train import build_networks

    path = Path(__file__).resolve().parents[1] / "assets" / "acorm" / name
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    assert ckpt["alg"] == name.split("_")[0] and ckpt["map_name"] == "2s3z"
    cfg = config_from_dict(ckpt["config"])
    mac, mixer = build_networks(cfg, ckpt["sizes"], "cpu")
    mac.agent.load_state_dict(ckpt["agent"])  # strict: every tensor present, shapes right
    mixer.load_state_dict(ckpt["mixer"])
    assert 0.0 <= ckpt["final"]["win_rate"] <= 1.0 and ckpt["final"]["env_steps"] > 0
    if ckpt["alg"] == "acorm":
        steps = [s["env_steps"] for s in ckpt["snapshots"]]
        assert steps == sorted(steps) and steps[-1] == int(ckpt["final"]["env_steps"])
        for s in ckpt["snapshots"]:
            mac.agent.load_state_dict(s["agent"])
    assert (path.parent / "README.md").exists()
