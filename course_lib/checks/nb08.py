"""Checks for notebook 08 (MIXRTs: recurrent soft decision trees and the mixing tree).

Conventions shared with ``course_lib.agents.soft_tree``: an inner node's probability ``p = sigmoid(logit)``
is the probability of going LEFT; the nodes of depth level ``k`` are numbered ``0 .. 2^k - 1`` from left to
right, node ``j``'s children are ``2j`` (left) and ``2j + 1`` (right) on level ``k + 1``; leaves likewise.

Also a small concept check (:func:`concept_check`, :func:`answer`) with instant feedback.
"""
from __future__ import annotations

from typing import Dict, List, Sequence

import torch

from . import call_student, fail_unless, passed


# ----------------------------------------------------------------------------------------------------
# 8.1 a one-node soft tree
# ----------------------------------------------------------------------------------------------------
def reference_soft_node(x, w, b, leaf_left, leaf_right):
    """``p = sigmoid(x @ w + b)`` (go left), output ``p * leaf_left + (1 - p) * leaf_right``.

    Shapes: ``x [B, D]``, ``w [D]``, ``b`` a float, leaves floats -> ``[B]``.
    """
    p = torch.sigmoid(x @ w + b)
    return p * leaf_left + (1 - p) * leaf_right


def check_soft_node(fn) -> None:
    """Exercise 8.1: ``fn(x [B, D], w [D], b, leaf_left, leaf_right) -> [B]``."""
    g = torch.Generator().manual_seed(0)
    for B, D in [(7, 2), (16, 5), (1, 3)]:
        x, w = torch.randn(B, D, generator=g) * 2, torch.randn(D, generator=g)
        b, leaf_l, leaf_r = float(torch.randn(1, generator=g)), 3.0, -1.5
        got = call_student(fn, "8.1", x.clone(), w.clone(), b, leaf_l, leaf_r)
        fail_unless(isinstance(got, torch.Tensor), "8.1", f"return a torch.Tensor, got {type(got).__name__}")
        fail_unless(tuple(got.shape) == (B,), "8.1",
                    f"return one output per input row: shape [B] = {(B,)}, got {tuple(got.shape)}")
        want = reference_soft_node(x, w, b, leaf_l, leaf_r)
        if torch.allclose(got, want, atol=1e-5):
            continue
        logit = x @ w + b
        p = torch.sigmoid(logit)
        cand = {
            "swapped": ("p = sigmoid(logit) is the probability of going LEFT: weight leaf_left by p and "
                        "leaf_right by 1 - p", (1 - p) * leaf_l + p * leaf_r),
            "hard": ("that is a hard (0/1) decision; a soft tree mixes both leaves with the probability "
                     "p = sigmoid(x @ w + b)", torch.where(logit > 0, leaf_l, leaf_r)),
            "no_sigmoid": ("squash the logit into a probability with torch.sigmoid first",
                           logit * leaf_l + (1 - logit) * leaf_r),
            "no_bias": ("add the node's bias b to x @ w before the sigmoid",
                        torch.sigmoid(x @ w) * leaf_l + (1 - torch.sigmoid(x @ w)) * leaf_r),
        }
        hint = next((h for h, c in cand.values() if tuple(c.shape) == tuple(got.shape)
                     and torch.allclose(got.float(), c.float(), atol=1e-5)),
                    "p = sigmoid(x @ w + b); output = p * leaf_left + (1 - p) * leaf_right")
        fail_unless(False, "8.1", f"wrong output for B={B}, D={D}: {hint}.")
    passed("8.1", "a depth-1 soft tree is a sigmoid-weighted average of its two leaves")


# ----------------------------------------------------------------------------------------------------
# 8.2 leaf path probabilities
# ----------------------------------------------------------------------------------------------------
def reference_path_probabilities(node_probs: Sequence[torch.Tensor]) -> torch.Tensor:
    """Probability of reaching each leaf: the product of the decisions along its path.

    ``node_probs[k]``: ``[..., 2^k]`` probabilities of going left at the nodes of level k. Returns
    ``[..., 2^d]``. Written node by node (a loop over leaves and levels), independently of the library.
    """
    d = len(node_probs)
    lead = node_probs[0].shape[:-1]
    out = torch.ones(*lead, 2 ** d, dtype=node_probs[0].dtype)
    for leaf in range(2 ** d):
        node = 0
        for k in range(d):
            go_right = (leaf >> (d - 1 - k)) & 1  # the k-th bit from the top: 0 = left, 1 = right
            p = node_probs[k][..., node]
            out[..., leaf] = out[..., leaf] * (1 - p if go_right else p)
            node = 2 * node + go_right
    return out


def _probs(g, lead, d):
    return [torch.rand(*lead, 2 ** k, generator=g) for k in range(d)]


