"""The course's plotting style, labelled axes, and the concept-check helper."""
import importlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from course_lib import style  # noqa: E402
from course_lib.checks.quiz import Question, concept_check  # noqa: E402
from course_lib.plotting import plot_learning_curves  # noqa: E402


def test_use_sets_readable_sizes_and_the_colour_blind_safe_cycle():
    plt.rcdefaults()
    style.use()
    rc = matplotlib.rcParams
    assert rc["figure.dpi"] >= 100
    for key in ("font.size", "axes.labelsize", "xtick.labelsize", "ytick.labelsize", "legend.fontsize"):
        assert float(rc[key]) >= style.MIN_FONT_PT, key
    assert [c.lower() for c in rc["axes.prop_cycle"].by_key()["color"]] == [c.lower() for c in style.PALETTE]


def test_learning_curves_have_units_on_both_axes_and_method_colours():
    df = pd.DataFrame({"env_steps": [0, 5000, 10000] * 2, "test_win_rate": [0, 0.5, 0.8, 0, 0.2, 0.4],
                       "alg": ["qmix"] * 3 + ["iql"] * 3, "seed": 0, "map_name": "3m"})
    ax = plot_learning_curves(df)
    assert ax.get_xlabel() == "env steps" and "fraction of battles" in ax.get_ylabel()
    assert style.unlabelled_axes(ax.figure) == []
    colours = {line.get_label(): matplotlib.colors.to_hex(line.get_color()) for line in ax.get_lines()
               if line.get_label() in ("qmix", "iql")}
    assert colours == {"qmix": style.METHOD_COLOURS["qmix"].lower(), "iql": style.METHOD_COLOURS["iql"].lower()}
    plt.close("all")


def test_unlabelled_axes_names_the_bare_axes():
    fig, (a, b) = plt.subplots(1, 2)
    a.plot([0, 1]); a.set_xlabel("step"); a.set_ylabel("value (units)")
    b.plot([0, 1]); b.set_title("bare")
    assert len(style.unlabelled_axes(fig)) == 1 and "bare" in style.unlabelled_axes(fig)[0]
    plt.close(fig)


def test_concept_check_grades_explains_and_tolerates_blanks(capsys):
    quiz = [Question("q1", "pick", choices={"a": "x", "b": "y"}, answer="b", why="because y"),
            Question("q2", "number", answer=0.729, tol=1e-3, why="gamma cubed")]
    assert concept_check(quiz, {"q1": "B", "q2": 0.7291}) == 2
    out = capsys.readouterr().out
    assert "✅ q1" in out and "because y" in out and "2/2 right" in out
    assert concept_check(quiz, {"q1": "a", "q2": None}) == 0
    out = capsys.readouterr().out
    assert "❌ q1: not quite: the answer is (b)" in out and "⬜ q2: not answered" in out
    with pytest.raises(KeyError, match=r"no question named \['q9'\]"):
        concept_check(quiz, {"q9": "a"})
    with pytest.raises(ValueError, match="must be one of \\['a', 'b'\\]"):
        concept_check(quiz, {"q1": "c"})
    with pytest.raises(ValueError, match="not one of the choices"):
        Question("q3", "bad", choices={"a": "x"}, answer="z", why="")


@pytest.mark.parametrize("nb", ["00", "01", "02", "03", "04", "05", "06"])
def test_every_notebook_has_a_consistent_quiz(nb):
    quiz = importlib.import_module(f"course_lib.checks.nb{nb}").QUIZ
    assert len(quiz) >= 3
    keys = [q.key for q in quiz]
    assert keys == [f"q{i + 1}" for i in range(len(quiz))]
    assert all(q.why for q in quiz)
    assert concept_check(quiz, {q.key: q.answer for q in quiz}) == len(quiz)
