"""Notebook 08: each exercise check accepts a right answer and rejects typical wrong ones with a hint."""
import pytest
import torch

from course_lib.checks import ExerciseFailed, nb08


def _stub(*args, **kwargs):
    raise NotImplementedError("Exercise: stub")


# ---------------------------------------------------------------- 8.1 one soft node
def soft_node(x, w, b, leaf_left, leaf_right):
    p = torch.sigmoid(x @ w + b)
    return p * leaf_left + (1 - p) * leaf_right


def test_soft_node_accepts_the_answer(capsys):
    nb08.check_soft_node(soft_node)
    assert "✅ Exercise 8.1 passed" in capsys.readouterr().out


def test_soft_node_reference_by_hand():
    x, w = torch.tensor([[1.0, 2.0]]), torch.tensor([0.5, -0.25])  # logit 0.5 - 0.5 + b
    out = nb08.reference_soft_node(x, w, 0.0, 4.0, 2.0)           # p = 0.5
    assert out.tolist() == [3.0]


@pytest.mark.parametrize("wrong, hint", [
    (lambda x, w, b, l, r: soft_node(x, w, b, r, l), "LEFT"),
    (lambda x, w, b, l, r: torch.where(x @ w + b > 0, l, r), "hard"),
    (lambda x, w, b, l, r: (x @ w + b) * l + (1 - (x @ w + b)) * r, "sigmoid"),
    (lambda x, w, b, l, r: soft_node(x, w, 0.0, l, r), "bias"),
    (lambda x, w, b, l, r: soft_node(x, w, b, l, r)[:, None], "shape"),
    (lambda x, w, b, l, r: soft_node(x, w, b, l, r).numpy(), "torch.Tensor"),
    (_stub, "not implemented yet"),
])
def test_soft_node_rejects_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        nb08.check_soft_node(wrong)


# ---------------------------------------------------------------- 8.2 leaf path probabilities
def path_probabilities(node_probs):
    P = torch.ones_like(node_probs[0][..., :1])
    for p in node_probs:
        P = torch.stack([P * p, P * (1 - p)], dim=-1).flatten(-2)
    return P


def test_path_probabilities_accepts_the_answer(capsys):
    nb08.check_path_probabilities(path_probabilities)
    assert "✅ Exercise 8.2 passed" in capsys.readouterr().out


def test_path_probabilities_reference_by_hand_depth_2():
    probs = [torch.tensor([0.8]), torch.tensor([0.5, 0.1])]
    got = nb08.reference_path_probabilities(probs)
    assert torch.allclose(got, torch.tensor([0.8 * 0.5, 0.8 * 0.5, 0.2 * 0.1, 0.2 * 0.9]))


def _concatenated(node_probs):  # right values, wrong order
    P = torch.ones_like(node_probs[0][..., :1])
    for p in node_probs:
        P = torch.cat([P * p, P * (1 - p)], dim=-1)
    return P


def _swapped(node_probs):
    return path_probabilities([1 - p for p in node_probs])


def _no_complement(node_probs):
    P = torch.ones_like(node_probs[0][..., :1])
    for p in node_probs:
        P = torch.stack([P * p, P * p], dim=-1).flatten(-2)
    return P


@pytest.mark.parametrize("wrong, hint", [
    (_concatenated, "wrong order"),
    (_swapped, "LEFT"),
    (_no_complement, "sum to 1"),
    (lambda probs: path_probabilities(probs)[..., :-1], "leaves"),
    (_stub, "not implemented yet"),
])
def test_path_probabilities_rejects_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        nb08.check_path_probabilities(wrong)


# ---------------------------------------------------------------- 8.3 feature importance
def feature_importance(node_probs, weights):
    total = 0
    for k, w in enumerate(weights):
        reach = torch.ones_like(node_probs[0][..., :1]) if k == 0 else path_probabilities(node_probs[:k])
        total = total + (reach.unsqueeze(-1) * w).sum(dim=(0, 1))
    return total


def test_feature_importance_accepts_the_answer(capsys):
    nb08.check_feature_importance(feature_importance)
    assert "✅ Exercise 8.3 passed" in capsys.readouterr().out


def test_feature_importance_reference_by_hand():
    # one tree of depth 2, two features: root weights [1, 0], level-1 weights [0, 1] and [2, 2]
    probs = [torch.tensor([[0.25]]), torch.tensor([[0.5, 0.5]])]
    weights = [torch.tensor([[[1.0, 0.0]]]), torch.tensor([[[0.0, 1.0], [2.0, 2.0]]])]
    got = nb08.reference_feature_importance(probs, weights)
    # root reached with 1, left child with 0.25, right child with 0.75
    assert torch.allclose(got, torch.tensor([1.0 + 0.75 * 2, 0.25 + 0.75 * 2]))


@pytest.mark.parametrize("wrong, hint", [
    (lambda probs, ws: sum((p.unsqueeze(-1) * w).sum((0, 1)) for p, w in zip(probs, ws)), "REACHING"),
    (lambda probs, ws: sum(w.sum((0, 1)) for w in ws), "reach probability"),
    (lambda probs, ws: ws[0].sum((0, 1)), "EVERY level"),
    (lambda probs, ws: feature_importance(probs, ws) - ws[0].sum((0, 1)), "roots"),
    (lambda probs, ws: feature_importance(probs, ws)[None], "shape"),
    (_stub, "not implemented yet"),
])
def test_feature_importance_rejects_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        nb08.check_feature_importance(wrong)


# ---------------------------------------------------------------- concept check
def test_answer_gives_feedback_and_validates(capsys):
    for n, q in enumerate(nb08.QUESTIONS, 1):
        assert nb08.answer(n, q["correct"]) is True
        assert nb08.answer(n, (q["correct"] + 1) % len(q["choices"])) is False
    out = capsys.readouterr().out
    assert out.count("✅ right") == len(nb08.QUESTIONS) and out.count("❌ not quite") == len(nb08.QUESTIONS)
    with pytest.raises(ValueError, match="question must be an int from 1 to"):
        nb08.answer(0, 0)
    with pytest.raises(ValueError, match="choice must be an int from 0 to 3"):
        nb08.answer(1, 7)


def test_concept_check_widget_feedback_appears_on_choice():
    box = nb08.concept_check()
    first = box.children[0]
    radio, feedback = first.children[1], first.children[2]
    assert feedback.value == ""
    radio.value = nb08.QUESTIONS[0]["correct"]
    assert "right" in feedback.value
    radio.value = (nb08.QUESTIONS[0]["correct"] + 1) % 4
    assert "not quite" in feedback.value


def test_concept_check_text_version(capsys):
    assert nb08.concept_check(widgets=False) is None
    out = capsys.readouterr().out
    assert "1. A soft decision tree of depth 3" in out and "nb08.answer" in out