def check_path_probabilities(fn) -> None:
    """Exercise 8.2: ``fn(node_probs: list of d tensors [..., 2^k]) -> [..., 2^d]``."""
    g = torch.Generator().manual_seed(0)
    for lead, d in [((5,), 1), ((5,), 2), ((3, 4), 3), ((2,), 4)]:
        probs = _probs(g, lead, d)
        got = call_student(fn, "8.2", [p.clone() for p in probs])
        fail_unless(isinstance(got, torch.Tensor), "8.2", f"return a torch.Tensor, got {type(got).__name__}")
        want_shape = (*lead, 2 ** d)
        fail_unless(tuple(got.shape) == want_shape, "8.2",
                    f"a depth-{d} tree has 2^{d} = {2 ** d} leaves: expected shape {want_shape}, "
                    f"got {tuple(got.shape)}")
        want = reference_path_probabilities(probs)
        if torch.allclose(got, want, atol=1e-5):
            continue
        if torch.allclose(got, reference_path_probabilities([1 - p for p in probs]), atol=1e-5):
            hint = "p is the probability of going LEFT: the left child gets P * p, the right child P * (1 - p)"
        elif torch.allclose(got.sum(-1), torch.ones(lead), atol=1e-4) and torch.allclose(
                got.sort(-1).values, want.sort(-1).values, atol=1e-5):
            hint = ("the right probabilities in the wrong order: node j's children are 2j (left, probability "
                    "p) and 2j + 1 (right, 1 - p); interleave them, e.g. torch.stack([P * p, P * (1 - p)], -1)"
                    ".flatten(-2)")
        elif not torch.allclose(got.sum(-1), torch.ones(lead), atol=1e-4):
            hint = ("the leaf probabilities of one tree must sum to 1; start from P = 1 at the root and, level "
                    "by level, split every node's P into P * p (left) and P * (1 - p) (right)")
        else:
            hint = "multiply the decisions along each path: P(leaf) = prod_k (p or 1 - p at the level-k node)"
        fail_unless(False, "8.2", f"wrong path probabilities at depth {d}: {hint}.")
    passed("8.2", "one loop over the depth, tensor operations for all the nodes of a level")


# ----------------------------------------------------------------------------------------------------
# 8.3 feature importance of a recurrent tree cell
# ----------------------------------------------------------------------------------------------------
def reference_feature_importance(node_probs: Sequence[torch.Tensor], weights: Sequence[torch.Tensor]):
    """``I = sum over inner nodes j of P(reach j) * w_x^j``.

    Args:
        node_probs: ``node_probs[k]``: ``[H, 2^k]`` probabilities of going left at level k of each of the H
            trees (for one input ``x`` and hidden state ``h``).
        weights: ``weights[k]``: ``[H, 2^k, x_dim]`` each level-k node's weight row over the input features.
    Returns:
        ``[x_dim]``. The root is reached with probability 1; a level-k node with the product of the decisions
        above it (the path probabilities of the depth-k tree made of the first k levels).
    """
    x_dim = weights[0].shape[-1]
    total = torch.zeros(x_dim, dtype=weights[0].dtype)
    for k in range(len(node_probs)):
        reach = (torch.ones(node_probs[0].shape[:-1] + (1,), dtype=node_probs[0].dtype) if k == 0
                 else reference_path_probabilities(node_probs[:k]))  # [H, 2^k]
        total = total + (reach.unsqueeze(-1) * weights[k]).sum(dim=(0, 1))
    return total


def _importance_case(g, H, d, x_dim):
    probs = [torch.rand(H, 2 ** k, generator=g) for k in range(d)]
    weights = [torch.randn(H, 2 ** k, x_dim, generator=g) for k in range(d)]
    return probs, weights


def check_feature_importance(fn) -> None:
    """Exercise 8.3: ``fn(node_probs: list of [H, 2^k], weights: list of [H, 2^k, x_dim]) -> [x_dim]``."""
    g = torch.Generator().manual_seed(0)
    for H, d, x_dim in [(1, 1, 3), (2, 2, 4), (4, 3, 6)]:
        probs, weights = _importance_case(g, H, d, x_dim)
        got = call_student(fn, "8.3", [p.clone() for p in probs], [w.clone() for w in weights])
        fail_unless(isinstance(got, torch.Tensor), "8.3", f"return a torch.Tensor, got {type(got).__name__}")
        fail_unless(tuple(got.shape) == (x_dim,), "8.3",
                    f"one importance per input feature: expected shape ({x_dim},), got {tuple(got.shape)}")
        want = reference_feature_importance(probs, weights)
        if torch.allclose(got, want, atol=1e-4):
            continue
        wrong_node_prob = sum((p.unsqueeze(-1) * w).sum((0, 1)) for p, w in zip(probs, weights))
        only_root = weights[0].sum((0, 1))
        all_weights = sum(w.sum((0, 1)) for w in weights)
        if torch.allclose(got, wrong_node_prob, atol=1e-4):
            hint = ("weight each node by the probability of REACHING it (the product of the decisions on the "
                    "path from the root), not by its own probability of going left")
        elif torch.allclose(got, all_weights, atol=1e-4):
            hint = "weight each node's row by its reach probability P(reach j) before summing"
        elif d > 1 and torch.allclose(got, only_root, atol=1e-4):
            hint = "sum over the inner nodes of EVERY level, not only the roots"
        elif torch.allclose(got, want - only_root, atol=1e-4):
            hint = "include the roots (level 0): every tree's root is reached with probability 1"
        else:
            hint = ("for level k, reach = 1 for k = 0, else the path probabilities of node_probs[:k] "
                    "([H, 2^k]); I = sum over k of (reach[..., None] * weights[k]).sum over trees and nodes")
        fail_unless(False, "8.3", f"wrong importance for H={H}, depth={d}: {hint}.")
    passed("8.3", "I(x) = sum_j P(reach j | x, h) w_x^j over every inner node of every tree")


