"""Small grid worlds for tabular reinforcement learning (notebook 01).

A grid world is drawn as a list of strings, one character per cell:

``S`` start, ``G`` goal (terminal), ``#`` wall, ``C`` cliff (big penalty, back to start),
``H`` hole (terminal, no reward), ``.`` free.

States are numbered ``row * n_cols + col`` over *all* cells (walls included, they are simply never
visited), so a Q-table is ``Q: [n_rows * n_cols, 4]`` and reshapes straight into the picture.
Actions: ``0 = up, 1 = right, 2 = down, 3 = left``. Walking into a wall or the border leaves the
agent where it is.

The API follows gymnasium: ``reset(seed=...) -> (state, info)`` and
``step(action) -> (state, reward, terminated, truncated, info)``, with ``observation_space`` and
``action_space`` as ``gymnasium.spaces.Discrete``. Because the model is known, ``transitions(s, a)``
also lists ``(probability, next_state, reward, terminated)`` for dynamic programming.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from gymnasium import spaces

__all__ = ["GridWorld", "make_gridworld", "list_gridworlds", "ACTIONS", "ACTION_ARROWS"]

#: (d_row, d_col) for the actions up, right, down, left.
ACTIONS: Tuple[Tuple[int, int], ...] = ((-1, 0), (0, 1), (1, 0), (0, -1))
#: One arrow per action, in action order (used by the plots).
ACTION_ARROWS = ("↑", "→", "↓", "←")
_CELLS = set("SG#CH.")


class GridWorld:
    """A deterministic or slippery grid world.

    Args:
        layout: the map, one string per row (characters ``S G # C H .``); exactly one ``S``, at
            least one ``G``.
        step_reward: reward of every ordinary move.
        goal_reward: reward for entering a ``G`` cell (the episode then terminates).
        goal_rewards: optional ``{(row, col): reward}`` giving some goal cells their own reward.
        cliff_reward: reward for stepping onto a ``C`` cell; the agent is sent back to ``S`` and the
            episode goes on (Sutton and Barto's cliff walk).
        hole_reward: reward for entering an ``H`` cell (the episode then terminates).
        slip: probability that the move goes in one of the two perpendicular directions instead
            (each with ``slip / 2``), as in the slippery frozen lake. 0 gives a deterministic world.
        max_steps: the episode is truncated (``truncated=True``) after this many steps.
        name: a label used in plots and messages.
    """

    def __init__(
        self,
        layout: Sequence[str],
        step_reward: float = 0.0,
        goal_reward: float = 1.0,
        cliff_reward: float = -100.0,
        hole_reward: float = 0.0,
        slip: float = 0.0,
        max_steps: int = 200,
        name: str = "gridworld",
        goal_rewards: Optional[Dict[Tuple[int, int], float]] = None,
    ):
        rows = [str(r) for r in layout]
        if not rows or any(len(r) != len(rows[0]) for r in rows):
            raise ValueError(f"layout must be non-empty rows of equal length, got {rows!r}")
        bad = sorted({ch for r in rows for ch in r} - _CELLS)
        if bad:
            raise ValueError(f"layout has unknown cell characters {bad}; allowed: {sorted(_CELLS)}")
        if sum(r.count("S") for r in rows) != 1:
            raise ValueError("layout needs exactly one start cell 'S'")
        if not any("G" in r for r in rows):
            raise ValueError("layout needs at least one goal cell 'G'")
        if not 0.0 <= slip <= 1.0:
            raise ValueError(f"slip must be a probability in [0, 1], got {slip}")
        if max_steps <= 0:
            raise ValueError(f"max_steps must be positive, got {max_steps}")
        self.layout = rows
        self.name = name
        self.n_rows, self.n_cols = len(rows), len(rows[0])
        self.n_states = self.n_rows * self.n_cols
        self.n_actions = len(ACTIONS)
        self.step_reward = float(step_reward)
        self.goal_reward = float(goal_reward)
        self.cliff_reward = float(cliff_reward)
        self.hole_reward = float(hole_reward)
        self.slip = float(slip)
        self.goal_rewards = {tuple(k): float(v) for k, v in (goal_rewards or {}).items()}
        for (r, c) in self.goal_rewards:
            if not (0 <= r < self.n_rows and 0 <= c < self.n_cols) or rows[r][c] != "G":
                raise ValueError(f"goal_rewards names cell {(r, c)}, which is not a 'G' cell of the layout")
        self.max_steps = int(max_steps)
        self.observation_space = spaces.Discrete(self.n_states)
        self.action_space = spaces.Discrete(self.n_actions)
        self.start_state = next(
            self.to_state(r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == "S"
        )
        self._rng = np.random.default_rng()
        self._state = self.start_state
        self._t = 0

    # ------------------------------------------------------------------ geometry
    def to_state(self, row: int, col: int) -> int:
        """Cell ``(row, col)`` -> state index."""
        return row * self.n_cols + col

    def to_cell(self, state: int) -> Tuple[int, int]:
        """State index -> cell ``(row, col)``."""
        return divmod(int(state), self.n_cols)

    def cell_type(self, state: int) -> str:
        """The layout character of a state (``'S'``, ``'G'``, ``'#'``, ``'C'``, ``'H'`` or ``'.'``)."""
        r, c = self.to_cell(state)
        return self.layout[r][c]

    def is_terminal(self, state: int) -> bool:
        """True for goal and hole cells (the episode ends on entering them)."""
        return self.cell_type(state) in "GH"

    def _move(self, state: int, action: int) -> int:
        r, c = self.to_cell(state)
        dr, dc = ACTIONS[action]
        nr, nc = r + dr, c + dc
        if not (0 <= nr < self.n_rows and 0 <= nc < self.n_cols) or self.layout[nr][nc] == "#":
            return state
        return self.to_state(nr, nc)

    def _outcome(self, state: int, action: int) -> Tuple[int, float, bool]:
        nxt = self._move(state, action)
        kind = self.cell_type(nxt)
        if kind == "G":
            return nxt, self.goal_rewards.get(self.to_cell(nxt), self.goal_reward), True
        if kind == "H":
            return nxt, self.hole_reward, True
        if kind == "C":
            return self.start_state, self.cliff_reward, False
        return nxt, self.step_reward, False

    def transitions(self, state: int, action: int) -> List[Tuple[float, int, float, bool]]:
        """The model: ``[(probability, next_state, reward, terminated), ...]`` for one state-action."""
        self._check_action(action)
        if self.slip == 0.0:
            moves = [(1.0, action)]
        else:
            moves = [(1.0 - self.slip, action), (self.slip / 2, (action + 1) % 4), (self.slip / 2, (action + 3) % 4)]
        out: Dict[Tuple[int, float, bool], float] = {}
        for p, a in moves:
            key = self._outcome(state, a)
            out[key] = out.get(key, 0.0) + p
        return [(p, s, r, d) for (s, r, d), p in out.items() if p > 0]

    # ------------------------------------------------------------------ gymnasium-style API
    def _check_action(self, action) -> None:
        if not (isinstance(action, (int, np.integer)) and 0 <= int(action) < self.n_actions):
            raise ValueError(f"action must be an integer in 0..{self.n_actions - 1} (up, right, down, left), got {action!r}")

    def reset(self, seed: Optional[int] = None, options=None) -> Tuple[int, dict]:
        """Start a new episode at ``S``. ``seed`` re-seeds the slip randomness."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._state = self.start_state
        self._t = 0
        return self._state, {}

    def step(self, action: int) -> Tuple[int, float, bool, bool, dict]:
        """One move: ``(next_state, reward, terminated, truncated, info)``."""
        self._check_action(action)
        a = int(action)
        if self.slip > 0.0:
            u = self._rng.random()
            if u < self.slip / 2:
                a = (a + 1) % 4
            elif u < self.slip:
                a = (a + 3) % 4
        self._state, reward, terminated = self._outcome(self._state, a)
        self._t += 1
        truncated = (not terminated) and self._t >= self.max_steps
        return self._state, reward, terminated, truncated, {}

    def render_text(self) -> str:
        """The map as text, with the agent drawn as ``A``."""
        r0, c0 = self.to_cell(self._state)
        return "\n".join(
            "".join("A" if (r, c) == (r0, c0) else ch for c, ch in enumerate(row)) for r, row in enumerate(self.layout)
        )

    def __repr__(self) -> str:
        return f"GridWorld(name={self.name!r}, shape=({self.n_rows}, {self.n_cols}), slip={self.slip})"


_FOUR_ROOMS = [
    "#############",
    "#S....#.....#",
    "#.....#.....#",
    "#...........#",
    "#.....#.....#",
    "#.....#.....#",
    "##.####.....#",
    "#.....###.###",
    "#.....#.....#",
    "#.....#.....#",
    "#...........#",
    "#.....#....G#",
    "#############",
]

_REGISTRY = {
    # Sutton & Barto (2018), Example 6.6: -1 per step, -100 for falling off the cliff.
    "cliff": dict(
        layout=["............", "............", "............", "SCCCCCCCCCCG"],
        step_reward=-1.0, goal_reward=-1.0, cliff_reward=-100.0, max_steps=200,
    ),
    # Sutton, Precup & Singh (1999) four rooms; reward 1 at the goal, 0 elsewhere.
    "four_rooms": dict(layout=_FOUR_ROOMS, step_reward=0.0, goal_reward=1.0, max_steps=200),
    # A near goal worth 1 and a far goal worth 10: the discount decides which one is better.
    # From S the near goal is 2 steps away, the far one 9: far is better iff 10 * gamma^8 > gamma, i.e.
    # gamma > 0.1 ** (1 / 7) ~ 0.72.
    "two_goals": dict(
        layout=["............", "G.S........G", "............"],
        goal_reward=1.0, goal_rewards={(1, 11): 10.0}, max_steps=200,
    ),
    # The 4x4 frozen lake of gymnasium's toy-text, deterministic here.
    "frozen_lake_4x4": dict(layout=["S...", ".H.H", "...H", "H..G"], goal_reward=1.0, max_steps=100),
    # Same lake, slippery: the intended move happens with probability 1/3, each side move with 1/3.
    "frozen_lake_4x4_slippery": dict(
        layout=["S...", ".H.H", "...H", "H..G"], goal_reward=1.0, slip=2 / 3, max_steps=100,
    ),
}


def list_gridworlds() -> List[str]:
    """Names accepted by :func:`make_gridworld`."""
    return sorted(_REGISTRY)


def make_gridworld(name: str, **overrides) -> GridWorld:
    """Build a named grid world; keyword arguments override its defaults (e.g. ``max_steps=50``).

    Raises ``ValueError`` listing the known names when ``name`` is unknown.
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown grid world {name!r}; known grid worlds: {list_gridworlds()}")
    kwargs = dict(_REGISTRY[name])
    kwargs.update(overrides)
    return GridWorld(name=name, **kwargs)
