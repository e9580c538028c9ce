"""course_lib.assets: reading the saved learning curves, and the notebook path when they are absent."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from course_lib import assets  # noqa: E402


def _write(d, alg, map_name, seed, n=6, slope=0.1):
    steps = np.arange(n) * 5000
    df = pd.DataFrame({"env_steps": steps, "episodes": np.arange(n) * 200,
                       "test_win_rate": np.clip(slope * np.arange(n) + 0.01 * seed, 0, 1),
                       "test_return": np.arange(n, dtype=float), "loss": 0.1, "epsilon": 0.5,
                       "wall_time": np.arange(n) * 2.0,
                       # Run.curves also stores these; the file name must win if they disagree
                       "alg": "wrong", "map_name": "wrong", "seed": 99})
    path = d / f"{alg}_{map_name}_seed{seed}.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture
def curves_dir(tmp_path):
    for alg in ("iql", "qmix"):
        for seed in (0, 1):
            _write(tmp_path, alg, "3m", seed)
    _write(tmp_path, "qmix", "5m_vs_6m", 2, n=4)
    (tmp_path / "README.md").write_text("not a curve")
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")  # wrong name pattern: ignored
    return tmp_path


def test_list_saved_curves_parses_names_with_underscores(curves_dir):
    table = assets.list_saved_curves(curves_dir)
    assert len(table) == 5
    assert set(zip(table["alg"], table["map_name"], table["seed"])) == {
        ("iql", "3m", 0), ("iql", "3m", 1), ("qmix", "3m", 0), ("qmix", "3m", 1), ("qmix", "5m_vs_6m", 2)}


def test_load_curves_filters_and_labels_from_file_names(curves_dir):
    df = assets.load_curves("qmix", "3m", directory=curves_dir)
    assert len(df) == 12  # 2 seeds x 6 evaluations
    assert set(df["alg"]) == {"qmix"} and set(df["map_name"]) == {"3m"} and sorted(set(df["seed"])) == [0, 1]
    seed1 = df[df["seed"] == 1]
    assert seed1["test_win_rate"].iloc[1] == pytest.approx(0.11)  # values read from the file
    assert list(seed1["env_steps"]) == sorted(seed1["env_steps"])

    every = assets.load_curves(directory=curves_dir)
    assert len(every) == 4 * 6 + 4
    two = assets.load_curves(["iql", "qmix"], ["5m_vs_6m"], directory=curves_dir)
    assert set(two["alg"]) == {"qmix"} and len(two) == 4


def test_load_curves_error_lists_what_exists(curves_dir):
    with pytest.raises(FileNotFoundError) as err:
        assets.load_curves("vdn", "2s3z", directory=curves_dir)
    msg = str(err.value)
    assert "vdn" in msg and "2s3z" in msg
    assert "iql on 3m (seeds 0, 1)" in msg and "qmix on 5m_vs_6m (seeds 2)" in msg
    assert "python benchmarks/learning.py" in msg


def test_load_curves_error_on_an_empty_or_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="Available: none"):
        assets.load_curves(directory=tmp_path / "does_not_exist")


def test_load_curves_rejects_bad_arguments_and_files(curves_dir):
    with pytest.raises(TypeError, match="alg"):
        assets.load_curves(alg=3, directory=curves_dir)
    with pytest.raises(TypeError, match="map_name"):
        assets.load_curves(map_name=[], directory=curves_dir)
    pd.DataFrame({"steps": [0], "win": [0.0]}).to_csv(curves_dir / "vdn_3m_seed0.csv", index=False)
    with pytest.raises(ValueError, match="env_steps"):
        assets.load_curves("vdn", directory=curves_dir)


def test_plot_saved_curves_present_and_absent(curves_dir, tmp_path_factory, capsys):
    # present: one map -> one axes; two maps -> a grid with one panel per map
    fig = assets.plot_saved_curves(["iql", "qmix"], "3m", directory=curves_dir)
    assert fig is not None and len(fig.axes) == 1
    assert {t.get_text() for t in fig.axes[0].get_legend().get_texts()} >= {"iql", "qmix"}
    plt.close(fig)
    fig = assets.plot_saved_curves("qmix", ["3m", "5m_vs_6m"], directory=curves_dir)
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["3m", "5m_vs_6m"]
    plt.close(fig)
    capsys.readouterr()
    # absent: a short note, no exception, None
    empty = tmp_path_factory.mktemp("no_curves")
    assert assets.plot_saved_curves("qmix", "3m", directory=empty) is None
    out = capsys.readouterr().out
    assert out.startswith("saved curves not found: run `python benchmarks/learning.py`")
    assert assets.plot_saved_curves("vdn", "3m", directory=curves_dir) is None  # folder exists, run missing
    assert "qmix on 3m" in capsys.readouterr().out


def test_default_directory_is_the_repository_assets_folder():
    assert assets.CURVES_DIR.parts[-2:] == ("assets", "curves")
    assert (assets.CURVES_DIR.parent.parent / "course_lib").is_dir()


def test_compare_at_steps_means_last_evaluations_and_marks_budgets_not_reached():
    import pandas as pd

    from course_lib.assets import compare_at_steps

    rows = []
    for seed, wins in ((0, [0.0, 0.2, 0.4, 0.6, 0.8]), (1, [0.0, 0.0, 0.2, 0.4, 0.6])):
        for k, w in enumerate(wins):
            rows.append({"alg": "a", "seed": seed, "env_steps": 10_000 * k, "test_win_rate": w})
    for k, w in enumerate([0.1, 0.3]):  # method b stopped at 10k steps
        rows.append({"alg": "b", "seed": 0, "env_steps": 10_000 * k, "test_win_rate": w})
    t = compare_at_steps(pd.DataFrame(rows), [20_000, 40_000], window=2)
    # seed 0: mean(0.2, 0.4) = 0.3, seed 1: mean(0.0, 0.2) = 0.1 -> 0.20 ± 0.10
    assert t.loc["a", "20,000 steps"] == "0.20 ± 0.10 (2)"
    assert t.loc["a", "40,000 steps"] == "0.60 ± 0.10 (2)"
    assert t.loc["b", "20,000 steps"] == "0.20 ± 0.00 (1)"  # within one evaluation interval of its end
    assert t.loc["b", "40,000 steps"] == "not reached"
    with pytest.raises(ValueError, match="steps must be"):
        compare_at_steps(pd.DataFrame(rows), [])
    with pytest.raises(ValueError, match="lack the column"):
        compare_at_steps(pd.DataFrame(rows).drop(columns="seed"), [10_000])


@pytest.mark.parametrize("map_name, min_steps", [
    ("5m_vs_6m", {"qmix": 1_500_000, "acorm": 1_500_000, "mixrts": 300_000}),  # ACORM's published budget: 1.5M
    ("3s5z_vs_3s6z", {"qmix": 400_000, "acorm": 400_000}),
])
def test_saved_hard_map_comparisons_have_three_seeds_per_method(map_name, min_steps):
    """The README's equal-steps tables on hard maps rest on 3 seeds per method, each run to its stated budget."""
    from course_lib.assets import load_curves

    df = load_curves(list(min_steps), map_name)
    assert df.groupby("alg")["seed"].nunique().to_dict() == {a: 3 for a in min_steps}
    reached = df.groupby(["alg", "seed"])["env_steps"].max()
    for (alg, seed), steps in reached.items():
        assert steps >= min_steps[alg], (alg, seed, steps)