# ----------------------------------------------------------------------------------------------------
# concept check
# ----------------------------------------------------------------------------------------------------
QUESTIONS: List[Dict] = [
    {
        "question": "A soft decision tree of depth 3 has how many inner nodes and how many leaves?",
        "choices": ["3 inner nodes, 3 leaves", "7 inner nodes, 8 leaves", "8 inner nodes, 16 leaves",
                    "6 inner nodes, 7 leaves"],
        "correct": 1,
        "why": "levels 0, 1, 2 hold 1 + 2 + 4 = 2^3 - 1 = 7 inner nodes; every path of 3 decisions ends in "
               "one of 2^3 = 8 leaves.",
    },
    {
        "question": "In a MIXRTs agent, what plays the role of the GRU's hidden state?",
        "choices": ["a GRU inside every tree", "the outputs of the H trees (one scalar per tree), fed back "
                    "into every inner node's decision at the next step", "the leaf probabilities of the "
                    "previous step", "nothing: the agent is not recurrent"],
        "correct": 1,
        "why": "h_t[j] = sum over leaves of P_j(leaf | o_t, h_{t-1}) * leaf[j]; every inner node's logit is "
               "Linear(o_t) + Linear(h_{t-1}). There is no GRU anywhere.",
    },
    {
        "question": "Is MIXRTs' Q_tot = sum_i W_i Q_i monotonic in every Q_i, like QMIX's?",
        "choices": ["yes, because W_i >= 0", "yes, because the weights sum to one",
                    "not in general: W_i depends on the Q-values themselves, so raising Q_i can shift "
                    "weight onto a worse agent", "no, the weights can be negative"],
        "correct": 2,
        "why": "dQ_tot/dQ_i = W_i + sum_k Q_k dW_k/dQ_i; the second term can be negative. W_i >= 0 alone "
               "gives monotonicity only when W does not depend on Q (as in QMIX, whose weights are "
               "functions of the state alone).",
    },
    {
        "question": "The feature importance I(o_t) = sum_j P(reach j | o_t, h_{t-1}) w_o^j of one agent depends on",
        "choices": ["the trained weights only: it is the same at every step",
                    "the trained weights and, through the reach probabilities, the current observation and "
                    "the agent's memory h_{t-1}: it changes along an episode",
                    "the other agents' observations", "the mixing weights W_i"],
        "correct": 1,
        "why": "the weight rows w_o^j are fixed after training, but which nodes are reached (and with what "
               "probability) depends on o_t and h_{t-1}; that is what makes the importance curves move.",
    },
]


def answer(question: int, choice: int) -> bool:
    """Instant feedback for one concept-check question (numbered from 1; choices from 0). Returns correctness."""
    if not isinstance(question, int) or not 1 <= question <= len(QUESTIONS):
        raise ValueError(f"question must be an int from 1 to {len(QUESTIONS)}, got {question!r}")
    q = QUESTIONS[question - 1]
    if not isinstance(choice, int) or not 0 <= choice < len(q["choices"]):
        raise ValueError(f"choice must be an int from 0 to {len(q['choices']) - 1} for question {question}, "
                         f"got {choice!r}")
    ok = choice == q["correct"]
    print(("✅ right: " if ok else "❌ not quite: ") + q["why"])
    return ok


def concept_check(widgets: bool = True):
    """Show the concept check. With ipywidgets (and ``widgets=True``): one set of radio buttons per
    question, and the feedback appears as soon as a choice is made. Otherwise (or for a text version)
    it prints the questions; answer with ``answer(question, choice)``."""
    if widgets:
        try:
            import ipywidgets as W
        except ImportError:  # pragma: no cover - ipywidgets is in requirements.txt
            widgets = False
    if not widgets:
        for n, q in enumerate(QUESTIONS, 1):
            print(f"{n}. {q['question']}")
            for c, text in enumerate(q["choices"]):
                print(f"   {c}) {text}")
        print("Answer with nb08.answer(question, choice), e.g. nb08.answer(1, 0).")
        return None
    boxes = []
    for n, q in enumerate(QUESTIONS, 1):
        radio = W.RadioButtons(options=[(t, c) for c, t in enumerate(q["choices"])], value=None,
                               layout=W.Layout(width="max-content"))
        feedback = W.HTML("")

        def on_change(change, q=q, feedback=feedback):
            if change["new"] is None:
                return
            ok = change["new"] == q["correct"]
            feedback.value = (("<b>✅ right.</b> " if ok else "<b>❌ not quite.</b> ") + q["why"])

        radio.observe(on_change, names="value")
        boxes.append(W.VBox([W.HTML(f"<b>{n}. {q['question']}</b>"), radio, feedback]))
    return W.VBox(boxes)
