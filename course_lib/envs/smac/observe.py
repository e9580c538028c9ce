"""Observations, global state, action masks and feature names, exactly as SMAC builds them.

Spec sections 2-4 (SMAC's ``get_obs_agent``, ``get_state``, ``get_avail_agent_actions``):

- Actions: 0 no-op (only the dead), 1 stop, 2 north (y + move_amount), 3 south, 4 east (x + ...),
  5 west, ``6 + j`` attack enemy ``j`` (a medivac: heal ally ``j``). A move is available when the point
  ``move_amount / 2`` away in that direction is inside the map and walkable (for a colossus: inside
  the map, it walks over cliffs). Attack ``j``: enemy ``j`` alive and centre-to-centre distance ``<= 6``.
  Heal ``j``: ally ``j`` alive, within 6, not a medivac. The mask is returned as a **bool** tensor
  (cheapest to build and to use with ``masked_fill``; ``.float()`` gives SMAC's 0/1 lists).
- Observation of agent ``i`` (zeros when it is dead; sight range 9, distances and offsets / 9):
  move flags ``[N, S, E, W]`` (+ 8 pathing values and 9 heights around the unit when
  ``obs_pathing_grid`` / ``obs_terrain_height``; SMAC samples ``int(x), int(y)`` plus offsets of
  ``2 * move_amount`` and ``move_amount`` diagonally and reports 1 outside the map; here 1 = walkable),
  then per enemy ``[attack available, dist, dx, dy, health, shield (Protoss), type one-hot]``, then per
  other ally (ascending id, self skipped) ``[visible, dist, dx, dy, health, shield, type one-hot,
  last action one-hot (obs_last_action)]``, then own ``[health, shield, type one-hot]``; units beyond
  sight (distance >= 9) or dead are zero rows. ``dx = x_other - x_self``. A medivac's "attack
  available" flags are its heal flags (SMAC reads the flag from the action mask). With
  ``obs_timestep_number`` SMAC appends ``t / episode_limit`` even for dead agents; we do the same.
- State: allies ``[health, cooldown / max cooldown (medivac: energy / 200), (x - cx) / width,
  (y - cy) / height, shield, type one-hot]``, enemies ``[health, rel x, rel y, shield, type one-hot]``
  (dead units zero rows), then the one-hot last actions of every agent (``state_last_action``; all
  zeros right after a reset, and a dead agent's last action is the no-op, so its one-hot is
  ``[1, 0, ...]``, both as in SMAC), then
  ``t / episode_limit`` (``state_timestep_number``). With ``obs_instead_of_state`` the state is the
  concatenation of all agents' observations.

Implementation (speed): every number any observation needs is first written into a *feature bank*
(per-unit features ``[B, U, 5 + utb]`` and per observer-unit pair features ``[B, N, U, Fp]``, both
already masked), then one gather with a precomputed index (``C.obs_index``, ``C.state_index``) lays
the vectors out exactly as SMAC does. Dead units sit far outside the map in the distance computations
(``C.far``), so every range test excludes them without extra masking.
"""
from __future__ import annotations

from typing import List

import torch

__all__ = ["SIGHT", "SHOOT", "UNIT_FEATS", "build_avail", "build_unit_feats", "build_obs", "build_state",
           "build_index_tables", "obs_feature_names", "state_feature_names", "action_names"]

SIGHT = 9.0
SHOOT = 6.0
# columns of the per-unit feature bank (then the type one-hot)
UNIT_FEATS = ("health", "shield", "cooldown", "rel_x", "rel_y")
GEO = 3  # geometry bank per (observer, unit) pair: dist, dx, dy


