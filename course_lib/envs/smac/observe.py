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


def build_avail(epos: torch.Tensor, alive: torch.Tensor, dist: torch.Tensor, C) -> torch.Tensor:
    """Action masks ``[B, N, n_actions]`` bool.

    ``epos: [B, U, 2]`` positions with dead units far away, ``alive: [B, U]``, ``dist: [B, U, U]``.
    """
    N = C.N
    alive_a = alive[:, :N]
    p = epos[:, :N, None, :] + C.move_check                      # [B, N, 4, 2]
    if C.open_terrain:
        ok = ((p >= 0) & (p < C.size_xy)).all(-1)
    else:
        x, y = p[..., 0], p[..., 1]
        inb = (x >= 0) & (y >= 0) & (x < C.width) & (y < C.height)
        cell = y.floor().long().clamp_(0, C.height - 1) * C.width + x.floor().long().clamp_(0, C.width - 1)
        ok = inb & C.walk_flat[cell + C.walk_free_a]
    att = dist[:, :N, N:] <= SHOOT                                # dead units are far away
    if C.has_healer_agent:
        heal = (dist[:, :N, :N] <= SHOOT) & C.heal_target_ok
        if C.E > N:
            heal = torch.cat([heal, heal.new_zeros(heal.shape[0], N, C.E - N)], dim=2)
        else:
            heal = heal[:, :, :C.E]
        att = torch.where(C.healer_agent[:, None], heal, att)
    return torch.cat([torch.stack([~alive_a, alive_a], -1), ok, att], dim=-1)


def build_unit_feats(pos, health, shield, cd, alive, C) -> torch.Tensor:
    """Per-unit feature bank ``[B, U, 5 + utb]``: health, shield, cooldown (energy for a medivac)
    normalised, position relative to the map centre, type one-hot; zero rows for dead units."""
    B = pos.shape[0]
    parts = [torch.stack([health * C.inv_hp, shield * C.inv_sh, (cd * C.inv_maxcd).clamp_(0.0, 1.0)], -1),
             (pos - C.center) * C.inv_size]
    if C.utb:
        parts.append(C.onehot.expand(B, C.U, C.utb))
    return torch.cat(parts, -1) * alive[..., None]


def build_obs(epos, diff, dist, avail, ufeat, last_action, t, C) -> torch.Tensor:
    """Observations ``[B, N, obs_dim]`` float32 (see module docstring for the layout)."""
    B, N = epos.shape[0], C.N
    dA = dist[:, :N]                                              # [B, N, U]
    flag = torch.cat([C.ones_nn.expand(B, N, N), avail[:, :, 6:6 + C.E].to(epos.dtype)], -1)
    geo = torch.cat([flag[..., None], torch.cat([dA[..., None], diff[:, :N]], -1) * C.geo_scale], -1)
    uf = ufeat[:, None].expand(B, N, C.U, ufeat.shape[-1])
    parts = [geo, uf]
    if C.obs_last_action:
        la = C.eye_actions[last_action]                           # [B, N, A]
        la = torch.cat([la, la.new_zeros(B, C.E, C.A)], 1)
        parts.append(la[:, None].expand(B, N, C.U, C.A))
    pair = torch.cat(parts, -1) * (dA < SIGHT)[..., None]
    flat = [avail.reshape(B, -1).to(epos.dtype), pair.reshape(B, -1)]
    if C.obs_pathing_grid or C.obs_terrain_height:
        flat.append((_surroundings(epos[:, :N], C) * alive_f(avail)).reshape(B, -1))
    if C.obs_timestep_number:
        flat.append((t.to(epos.dtype) / C.episode_limit)[:, None])
    return torch.cat(flat, 1).index_select(1, C.obs_index).view(B, N, C.obs_dim)


def alive_f(avail: torch.Tensor) -> torch.Tensor:
    """``[B, N, 1]`` float: 1 for living agents (their stop action is available)."""
    return avail[:, :, 1:2].to(torch.float32)


def _surroundings(pos_a: torch.Tensor, C) -> torch.Tensor:
    """SMAC's surrounding pathing (8) and/or terrain height (9) values ``[B, N, k]``."""
    base = pos_a.floor()
    out = []
    if C.obs_pathing_grid:
        out.append(_lookup(base[:, :, None, :] + C.surround_offsets[:8], C.path_grid_f, C))
    if C.obs_terrain_height:
        out.append(_lookup(base[:, :, None, :] + C.surround_offsets, C.height_grid_f, C))
    return torch.cat(out, dim=-1)


def _lookup(p: torch.Tensor, grid_flat: torch.Tensor, C) -> torch.Tensor:
    x, y = p[..., 0], p[..., 1]
    inb = (x >= 0) & (y >= 0) & (x < C.width) & (y < C.height)
    cell = y.long().clamp(0, C.height - 1) * C.width + x.long().clamp(0, C.width - 1)
    return torch.where(inb, grid_flat[cell], torch.ones_like(x))


