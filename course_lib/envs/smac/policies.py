"""Two reference policies for the simulator, both batched: uniform random and focus fire.

They set the difficulty anchors of spec section 8 (tests/test_smac_difficulty.py): uniformly random
agents almost never win 3m; focus fire wins most 3m battles and far fewer 5m_vs_6m battles.
"""
from __future__ import annotations

from typing import Optional

import torch

__all__ = ["random_policy", "focus_fire_policy", "battle_outcomes", "POLICIES"]

POLICIES = ("random", "focus_fire")


def random_policy(avail: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """A uniformly random *available* action per agent.

    Args:
        avail: ``[..., n_actions]`` mask (bool or 0/1); every row needs at least one available action.
        generator: optional ``torch.Generator`` on ``avail``'s device (for reproducible draws).
    Returns:
        ``LongTensor[...]`` of actions.
    """
    if not isinstance(avail, torch.Tensor):
        raise TypeError(f"avail must be a tensor [..., n_actions], got {type(avail).__name__}")
    mask = avail if avail.dtype == torch.bool else avail > 0
    r = torch.rand(mask.shape, generator=generator, device=mask.device)
    return r.masked_fill(~mask, -1.0).argmax(dim=-1)


def focus_fire_policy(env) -> torch.Tensor:
    """The hand-written baseline: every agent attacks the enemy with the lowest health + shield among
    those it may attack (within the shoot range 6); an agent with no enemy in range moves in the
    available compass direction that points most toward the nearest living enemy (else stops).
    A medivac heals the most damaged ally it may heal, else flies toward its allies' centroid.
    Dead agents no-op.

    Args:
        env: a ``BatchedSMAC`` (the policy reads its current state; it sees everything, like a scripted
            player, so it is a baseline, not a decentralised policy).
    Returns:
        ``LongTensor[n_envs, n_agents]`` of available actions.
    """
    C = env.C
    N = C.N
    avail = env._avail
    alive = env.alive
    inf = float("inf")
    hs = env.health + env.shield
    att_av = avail[:, :, 6:]
    score = hs[:, None, N:].expand_as(att_av).masked_fill(~att_av, inf)
    target = score.argmin(-1) + 6
    has_target = att_av.any(-1)

    dist_ae = env._dist[:, :N, N:].masked_fill(~alive[:, None, N:], inf)
    nearest = dist_ae.argmin(-1)                                     # [B, N]
    pos = env.pos
    B = pos.shape[0]
    goal = pos[:, N:].gather(1, nearest[..., None].expand(B, N, 2)) - pos[:, :N]
    if C.has_healer_agent:
        w = (alive[:, :N] & ~C.healer_agent).to(pos.dtype)
        centroid = (pos[:, :N] * w[..., None]).sum(1) / w.sum(1).clamp(min=1.0)[:, None]
        goal = torch.where(C.healer_agent[:, None], centroid[:, None, :] - pos[:, :N], goal)
        frac = env.health[:, :N] * C.inv_hp[:N]
        E = C.E
        frac_e = torch.cat([frac, frac.new_ones(B, max(E - N, 0))], 1)[:, :E]
        hurt = att_av & (frac_e < 1.0)[:, None, :]
        heal_t = frac_e[:, None, :].expand_as(hurt).masked_fill(~hurt, inf).argmin(-1) + 6
        target = torch.where(C.healer_agent, heal_t, target)
        near = torch.linalg.vector_norm(goal, dim=-1) < 2.0
        has_target = torch.where(C.healer_agent, hurt.any(-1), has_target)
        goal = goal * (~(near & C.healer_agent))[..., None]
    dots = (C.dirs[2:6] @ goal.transpose(1, 2)).transpose(1, 2)     # [B, N, 4]
    move_ok = avail[:, :, 2:6] & (dots > 0)
    move = dots.masked_fill(~move_ok, -inf).argmax(-1) + 2
    act = torch.where(has_target, target, torch.where(move_ok.any(-1), move, torch.ones_like(move)))
    return torch.where(alive[:, :N], act, torch.zeros_like(act))


def battle_outcomes(map_name: str, policy: str = "random", n_battles: int = 256, seed: int = 123,
                    **smac_kwargs) -> dict:
    """Play the first episode of ``n_battles`` environments with a reference policy; summarise them.

    Args:
        map_name: a SMAC map.
        policy: ``"random"`` (uniform over available actions) or ``"focus_fire"``.
        n_battles: number of battles (environments of one ``BatchedSMAC`` batch).
        seed: the simulator's seed and the random policy's generator seed (same numbers every run).
        **smac_kwargs: StarCraft2Env keywords, e.g. ``difficulty="1"``.
    Returns:
        ``{"win_rate", "timeout_rate", "mean_length"}`` (length in environment steps).
    """
    from .env import BatchedSMAC

    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; choose one of {POLICIES}")
    env = BatchedSMAC(map_name, n_battles, seed=seed, **smac_kwargs)
    nxt = env.reset()
    g = torch.Generator(device=env.device).manual_seed(seed)
    result = torch.full((n_battles,), -1, device=env.device)
    timeout = torch.zeros(n_battles, dtype=torch.bool, device=env.device)
    length = torch.zeros(n_battles, device=env.device)
    with torch.no_grad():
        for t in range(env.episode_limit + 1):
            a = random_policy(nxt["avail"], g) if policy == "random" else focus_fire_policy(env)
            nxt, _, term, info = env.step(a)
            newly = term & (result < 0)
            result = torch.where(newly, info["battle_won"].long(), result)
            timeout |= newly & info["episode_limit"]
            length = torch.where(newly, torch.full_like(length, t + 1), length)
            if bool((result >= 0).all()):
                break
    return {"win_rate": (result == 1).float().mean().item(), "timeout_rate": timeout.float().mean().item(),
            "mean_length": length.mean().item()}