def build_avail(epos: torch.Tensor, alive: torch.Tensor, dist: torch.Tensor, C) -> torch.Tensor:
    """Action masks ``[B, N, n_actions]`` bool.

    ``epos: [B, 2, U]`` positions with dead units far away, ``alive: [B, U]``, ``dist: [B, U, U]``.
    """
    N = C.N
    if C.open_terrain:
        # offsets (0, 0), N, S, E, W: a living unit is inside the map, a dead one far outside, so the
        # first test is "alive" (stop available) and the others the four moves
        p = epos.narrow(2, 0, N).unsqueeze(-1) + C.move_check5   # [B, 2, N, 5]
        ok = ((p >= 0) & (p < C.size_xy3)).all(1)                 # [B, N, 5]
        head = [~ok.narrow(-1, 0, 1), ok]
    else:
        alive_a = alive[:, :N]
        p = epos[:, :, :N, None] + C.move_check                  # [B, 2, N, 4]
        x, y = p[:, 0], p[:, 1]
        inb = (x >= 0) & (y >= 0) & (x < C.width) & (y < C.height)
        cell = y.floor().long().clamp_(0, C.height - 1) * C.width + x.floor().long().clamp_(0, C.width - 1)
        ok = inb & C.walk_flat[cell + C.walk_free_a]
        head = [torch.stack([~alive_a, alive_a], -1), ok]
    att = dist.narrow(1, 0, N).narrow(2, N, C.E) <= SHOOT         # dead units are far away
    if C.has_healer_agent:
        heal = (dist[:, :N, :N] <= SHOOT) & C.heal_target_ok
        if C.E > N:
            heal = torch.cat([heal, heal.new_zeros(heal.shape[0], N, C.E - N)], dim=2)
        else:
            heal = heal[:, :, :C.E]
        att = torch.where(C.healer_agent[:, None], heal, att)
    return torch.cat(head + [att], dim=-1)


def build_unit_feats(pos, health, shield, cd, alive, C) -> torch.Tensor:
    """Per-unit feature bank ``[B, U, 5 + utb]``: health, shield, cooldown (energy for a medivac)
    normalised, position relative to the map centre, type one-hot; zero rows for dead units.
    ``pos: [B, 2, U]``."""
    B = pos.shape[0]
    # health / max, shield / max, cooldown / max clipped to 1 (SMAC clips), (pos - centre) / size
    parts = [(torch.stack([health, shield, cd], -1) * C.inv3).clamp_(max=1.0),
             torch.addcmul(C.neg_center_scaled, pos, C.inv_size2).transpose(1, 2)]
    if C.utb:
        parts.append(C.onehot.expand(B, C.U, C.utb))
    return torch.cat(parts, -1) * alive.unsqueeze(-1)


def build_obs(epos, off, dist, avail, ufeat, last_action, t, C) -> torch.Tensor:
    """Observations ``[B, N, obs_dim]`` float32 (see module docstring for the layout).

    ``epos: [B, 2, U]``; ``off, dist`` from ``dynamics.pairwise(epos)``; ``ufeat`` from
    :func:`build_unit_feats`. Three flat banks are gathered with precomputed indices and combined as
    ``obs = a + b * v``: ``a`` holds the geometry ``dist, dx, dy`` (/ 9, zero beyond sight) of every
    (agent, unit) pair, ``b`` the per-unit features, the action masks and last actions, ``v`` the sight
    mask of every pair. Nothing of size ``[B, N, U, features]`` is built, which keeps the large maps fast.
    """
    N = C.N
    dA = dist.narrow(1, 0, N)                                     # [B, N, U]
    visf = (dA < SIGHT).to(epos.dtype)
    geo = torch.cat([dA.unsqueeze(1), off.narrow(2, 0, N)], 1) * (visf * (1.0 / SIGHT)).unsqueeze(1)   # [B, 3, N, U]
    fa = [geo.flatten(1)]
    if C.obs_pathing_grid or C.obs_terrain_height:
        fa.append((_surroundings(epos[:, :, :N], C) * alive_f(avail)).flatten(1))
    if C.obs_timestep_number:
        fa.append((t.to(epos.dtype) / C.episode_limit)[:, None])
    # (bank a's "zero" is the distance of agent 0 to itself: always exactly 0)
    fb = [ufeat.flatten(1), avail.flatten(1).to(epos.dtype)]
    if C.obs_last_action:
        fb.append(C.eye_actions[last_action].flatten(1))
    fb.append(C.one_b)
    fv = torch.cat([visf.flatten(1), C.one_b, C.zero_b], 1)
    bank_a = torch.cat(fa, 1) if len(fa) > 1 else fa[0]
    obs = torch.addcmul(_take(bank_a, C.obs_ia), _take(torch.cat(fb, 1), C.obs_ib), _take(fv, C.obs_iv))
    return obs.unflatten(1, (N, C.obs_dim))


def alive_f(avail: torch.Tensor) -> torch.Tensor:
    """``[B, N, 1]`` float: 1 for living agents (their stop action is available)."""
    return avail[:, :, 1:2].to(torch.float32)