def build_state(ufeat, last_action, t, C, obs=None) -> torch.Tensor:
    """Global state ``[B, state_dim]`` float32 (see module docstring for the layout)."""
    B = ufeat.shape[0]
    if C.obs_instead_of_state:
        return obs.reshape(B, -1)
    flat = [ufeat.reshape(B, -1)]
    if C.state_last_action:
        flat.append(C.eye_actions[last_action].reshape(B, -1))
    if C.state_timestep_number:
        flat.append((t.to(ufeat.dtype) / C.episode_limit)[:, None])
    return torch.cat(flat, 1).index_select(1, C.state_index)


# ----------------------------------------------------------------------------------- index tables
def build_index_tables(C) -> None:
    """Precompute ``C.obs_index`` / ``C.state_index`` (positions in the flattened feature banks) and
    the matching feature names ``C.obs_names`` / ``C.state_names``."""
    N, E, U, A, utb = C.N, C.E, C.U, C.A, C.utb
    Fu = len(UNIT_FEATS) + utb
    Fp = 4 + Fu + (A if C.obs_last_action else 0)
    av0 = 0
    p0 = N * A
    n_sur = (8 if C.obs_pathing_grid else 0) + (9 if C.obs_terrain_height else 0)
    s0 = p0 + N * U * Fp
    t0 = s0 + N * n_sur
    etypes = [f"type_{n}" for n in C.spec.enemy_type_order[:utb]] if utb else []
    atypes = [f"type_{n}" for n in C.spec.ally_type_order[:utb]] if utb else []
    sur_names = ([f"pathing_{d}" for d in ("n", "s", "e", "w", "ne", "sw", "se", "nw")] if C.obs_pathing_grid
                 else []) + ([f"height_{d}" for d in ("n", "s", "e", "w", "ne", "sw", "se", "nw", "self")]
                             if C.obs_terrain_height else [])

    def unit_cols(ally_side: bool, with_health: bool):
        cols, names = [], []
        if with_health:
            cols.append(4 + 0)
            names.append("health")
            if (C.ally_shield if ally_side else C.enemy_shield):
                cols.append(4 + 1)
                names.append("shield")
        for k in range(utb):
            cols.append(4 + len(UNIT_FEATS) + k)
        names += atypes if ally_side else etypes
        return cols, names

    e_cols, e_names = unit_cols(False, C.obs_all_health)
    a_cols, a_names = unit_cols(True, C.obs_all_health)
    o_cols, o_names = unit_cols(True, C.obs_own_health)
    la_cols = [4 + Fu + a for a in range(A)] if C.obs_last_action else []
    index, names = [], []
    for i in range(N):
        for k, d in enumerate(("north", "south", "east", "west")):
            index.append(av0 + i * A + 2 + k)
            if i == 0:
                names.append(f"move_{d}")
        for k in range(n_sur):
            index.append(s0 + i * n_sur + k)
            if i == 0:
                names.append(sur_names[k])
        for j in range(E):
            base = p0 + (i * U + N + j) * Fp
            for c, nm in zip([0, 1, 2, 3] + e_cols, ["attackable", "dist", "rel_x", "rel_y"] + e_names):
                index.append(base + c)
                if i == 0:
                    names.append(f"enemy_{j}_{nm}")
        slot = 0
        for k in range(N):
            if k == i:
                continue
            base = p0 + (i * U + k) * Fp
            nms = ["visible", "dist", "rel_x", "rel_y"] + a_names + [f"last_action_{a}" for a in range(len(la_cols))]
            for c, nm in zip([0, 1, 2, 3] + a_cols + la_cols, nms):
                index.append(base + c)
                if i == 0:
                    names.append(f"ally_{slot}_{nm}")
            slot += 1
        base = p0 + (i * U + i) * Fp
        for c, nm in zip(o_cols, o_names):
            index.append(base + c)
            if i == 0:
                names.append(f"own_{nm}")
        if C.obs_timestep_number:
            index.append(t0)
            if i == 0:
                names.append("timestep")
    C.obs_dim_bank = len(index) // N
    C.obs_index = torch.tensor(index, dtype=torch.long, device=C.device)
    C.obs_names = names

    # state: unit bank [U, Fu], then last actions [N, A], then timestep
    sidx, snames = [], []
    for u in range(U):
        ally = u < N
        cols = [0] + ([2] if ally else []) + [3, 4]
        nms = ["health"] + (["cooldown"] if ally else []) + ["rel_x", "rel_y"]
        if (C.ally_shield if ally else C.enemy_shield):
            cols.append(1)
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
