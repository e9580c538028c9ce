"""Draw the course's architecture diagrams with matplotlib (reproducible: run it, commit the PNG/SVG files).

    python assets/diagrams/make_diagrams.py            # writes ctde, qmix_mixer, episode_batch, qtran (.png, .svg)

Notebooks 03-06 embed the PNGs with relative links (``../assets/diagrams/ctde.png``). Colours come from
``course_lib.style`` (colour-blind-safe). SVG files are written without embedded dates, so re-running the
script on an unchanged file leaves git clean.
"""
from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
from course_lib import style  # noqa: E402

AGENT, MIXER, STATE, ENV, LOSS = "#D6EAF8", "#FDEBD0", "#E8F6F3", "#F2F3F4", "#FADBD8"


def box(ax, x, y, w, h, text, colour, fontsize=10, bold=False, edge="#333333", ls="-"):
    """A rounded box centred at (x, y) with a label; returns its (left, right, bottom, top)."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=colour, edgecolor=edge, linewidth=1.2, linestyle=ls))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, fontweight="bold" if bold else "normal")
    return (x - w / 2, x + w / 2, y - h / 2, y + h / 2)


def arrow(ax, p, q, text=None, colour="#333333", ls="-", fontsize=9, offset=(0.0, 0.12), rad=0.0):
    ax.add_patch(FancyArrowPatch(p, q, arrowstyle="-|>", mutation_scale=13, color=colour, linewidth=1.3,
                                 linestyle=ls, connectionstyle=f"arc3,rad={rad}", shrinkA=2, shrinkB=2))
    if text:
        ax.text((p[0] + q[0]) / 2 + offset[0], (p[1] + q[1]) / 2 + offset[1], text, ha="center", va="bottom",
                fontsize=fontsize, color=colour)


def canvas(w, h, xlim, ylim):
    fig, ax = plt.subplots(figsize=(w, h))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.axis("off")
    return fig, ax


def ctde():
    """CTDE: agents act on their own histories; the mixer (training only) sees the state."""
    fig, ax = canvas(10, 5.2, (0, 10), (0, 5.2))
    box(ax, 1.0, 2.6, 1.6, 4.4, "environment\n(SMAC)\n\nstate $s_t$\nreward $r_t$", ENV, fontsize=10)
    for k, y in enumerate([4.2, 2.6, 1.0]):
        i = ["1", "2", "n"][k]
        box(ax, 3.7, y, 2.1, 0.9, f"agent network\n$Q_{i}(\\tau^{i}, \\cdot)$  (GRU)", AGENT, fontsize=9)
        arrow(ax, (1.8, y), (2.65, y), f"$o^{i}_t$", offset=(0, 0.05))
        arrow(ax, (3.7, y - 0.45), (3.7, y - 0.62) if k < 2 else (3.7, y - 0.6), None)
        ax.text(3.7, y - 0.75, f"$u^{i}_t = \\arg\\max_u Q_{i}$", ha="center", va="center", fontsize=9,
                color=style.ALLY)
        arrow(ax, (4.75, y), (6.45, 2.6 + (y - 2.6) * 0.25), f"$Q_{i}(\\tau^{i}, u^{i}_t)$", offset=(0.1, 0.05))
    box(ax, 7.3, 2.6, 1.7, 1.5, "mixer\n$Q_{tot} = f_s(Q_1, \\dots, Q_n)$", MIXER, fontsize=9, ls="--")
    box(ax, 7.3, 4.55, 1.7, 0.7, "global state $s_t$", STATE, fontsize=9, ls="--")
    arrow(ax, (7.3, 4.2), (7.3, 3.36), None, ls="--")
    box(ax, 9.1, 2.6, 1.4, 1.3, "TD loss\n$(Q_{tot} - y)^2$\n$y = r_t + \\gamma\\,Q^-_{tot}$", LOSS, fontsize=8.5)
    arrow(ax, (8.15, 2.6), (8.4, 2.6), None)
    arrow(ax, (9.1, 1.95), (4.8, 0.75), None, colour=style.ENEMY, ls=":", rad=-0.2)
    ax.text(7.9, 0.3, "gradients flow back through the mixer to every agent", ha="center", fontsize=9,
            color=style.ENEMY)
    ax.text(7.3, 1.55, "dashed: used in training only", ha="center", fontsize=9, style="italic")
    ax.text(3.7, 5.05, "decentralised execution: each agent acts on its own history $\\tau^i$", ha="center",
            fontsize=10, fontweight="bold", color=style.ALLY)
    ax.text(8.2, 5.05, "centralised training", ha="center", fontsize=10, fontweight="bold", color=style.ENEMY)
    return fig


def qmix_mixer():
    """QMIX: hypernetworks of s produce |W1|, b1, |W2|, V(s)."""
    fig, ax = canvas(10, 5.0, (0, 10), (0, 5.0))
    for k, y in enumerate([4.0, 3.0, 2.0]):
        i = ["1", "2", "n"][k]
        box(ax, 0.9, y, 1.3, 0.6, f"$Q_{i}(\\tau^{i}, u^{i})$", AGENT, fontsize=10)
    ax.text(0.9, 2.5, "...", ha="center", va="center", fontsize=12)
    box(ax, 3.4, 3.0, 1.6, 1.1, "hidden layer\n$\\mathrm{ELU}(\\mathbf{Q}^\\top |W_1| + b_1)$\n32 units",
        MIXER, fontsize=9)
    for y in [4.0, 3.0, 2.0]:
        arrow(ax, (1.55, y), (2.6, 3.0 + (y - 3.0) * 0.3), None)
    box(ax, 5.9, 3.0, 1.6, 1.1, "output\n$h^\\top |W_2| + V(s)$", MIXER, fontsize=9)
    arrow(ax, (4.2, 3.0), (5.1, 3.0), None)
    box(ax, 8.3, 3.0, 1.3, 0.7, "$Q_{tot}$", LOSS, fontsize=11, bold=True)
    arrow(ax, (6.7, 3.0), (7.65, 3.0), None)
    box(ax, 4.65, 0.55, 7.0, 0.6, "global state $s$ (training only)", STATE, fontsize=10)
    hypers = [(2.8, "$|\\mathrm{hyper}_{w_1}(s)|$\n$n \\times 32$, $\\geq 0$"), (4.0, "$\\mathrm{hyper}_{b_1}(s)$\n32"),
              (5.4, "$|\\mathrm{hyper}_{w_2}(s)|$\n32, $\\geq 0$"), (6.8, "$V(s)$\n2 layers")]
    for x, text in hypers:
        box(ax, x, 1.55, 1.2, 0.75, text, STATE, fontsize=8.5)
        arrow(ax, (x, 0.85), (x, 1.17), None)
    arrow(ax, (2.8, 1.93), (3.1, 2.45), None, colour=style.PALETTE[2])
    arrow(ax, (4.0, 1.93), (3.7, 2.45), None, colour=style.PALETTE[2])
    arrow(ax, (5.4, 1.93), (5.7, 2.45), None, colour=style.PALETTE[2])
    arrow(ax, (6.8, 1.93), (6.2, 2.45), None, colour=style.PALETTE[2])
    ax.text(4.65, 4.7, "non-negative weights + increasing activation  =>  $\\partial Q_{tot} / \\partial Q_i \\geq 0$"
            " (monotonic, hence IGM)", ha="center", fontsize=10, fontweight="bold")
    ax.text(8.3, 2.25, "biases and $V(s)$\nare unconstrained", ha="center", fontsize=9, style="italic")
    return fig


def episode_batch():
    """A padded batch of episodes: obs T+1, actions/rewards T, filled mask, targets shifted by one."""
    fig, ax = canvas(10.5, 4.6, (-1.8, 15.0), (-1.6, 5.6))
    lengths = [9, 5, 12, 7]
    T = 12
    for b, L in enumerate(lengths):
        y = 4 - b
        for t in range(T):
            real = t < L
            last = t == L - 1
            colour = (style.PALETTE[0] if last and b != 2 else "#7FB3D5") if real else "white"
            ax.add_patch(Rectangle((t, y), 0.95, 0.8, facecolor=colour, edgecolor="#999999", linewidth=0.8,
                                   hatch=None if real else "///"))
        ax.text(-0.2, y + 0.4, f"episode {b}\nlength {L}", ha="right", va="center", fontsize=9)
        end = "won (terminated = 1)" if b != 2 else "time limit (terminated = 0)"
        ax.text(T + 0.15, y + 0.4, end, ha="left", va="center", fontsize=8.5)
    for t in range(T):
        ax.text(t + 0.47, 5.0, str(t), ha="center", fontsize=8.5)
    ax.text(T / 2, 5.35, "step t  (batch trimmed to the longest episode; obs and avail have one more step, t = T)",
            ha="center", fontsize=9)
    ax.add_patch(Rectangle((0, -0.9), 0.95, 0.5, facecolor="#7FB3D5", edgecolor="#999999"))
    ax.text(1.1, -0.65, "real step: filled = 1", va="center", fontsize=9)
    ax.add_patch(Rectangle((4.2, -0.9), 0.95, 0.5, facecolor=style.PALETTE[0], edgecolor="#999999"))
    ax.text(5.3, -0.65, "last step of a won battle: no bootstrap", va="center", fontsize=9)
    ax.add_patch(Rectangle((10.6, -0.9), 0.95, 0.5, facecolor="white", edgecolor="#999999", hatch="///"))
    ax.text(11.7, -0.65, "padding: filled = 0,\nmasked out of the loss", va="center", fontsize=9)
    ax.text(T / 2, -1.45, "tensors: obs [B, T+1, N, O], avail [B, T+1, N, A], actions [B, T, N], reward, terminated, "
            "filled [B, T]", ha="center", fontsize=9, family="monospace")
    return fig


def qtran():
    """QTRAN: utilities Q_i, joint network Q_jt(s, h, u), value network V_jt, and the three losses."""
    fig, ax = canvas(10, 5.2, (0, 10), (0, 5.2))
    for k, y in enumerate([4.2, 3.1, 2.0]):
        i = ["1", "2", "n"][k]
        box(ax, 1.1, y, 1.8, 0.75, f"agent network (shared)\n$Q_{i}(\\tau^{i}, \\cdot)$, $h^{i}$", AGENT, fontsize=8.5)
    box(ax, 1.1, 0.7, 1.8, 0.6, "global state $s$", STATE, fontsize=9)
    box(ax, 4.2, 4.2, 2.2, 0.85, "transformed value\n$Q'_{jt}(\\mathbf{u}) = \\sum_i Q_i(\\tau^i, u^i)$",
        AGENT, fontsize=9)
    box(ax, 4.2, 2.55, 2.2, 1.0, "joint network\n$Q_{jt}(s, \\mathbf{h}, \\mathbf{u})$\n(any team value)",
        MIXER, fontsize=9)
    box(ax, 4.2, 0.95, 2.2, 0.85, "value network\n$V_{jt}(s, \\mathbf{h})$ (no actions)", MIXER, fontsize=9)
    for y in [4.2, 3.1, 2.0]:
        arrow(ax, (2.0, y), (3.1, 4.2 + (y - 4.2) * 0.15), None, colour="#666666")
        arrow(ax, (2.0, y - 0.1), (3.1, 2.55 + (y - 3.1) * 0.2), None, colour="#666666")
    arrow(ax, (2.0, 0.7), (3.1, 2.3), None, colour="#666666")
    arrow(ax, (2.0, 0.7), (3.1, 0.95), None, colour="#666666")
    box(ax, 8.0, 3.95, 3.3, 1.0, "$L_{td} = (Q_{jt}(\\mathbf{u}) - y)^2$\ntrains $Q_{jt}$", LOSS, fontsize=9)
    box(ax, 8.0, 2.4, 3.3, 1.4, "$L_{opt} = (Q'_{jt}(\\bar{\\mathbf{u}}) - \\hat Q_{jt}(\\bar{\\mathbf{u}}) + V_{jt})^2$\n"
        "$L_{nopt} = \\min(0, Q'_{jt} - \\hat Q_{jt} + V_{jt})^2$\ntrain the utilities and $V_{jt}$", LOSS, fontsize=8.5)
    arrow(ax, (5.3, 2.8), (6.35, 3.8), None)
    arrow(ax, (5.3, 2.45), (6.35, 2.4), None)
    ax.text(5.83, 2.02, "$\\hat Q_{jt}$\n(detached)", ha="center", va="center", fontsize=8)
    arrow(ax, (5.3, 4.2), (6.35, 2.9), None)
    arrow(ax, (5.3, 0.95), (6.35, 1.95), None)
    ax.text(8.0, 0.75, "$\\bar{\\mathbf{u}}$: the agents' greedy joint action\n"
            "$\\hat Q_{jt}$: $Q_{jt}$ with its gradient stopped", ha="center", fontsize=9, style="italic")
    ax.text(5.0, 5.0, "QTRAN: an unconstrained joint value, tied to the utilities by soft constraints",
            ha="center", fontsize=10.5, fontweight="bold")
    return fig


DIAGRAMS = {"ctde": ctde, "qmix_mixer": qmix_mixer, "episode_batch": episode_batch, "qtran": qtran}


def main(out: Path = HERE) -> list:
    style.use()
    written = []
    for name, draw in DIAGRAMS.items():
        fig = draw()
        for ext in ("png", "svg"):
            path = out / f"{name}.{ext}"
            fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Date": None} if ext == "svg" else None)
            written.append(path)
        plt.close(fig)
    print("wrote " + ", ".join(p.name for p in written))
    return written


if __name__ == "__main__":
    main()