def _surroundings(pos_a: torch.Tensor, C) -> torch.Tensor:
    """SMAC's surrounding pathing (8) and/or terrain height (9) values ``[B, N, k]``; ``pos_a: [B, 2, N]``."""
    base = pos_a.floor()[..., None]                               # [B, 2, N, 1]
    out = []
    if C.obs_pathing_grid:
        out.append(_lookup(base + C.surround_offsets[:, :, :8], C.path_grid_f, C))
    if C.obs_terrain_height:
        out.append(_lookup(base + C.surround_offsets, C.height_grid_f, C))
    return torch.cat(out, dim=-1)


def _lookup(p: torch.Tensor, grid_flat: torch.Tensor, C) -> torch.Tensor:
    x, y = p[:, 0], p[:, 1]
    inb = (x >= 0) & (y >= 0) & (x < C.width) & (y < C.height)
    cell = y.long().clamp(0, C.height - 1) * C.width + x.long().clamp(0, C.width - 1)
    return torch.where(inb, grid_flat[cell], torch.ones_like(x))


def build_state(ufeat, last_action, t, C, obs=None) -> torch.Tensor:
    """Global state ``[B, state_dim]`` float32 (see module docstring for the layout)."""
    if C.obs_instead_of_state:
        return obs.flatten(1)
    flat = [ufeat.flatten(1)]
    if C.state_last_action:
        flat.append(C.eye_actions[last_action].flatten(1))
    if C.state_timestep_number:
        flat.append((t.to(ufeat.dtype) / C.episode_limit)[:, None])
    return _take(torch.cat(flat, 1), C.state_index)