README_CURVE_TABLES = [
    # (the README's bold heading that opens the table, map, methods as the rows name them, budgets)
    ("**Longer runs on 5m_vs_6m**", "5m_vs_6m", ("QMIX", "ACORM", "MIXRTs"),
     [150_000, 300_000, 600_000, 1_000_000, 1_500_000]),
    ("**3s5z_vs_3s6z**", "3s5z_vs_3s6z", ("QMIX", "ACORM"), [200_000, 300_000, 400_000]),
]


@pytest.mark.parametrize("heading, map_name, names, steps", README_CURVE_TABLES, ids=[t[1] for t in README_CURVE_TABLES])
def test_readme_curve_tables_equal_the_saved_curves(heading, map_name, names, steps):
    """Each README table of saved runs compared at equal env steps is what compare_at_steps computes from
    assets/curves (the first table after its heading)."""
    import re
    from pathlib import Path

    from course_lib.assets import compare_at_steps, load_curves

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index(heading):]
    section = section[section.index("\n|"):]
    section = section[:section.index("\n\n")]  # the table: up to the first blank line
    pattern = r"^\| (" + "|".join(map(re.escape, names)) + r") \|(.*)\|$"
    rows = {m.group(1): [c.strip() for c in m.group(2).split("|")] for m in re.finditer(pattern, section, re.M)}
    assert set(rows) == set(names)
    table = compare_at_steps(load_curves([n.lower() for n in names], map_name), steps)
    for name, cells in rows.items():
        want = [v if v == "not reached" else v.rsplit(" (", 1)[0] for v in table.loc[name.lower()]]
        assert cells == want, (name, cells, want)
