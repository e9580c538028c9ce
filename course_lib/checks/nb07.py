"""Checks for notebook 07 (ACORM: contrastive role representations and attention-guided mixing).

Exercises:

- 7.1 one Lloyd iteration of K-means for many groups at once (:func:`check_kmeans_step`);
- 7.2 ACORM's contrastive (InfoNCE-style) role loss with the bilinear score (:func:`check_contrastive_loss`);
- 7.3 multi-head attention weights of role representations (:func:`check_attention_weights`);
- 7.4 a concept check with instant feedback per question (:func:`check_concepts`).

Every ``reference_*`` function is written independently of the library (plain loops where that is clearer),
so a test can compare it with ``course_lib``'s batched versions.
"""
from __future__ import annotations

import math
from typing import Dict, Optional, Tuple

import torch

from . import call_student, fail_unless, passed

__all__ = ["reference_kmeans_step", "reference_kmeans", "same_partition", "check_kmeans_step",
           "reference_contrastive_loss", "check_contrastive_loss", "reference_attention_weights",
           "check_attention_weights", "CONCEPT_QUESTIONS", "check_concepts"]


# ----------------------------------------------------------------------------------------------------
# 7.1 K-means, one Lloyd iteration for G groups at once
# ----------------------------------------------------------------------------------------------------
def reference_kmeans_step(x: torch.Tensor, centroids: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """One Lloyd iteration, group by group (a plain loop; the library version is batched).

    Args:
        x: ``[G, N, D]`` points (G independent groups of N points).
        centroids: ``[G, K, D]`` current centroids.
    Returns:
        ``(labels [G, N] long, new_centroids [G, K, D])``: each point goes to its nearest centroid (squared
        Euclidean distance, ties to the lowest index); each centroid moves to the mean of its points; a
        centroid with no point keeps its position.
    """
    G, N, _ = x.shape
    K = centroids.shape[1]
    labels = torch.zeros(G, N, dtype=torch.long)
    new = centroids.clone()
    for g in range(G):
        d2 = ((x[g][:, None, :] - centroids[g][None, :, :]) ** 2).sum(-1)  # [N, K]
        labels[g] = d2.argmin(-1)
        for c in range(K):
            members = labels[g] == c
            if members.any():
                new[g, c] = x[g][members].mean(0)
    return labels.to(x.device), new


def reference_kmeans(x: torch.Tensor, k: int, n_iter: int = 10) -> torch.Tensor:
    """Plain K-means for ``x [G, N, D]`` with farthest-point initialisation -> labels ``[G, N]``.

    Initialisation (deterministic): the first centroid is point 0 of the group; each next one is the point
    farthest (squared distance) from the centroids chosen so far. ``k > N`` is clamped to ``N``. Then
    ``n_iter`` Lloyd iterations (:func:`reference_kmeans_step`)."""
    G, N, D = x.shape
    k = min(int(k), N)
    cent = torch.zeros(G, k, D, dtype=x.dtype, device=x.device)
    for g in range(G):
        chosen = [0]
        d2 = ((x[g] - x[g, 0]) ** 2).sum(-1)
        for _ in range(1, k):
            nxt = int(d2.argmax())
            chosen.append(nxt)
            d2 = torch.minimum(d2, ((x[g] - x[g, nxt]) ** 2).sum(-1))
        cent[g] = x[g, chosen]
    labels = None
    for _ in range(n_iter):
        labels, cent = reference_kmeans_step(x, cent)
    return labels


def same_partition(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """For labels ``a, b: [G, N]``, True per group where both split the N points the same way (the cluster
    numbers themselves may differ: equality up to a permutation of the labels) -> ``[G]`` bool."""
    same_a = a[:, :, None] == a[:, None, :]  # [G, N, N]: are i and j together under a?
    same_b = b[:, :, None] == b[:, None, :]
    return (same_a == same_b).all(-1).all(-1)


def _blobs(g: torch.Generator, G: int, N: int, D: int, K: int, spread: float = 0.05):
    centres = torch.randn(G, K, D, generator=g) * 3
    who = torch.randint(0, K, (G, N), generator=g)
    x = torch.gather(centres, 1, who[..., None].expand(G, N, D)) + spread * torch.randn(G, N, D, generator=g)
    return x


def check_kmeans_step(fn) -> None:
    """Exercise 7.1: ``fn(x [G, N, D], centroids [G, K, D]) -> (labels [G, N], new_centroids [G, K, D])``."""
    g = torch.Generator().manual_seed(0)
    for G, N, D, K in [(4, 6, 2, 3), (16, 10, 8, 3), (3, 5, 4, 2), (2, 3, 5, 3)]:
        x = _blobs(g, G, N, D, K, spread=0.6)
        cent = x[:, torch.randperm(N, generator=g)[:K]].clone() + 0.1 * torch.randn(G, K, D, generator=g)
        if (G, N) == (3, 5):  # an empty cluster: centroid 1 of group 0 is far away from every point
            cent[0, 1] = 100.0
        if (G, N) == (2, 3):  # point 0 is nearer to centroid 0 in L2 (8 < 9) but to centroid 1 in L1 (3 < 4)
            x[0, :, :2] = torch.tensor([[0.0, 0.0], [2.0, 2.5], [3.0, -0.5]])
            x[0, :, 2:] = 0.0
            cent[0] = 0.0
            cent[0, 0, :2], cent[0, 1, :2] = torch.tensor([2.0, 2.0]), torch.tensor([3.0, 0.0])
        out = call_student(fn, "7.1", x.clone(), cent.clone())
        fail_unless(isinstance(out, (tuple, list)) and len(out) == 2, "7.1",
                    "return a pair (labels, new_centroids)")
        labels, new = out
        fail_unless(isinstance(labels, torch.Tensor) and isinstance(new, torch.Tensor), "7.1",
                    "both labels and new_centroids should be torch tensors")
        fail_unless(tuple(labels.shape) == (G, N), "7.1",
                    f"labels should have shape [G, N] = {(G, N)} (one cluster number per point), got "
                    f"{tuple(labels.shape)}")
        fail_unless(tuple(new.shape) == (G, K, D), "7.1",
                    f"new_centroids should have shape [G, K, D] = {(G, K, D)}, got {tuple(new.shape)}")
        fail_unless(not labels.is_floating_point(), "7.1",
                    "labels are cluster numbers: integers (argmin gives a long tensor)")
        want_l, want_c = reference_kmeans_step(x, cent)
        if not torch.equal(labels.long(), want_l):
            far = ((x[:, :, None] - cent[:, None]) ** 2).sum(-1).argmax(-1)
            l1 = (x[:, :, None] - cent[:, None]).abs().sum(-1).argmin(-1)
            if torch.equal(labels.long(), far):
                hint = "each point goes to its NEAREST centroid (argmin of the distance, not argmax)"
            elif torch.equal(labels.long(), l1) and not torch.equal(l1, want_l):
                hint = "use the (squared) Euclidean distance, sum over D of (x - c)^2, not the absolute difference"
            else:
                hint = ("distances d[g, n, k] = ((x[g, n] - c[g, k]) ** 2).sum(): broadcast x[:, :, None, :] "
                        "against centroids[:, None, :, :] and take argmin over k")
            fail_unless(False, "7.1", f"wrong assignments for G={G}, N={N}, K={K}: {hint}.")
        if not torch.allclose(new, want_c, atol=1e-5):
            empty = ~torch.nn.functional.one_hot(want_l, K).bool().any(1)  # [G, K]
            bad = ~torch.isclose(new, want_c, atol=1e-5).all(-1)  # [G, K]
            if bool(empty.any()) and bool((bad & empty).any()) and not bool((bad & ~empty).any()):
                hint = ("a cluster that received no point must keep its old centroid (a mean over zero points "
                        "is 0/0 = nan, or 0 if you clamp the count)")
            else:
                hint = ("each new centroid is the MEAN of the points assigned to it: sum the points per cluster "
                        "(one_hot(labels, K) as weights) and divide by the number of points")
            fail_unless(False, "7.1", f"wrong new centroids for G={G}, N={N}, K={K}: {hint}.")
    passed("7.1", "assignment to the nearest centroid, then each centroid to the mean of its points")


# ----------------------------------------------------------------------------------------------------
# 7.2 the contrastive role loss
# ----------------------------------------------------------------------------------------------------
def reference_contrastive_loss(q: torch.Tensor, k: torch.Tensor, W: torch.Tensor, labels: torch.Tensor,
                               mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """ACORM's contrastive loss, anchor by anchor (plain loops).

    Args:
        q: ``[G, N, D]`` queries (role encoder), ``k: [G, N, D]`` keys (momentum encoder), ``W: [D, D]``.
        labels: ``[G, N]`` cluster of each agent in its group. ``mask``: ``[G]`` (1 = valid group) or None.
    Returns:
        the mean over valid anchors i of ``-log( sum_{j in cluster(i)} exp(s_ij) / sum_j exp(s_ij) )`` with
        ``s_ij = q_i^T W k_j`` (j = i included among the positives).
    """
    G, N, _ = q.shape
    total, count = q.new_zeros(()), 0
    for g in range(G):
        if mask is not None and float(mask[g]) == 0:
            continue
        s = q[g] @ W @ k[g].T  # [N, N]
        for i in range(N):
            row = s[i] - s[i].max()  # stability; log(a / b) computed as logsumexp(pos) - logsumexp(all)
            pos = labels[g] == labels[g, i]
            total = total - (torch.logsumexp(row[pos], 0) - torch.logsumexp(row, 0))
            count += 1
    return total / max(count, 1)


def check_contrastive_loss(fn) -> None:
    """Exercise 7.2: ``fn(q [G, N, D], k [G, N, D], W [D, D], labels [G, N]) -> scalar loss``."""
    g = torch.Generator().manual_seed(0)
    # the last case has scores around 150 (exp overflows in float32 unless the row max is subtracted)
    cases = [(3, 4, 5, 0.0), (8, 6, 16, 0.0), (2, 5, 8, 0.0), (4, 5, 6, 3.0)]
    for G, N, D, offset in cases:
        q = torch.randn(G, N, D, generator=g) * (0.3 if offset else 1.0) + offset
        k = torch.randn(G, N, D, generator=g) * (0.3 if offset else 1.0) + offset
        W = torch.rand(D, D, generator=g)
        labels = torch.randint(0, 3, (G, N), generator=g)
        labels[0] = torch.arange(N) % 2  # two clusters in the first group
        got = call_student(fn, "7.2", q.clone(), k.clone(), W.clone(), labels.clone())
        fail_unless(isinstance(got, torch.Tensor), "7.2", f"return a torch.Tensor, got {type(got).__name__}")
        fail_unless(got.numel() == 1, "7.2",
                    f"return one number (the mean over all anchors), got shape {tuple(got.shape)}")
        want = reference_contrastive_loss(q, k, W, labels)
        if not bool(torch.isfinite(got).all()):
            fail_unless(False, "7.2", "the loss is inf/nan on large scores: subtract each row's maximum score "
                                      "before exp (it cancels between numerator and denominator)")
        if torch.allclose(got.reshape(()), want, atol=1e-4, rtol=1e-4):
            continue
        s = torch.einsum("gid,de,gje->gij", q, W, k)
        s = s - s.max(-1, keepdim=True).values
        same = labels[:, :, None] == labels[:, None, :]
        eye = torch.eye(N, dtype=torch.bool)
        log_den = torch.logsumexp(s, -1)

        def from_pos(pos, den=log_den):
            return -(torch.logsumexp(s.masked_fill(~pos, -float("inf")), -1) - den)

        cand = {
            "no_self": from_pos(same & ~eye).masked_fill(~(same & ~eye).any(-1), 0).mean(),
            "only_self": from_pos(eye.expand(G, N, N)).mean(),
            "sum": from_pos(same).sum(),
            "supcon": (-((s - log_den[..., None]) * same).sum(-1) / same.sum(-1)).mean(),
            "no_W": reference_contrastive_loss(q, k, torch.eye(D), labels),
            "transposed": reference_contrastive_loss(q, k, W.T, labels),
            "cols": reference_contrastive_loss(k, q, W.T, labels),
        }
        hints = {
            "no_self": "the anchor itself counts among its positives (j = i included)",
            "only_self": "the positives are ALL agents in the anchor's cluster (labels[j] == labels[i]), "
                         "not only the anchor itself",
            "sum": "average over the anchors (G * N of them), do not sum",
            "supcon": "take the log of the SUM of the positives' probabilities, not the average of their logs",
            "no_W": "the score is bilinear: s_ij = q_i^T W k_j (include W)",
            "transposed": "s_ij = q_i^T W k_j: q on the left of W, k on the right (q @ W @ k^T)",
            "cols": "normalise each ANCHOR's row of scores (softmax over the keys j), with q_i as the anchor",
        }
        hint = next((hints[n] for n, c in cand.items() if torch.allclose(got.reshape(()), c, atol=1e-4, rtol=1e-4)),
                    "s = q @ W @ k^T per group ([G, N, N]); per anchor i, -log(sum of exp(s_ij) over j in i's "
                    "cluster / sum over all j); mean over all anchors")
        fail_unless(False, "7.2", f"wrong loss for G={G}, N={N}, D={D} (got {got.item():.5f}, "
                                  f"expected {want.item():.5f}): {hint}.")
    passed("7.2", "agents of the same cluster are pulled together, the other clusters pushed away")


# ----------------------------------------------------------------------------------------------------
# 7.3 multi-head attention weights over the role representations
# ----------------------------------------------------------------------------------------------------
def reference_attention_weights(tokens: torch.Tensor, roles: torch.Tensor, w_q: torch.Tensor, w_k: torch.Tensor,
                                n_heads: int) -> torch.Tensor:
    """Scaled dot-product attention weights, head by head.

    Args:
        tokens: ``[B, N, E]`` query tokens (one per agent, from the state). ``roles: [B, N, R]``.
        w_q: ``[E, H*d]``, ``w_k: [R, H*d]`` projections without bias; head h uses columns
            ``h*d:(h+1)*d``.
    Returns:
        ``[B, H, N, N]``: entry ``[b, h, i, j]`` = softmax over j of ``(q^h_i . k^h_j) / sqrt(d)``.
    """
    B, N, _ = tokens.shape
    d = w_q.shape[1] // n_heads
    out = torch.zeros(B, n_heads, N, N, dtype=tokens.dtype)
    for h in range(n_heads):
        qh = tokens @ w_q[:, h * d:(h + 1) * d]  # [B, N, d]
        kh = roles @ w_k[:, h * d:(h + 1) * d]
        out[:, h] = torch.softmax(qh @ kh.transpose(1, 2) / math.sqrt(d), dim=-1)
    return out


def check_attention_weights(fn) -> None:
    """Exercise 7.3: ``fn(tokens [B, N, E], roles [B, N, R], w_q [E, H*d], w_k [R, H*d], n_heads) -> [B, H, N, N]``."""
    g = torch.Generator().manual_seed(0)
    for B, N, E, R, H, d in [(2, 3, 8, 6, 1, 4), (4, 5, 16, 8, 4, 8), (3, 10, 12, 12, 2, 6)]:
        tokens, roles = torch.randn(B, N, E, generator=g), torch.rand(B, N, R, generator=g)
        w_q, w_k = torch.randn(E, H * d, generator=g), torch.randn(R, H * d, generator=g)
        got = call_student(fn, "7.3", tokens.clone(), roles.clone(), w_q.clone(), w_k.clone(), H)
        fail_unless(isinstance(got, torch.Tensor), "7.3", f"return a torch.Tensor, got {type(got).__name__}")
        fail_unless(tuple(got.shape) == (B, H, N, N), "7.3",
                    f"the weights should have shape [B, heads, N, N] = {(B, H, N, N)}, got {tuple(got.shape)}")
        want = reference_attention_weights(tokens, roles, w_q, w_k, H)
        if torch.allclose(got, want, atol=1e-5):
            continue
        qh = (tokens @ w_q).view(B, N, H, d).transpose(1, 2)  # [B, H, N, d]
        kh = (roles @ w_k).view(B, N, H, d).transpose(1, 2)
        logits = qh @ kh.transpose(-1, -2)
        cand = {
            "no_scale": torch.softmax(logits, -1),
            "full_scale": torch.softmax(logits / math.sqrt(H * d), -1),
            "wrong_dim": torch.softmax(logits / math.sqrt(d), -2),
            "interleaved": torch.softmax((tokens @ w_q).view(B, N, d, H).permute(0, 3, 1, 2)
                                         @ (roles @ w_k).view(B, N, d, H).permute(0, 3, 2, 1) / math.sqrt(d), -1),
        }
        hints = {
            "no_scale": "divide the scores by sqrt(d), d = the width of ONE head",
            "full_scale": "scale by sqrt(d) with d the width of one head (H*d / n_heads), not of all heads",
            "wrong_dim": "the softmax runs over the keys j (the last dimension): each query's weights sum to 1",
            "interleaved": "head h uses the contiguous columns h*d:(h+1)*d: view the projection as [B, N, H, d]",
        }
        hint = next((hints[n] for n, c in cand.items() if torch.allclose(got, c, atol=1e-5)),
                    "per head: q = tokens @ w_q[:, h*d:(h+1)*d], k = roles @ w_k[:, h*d:(h+1)*d], "
                    "softmax_j(q_i . k_j / sqrt(d))")
        fail_unless(False, "7.3", f"wrong weights for B={B}, N={N}, heads={H}: {hint}.")
    passed("7.3", "every row is a probability distribution over the agents' roles")


# ----------------------------------------------------------------------------------------------------
# 7.4 concept check
# ----------------------------------------------------------------------------------------------------
#: question -> (options, right answer, why)
CONCEPT_QUESTIONS: Dict[str, Tuple[Dict[str, str], str, str]] = {
    "q1": ({"a": "they have different network weights",
            "b": "their inputs differ (observation, previous action, agent id)",
            "c": "epsilon-greedy exploration makes them differ"},
           "b", "one network is shared, so any difference in behaviour must come from the inputs; when the "
                "inputs look alike the agents behave alike: homogenisation"),
    "q2": ({"a": "only the anchor itself",
            "b": "every agent in the anchor's K-means cluster (the anchor included), same time step",
            "c": "every agent of the same unit type",
            "d": "the same agent at the next time step"},
           "b", "the clusters of agent embeddings define who should share a role; unit types are never given"),
    "q3": ({"a": "it has fewer parameters",
            "b": "its keys change slowly, so the targets of the contrast stay consistent from step to step",
            "c": "it keeps Q_tot monotonic"},
           "b", "as in MoCo: an exponential moving average of the role encoder gives stable keys; no gradient "
                "flows into them (they are detached)"),
    "q4": ({"a": "yes: the attention only changes what the hypernetworks see; the mixing weights are still |.|",
            "b": "no: attention weights can be negative",
            "c": "no: the roles enter the mixing layer directly"},
           "a", "the role attention output joins the state as the hypernetworks' input; |W1|, |W2| and ELU keep "
                "dQ_tot/dQ_i >= 0"),
    "q5": ({"a": "three clusters of one agent each: the positives of an anchor are only itself",
            "b": "one cluster with all three marines",
            "c": "K-means fails when K equals N"},
           "a", "with K = N = 3 every agent is its own cluster, and the loss becomes instance discrimination; "
                "roles are more interesting with more agents than clusters (MMM, 2s3z, 5m_vs_6m...)"),
}


def check_concepts(fn) -> None:
    """Exercise 7.4: ``fn() -> {"q1": "b", ...}``; prints feedback per question, fails until all are right."""
    answers = call_student(fn, "7.4")
    fail_unless(isinstance(answers, dict), "7.4", f"return a dict like {{'q1': 'a', ...}}, got {type(answers).__name__}")
    wrong = []
    for q, (options, right, why) in CONCEPT_QUESTIONS.items():
        given = answers.get(q)
        given = given.strip().lower() if isinstance(given, str) else given
        if given is None:
            print(f"{q}: not answered yet")
            wrong.append(q)
        elif given not in options:
            print(f"{q}: {given!r} is not an option (choose one of {', '.join(sorted(options))})")
            wrong.append(q)
        elif given == right:
            print(f"{q}: ✅ {options[right]}. Why: {why}.")
        else:
            print(f"{q}: ❌ not {given!r} ({options[given]}). Think again.")
            wrong.append(q)
    fail_unless(not wrong, "7.4", f"{len(wrong)} answer(s) to revisit: {', '.join(wrong)}")
    passed("7.4", f"all {len(CONCEPT_QUESTIONS)} answers right")