def _take(bank: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``bank[:, index]`` for ``bank: [B, K]``; ``gather`` with a broadcast index is faster than
    ``index_select`` along dimension 1 for large batches."""
    if bank.shape[0] >= 64:
        return torch.gather(bank, 1, index.expand(bank.shape[0], index.shape[0]))
    return bank.index_select(1, index)


# ----------------------------------------------------------------------------------- index tables
def build_index_tables(C) -> None:
    """Precompute the gather indices of the observation (``C.obs_ia/ib/iv``, see :func:`build_obs`) and
    of the state (``C.state_index``), with the matching feature names ``C.obs_names`` / ``C.state_names``."""
    N, E, U, A, utb = C.N, C.E, C.U, C.A, C.utb
    Fu = len(UNIT_FEATS) + utb
    n_sur = (8 if C.obs_pathing_grid else 0) + (9 if C.obs_terrain_height else 0)
    # bank a: geometry [3, N, U], surroundings [N, n_sur], timestep
    s0 = N * U * GEO
    t0 = s0 + N * n_sur
    zero_a = 0  # dist(agent 0, agent 0) / 9 = 0
    # bank b: unit features [U, Fu], masks [N, A], last actions [N, A], one
    av0 = U * Fu
    la0 = av0 + N * A
    one_b = la0 + (N * A if C.obs_last_action else 0)
    # bank v: sight mask [N, U], one, zero
    one_v, zero_v = N * U, N * U + 1
    etypes = [f"type_{n}" for n in C.spec.enemy_type_order[:utb]] if utb else []
    atypes = [f"type_{n}" for n in C.spec.ally_type_order[:utb]] if utb else []
    sur_names = ([f"pathing_{d}" for d in ("n", "s", "e", "w", "ne", "sw", "se", "nw")] if C.obs_pathing_grid
                 else []) + ([f"height_{d}" for d in ("n", "s", "e", "w", "ne", "sw", "se", "nw", "self")]
                             if C.obs_terrain_height else [])

    def unit_cols(ally_side: bool, with_health: bool):
        cols, names = [], []
        if with_health:
            cols.append(UNIT_FEATS.index("health"))
            names.append("health")
            if (C.ally_shield if ally_side else C.enemy_shield):
                cols.append(UNIT_FEATS.index("shield"))
                names.append("shield")
        cols += [len(UNIT_FEATS) + k for k in range(utb)]
        names += atypes if ally_side else etypes
        return cols, names

    e_cols, e_names = unit_cols(False, C.obs_all_health)
    a_cols, a_names = unit_cols(True, C.obs_all_health)
    o_cols, o_names = unit_cols(True, C.obs_own_health)
    ia, ib, iv, names = [], [], [], []

    def add(i, name, a=None, b=None, v=None):
        ia.append(zero_a if a is None else a)
        ib.append(one_b if b is None else b)
        iv.append(zero_v if v is None else v)
        if i == 0:
            names.append(name)

    for i in range(N):
        for k, d in enumerate(("north", "south", "east", "west")):
            add(i, f"move_{d}", b=av0 + i * A + 2 + k, v=one_v)
        for k in range(n_sur):
            add(i, sur_names[k], a=s0 + i * n_sur + k)
        for j in range(E):
            u = N + j
            vis = i * U + u
            # SMAC fills the row only when the enemy is alive and within sight; its first entry is the
            # mask's attack flag (for a medivac: the heal flag of ally j)
            add(i, f"enemy_{j}_attackable", b=av0 + i * A + 6 + j, v=vis)
            for c, nm in enumerate(("dist", "rel_x", "rel_y")):
                add(i, f"enemy_{j}_{nm}", a=c * N * U + vis)
            for c, nm in zip(e_cols, e_names):
                add(i, f"enemy_{j}_{nm}", b=u * Fu + c, v=vis)
        slot = 0
        for k in range(N):
            if k == i:
                continue
            vis = i * U + k
            add(i, f"ally_{slot}_visible", v=vis)
            for c, nm in enumerate(("dist", "rel_x", "rel_y")):
                add(i, f"ally_{slot}_{nm}", a=c * N * U + vis)
            for c, nm in zip(a_cols, a_names):
                add(i, f"ally_{slot}_{nm}", b=k * Fu + c, v=vis)
            if C.obs_last_action:
                for act in range(A):
                    add(i, f"ally_{slot}_last_action_{act}", b=la0 + k * A + act, v=vis)
            slot += 1
        for c, nm in zip(o_cols, o_names):
            add(i, f"own_{nm}", b=i * Fu + c, v=one_v)
        if C.obs_timestep_number:
            add(i, "timestep", a=t0)
    C.obs_dim_bank = len(ia) // N
    as_t = lambda x: torch.tensor(x, dtype=torch.long, device=C.device)
    C.obs_ia, C.obs_ib, C.obs_iv = as_t(ia), as_t(ib), as_t(iv)
    C.obs_names = names

    # state: unit bank [U, Fu], then last actions [N, A], then timestep
    sidx, snames = [], []
    F = UNIT_FEATS.index
    for u in range(U):
        ally = u < N
        cols = [F("health")] + ([F("cooldown")] if ally else []) + [F("rel_x"), F("rel_y")]
        nms = ["health"] + (["cooldown"] if ally else []) + ["rel_x", "rel_y"]
        if (C.ally_shield if ally else C.enemy_shield):
            cols.append(F("shield"))
            nms.append("shield")
        cols += [len(UNIT_FEATS) + k for k in range(utb)]
        nms += atypes if ally else etypes
        prefix = f"ally_{u}" if ally else f"enemy_{u - N}"
        for c, nm in zip(cols, nms):
            sidx.append(u * Fu + c)
            snames.append(f"{prefix}_{nm}")
    off = U * Fu
    if C.state_last_action:
        for i in range(N):
            for a in range(A):
                sidx.append(off + i * A + a)
                snames.append(f"ally_{i}_last_action_{a}")
        off += N * A
    if C.state_timestep_number:
        sidx.append(off)
        snames.append("timestep")
    C.state_index = torch.tensor(sidx, dtype=torch.long, device=C.device)
    C.state_names = snames


def action_names(n_enemies: int, healer: bool = False) -> List[str]:
    """``["no_op", "stop", "move_north", "move_south", "move_east", "move_west", "attack_0", ...]``."""
    verb = "heal_ally" if healer else "attack"
    return ["no_op", "stop", "move_north", "move_south", "move_east", "move_west"] + [
        f"{verb}_{j}" for j in range(n_enemies)]


def obs_feature_names(C) -> List[str]:
    """Names of the ``obs_dim`` observation features. ``ally_k`` is the k-th *other* ally slot."""
    return list(C.obs_names)


def state_feature_names(C) -> List[str]:
    """Names of the ``state_dim`` state features."""
    if C.obs_instead_of_state:
        return [f"agent_{i}_{n}" for i in range(C.N) for n in C.obs_names]
    return list(C.state_names)
