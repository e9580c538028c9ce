"""A tiny batched battle that obeys the BatchedSMAC contract, for tests that must not depend on the simulator.

N allies start 2 cells west of the enemies; "east" moves one cell closer, "west" one back. At distance 0
an ally may attack any living enemy (action 6 + j): 1 damage out of 3 health. Each step every living enemy
hits one random ally at distance 0 with probability 0.5. Won when every enemy is dead; lost when every
ally is dead; a timeout at ``episode_limit`` steps. Rewards: damage + 1 per kill + 5 for a win, scaled so
a perfect episode returns about 20 (like SMAC).
"""
from __future__ import annotations

import torch


class FakeBatchedSMAC:
    def __init__(self, map_name="fake3", n_envs=4, device="cpu", seed=0, auto_reset=True, n_agents=3,
                 episode_limit=20, **kwargs):
        if kwargs:
            raise TypeError(f"unknown options {sorted(kwargs)}")
        self.map_name, self.n_envs, self.device = map_name, n_envs, torch.device(device)
        self.n_agents = n_agents
        self.n_enemies = n_agents
        self.n_actions = 6 + self.n_enemies
        self.episode_limit = episode_limit
        self.auto_reset = auto_reset
        self.obs_dim = 4 + 2 * self.n_enemies + 2
        self.state_dim = 2 * n_agents + self.n_enemies + n_agents * self.n_actions
        self.gen = torch.Generator(device=self.device).manual_seed(seed)
        B, N, E = n_envs, n_agents, self.n_enemies
        z = dict(device=self.device)
        self.ally_hp = torch.zeros(B, N, **z)
        self.dist = torch.zeros(B, N, dtype=torch.long, **z)
        self.enemy_hp = torch.zeros(B, E, **z)
        self.t = torch.zeros(B, dtype=torch.long, **z)
        self.last_actions = torch.zeros(B, N, dtype=torch.long, **z)
        self.max_reward = 3.0 * E + 1.0 * E + 5.0
        self.stats = {"battles_won": 0, "battles_game": 0, "battles_draw": 0, "timeouts": 0, "restarts": 0}
        self.reset()

    def get_env_info(self):
        return {"state_shape": self.state_dim, "obs_shape": self.obs_dim, "n_actions": self.n_actions,
                "n_agents": self.n_agents, "episode_limit": self.episode_limit}

    def get_stats(self):
        s = dict(self.stats)
        s["win_rate"] = s["battles_won"] / max(s["battles_game"], 1)
        return s

    def _reset_rows(self, m):
        self.ally_hp[m] = 3.0
        self.dist[m] = 2
        self.enemy_hp[m] = 3.0
        self.t[m] = 0
        self.last_actions[m] = -1

    def reset(self, mask=None):
        if mask is None:
            mask = torch.ones(self.n_envs, dtype=torch.bool, device=self.device)
        self._reset_rows(mask.to(self.device))
        return self._observe()

    def _avail(self):
        alive = self.ally_hp > 0
        B, N, A = self.n_envs, self.n_agents, self.n_actions
        av = torch.zeros(B, N, A, dtype=torch.bool, device=self.device)
        av[..., 0] = ~alive
        av[..., 1] = alive
        av[..., 4] = alive & (self.dist > 0)  # east
        av[..., 5] = alive & (self.dist < 3)  # west
        in_range = alive & (self.dist == 0)
        av[..., 6:] = in_range.unsqueeze(-1) & (self.enemy_hp > 0).unsqueeze(1)
        return av

    def _observe(self):
        av = self._avail()
        alive = (self.ally_hp > 0).float()
        B, N, E = self.n_envs, self.n_agents, self.n_enemies
        move = av[..., 2:6].float()
        en = torch.stack([av[..., 6:].float(), (self.enemy_hp / 3.0).unsqueeze(1).expand(B, N, E)], -1).reshape(B, N, 2 * E)
        own = torch.stack([self.ally_hp / 3.0, self.dist.float() / 3.0], -1)
        obs = torch.cat([move, en, own], -1) * alive.unsqueeze(-1)
        la = torch.nn.functional.one_hot(self.last_actions.clamp(min=0), self.n_actions).float()
        la = la * (self.last_actions >= 0).float().unsqueeze(-1)
        state = torch.cat([self.ally_hp / 3.0, self.dist.float() / 3.0, self.enemy_hp / 3.0, la.reshape(B, -1)], -1)
        return {"obs": obs, "state": state, "avail": av}

    def step(self, actions):
        actions = actions.to(self.device)
        av = self._avail()
        ok = av.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
        if not bool(ok.all()):
            raise ValueError("FakeBatchedSMAC: an unavailable action was chosen")
        B, N, E = self.n_envs, self.n_agents, self.n_enemies
        self.last_actions = actions.clone()
        self.dist = self.dist - (actions == 4).long() + (actions == 5).long()
        # damage to enemies
        tgt = actions - 6
        dmg = torch.zeros(B, E, device=self.device)
        att = tgt >= 0
        dmg.scatter_add_(1, tgt.clamp(min=0), att.float())
        before = self.enemy_hp.clone()
        self.enemy_hp = (self.enemy_hp - dmg).clamp(min=0)
        dealt = (before - self.enemy_hp).sum(1)
        kills = ((before > 0) & (self.enemy_hp <= 0)).float().sum(1)
        # enemies hit back
        exposed = (self.ally_hp > 0) & (self.dist == 0)
        n_att = ((self.enemy_hp > 0).float().sum(1))
        for _ in range(E):
            pick = torch.rand(B, N, generator=self.gen, device=self.device) * exposed.float()
            who = pick.argmax(1)
            hit = (torch.rand(B, generator=self.gen, device=self.device) < 0.5) & exposed.any(1) & (n_att > 0)
            self.ally_hp[torch.arange(B, device=self.device), who] -= hit.float()
            n_att = n_att - 1
        self.ally_hp = self.ally_hp.clamp(min=0)
        self.t += 1
        won = (self.enemy_hp <= 0).all(1)
        lost = (self.ally_hp <= 0).all(1) & ~won
        timeout = (self.t >= self.episode_limit) & ~won & ~lost
        terminated = won | lost | timeout
        reward = (dealt + kills + 5.0 * won.float()) / self.max_reward * 20.0
        info = {"battle_won": won, "dead_allies": (self.ally_hp <= 0).sum(1), "dead_enemies": (self.enemy_hp <= 0).sum(1),
                "episode_limit": timeout}
        n_done = int(terminated.sum())
        self.stats["battles_game"] += n_done
        self.stats["battles_won"] += int(won.sum())
        self.stats["timeouts"] += int(timeout.sum())
        self.stats["battles_draw"] += int(timeout.sum())
        if self.auto_reset and n_done:
            self._reset_rows(terminated)
        return self._observe(), reward, terminated, info


def fake_factory(map_name, n_envs, device="cpu", seed=0, auto_reset=True, **kwargs):
    """``env_factory`` for ``train``/``evaluate`` that builds the fake battle (map_name is only a label)."""
    return FakeBatchedSMAC(map_name, n_envs, device=device, seed=seed, auto_reset=auto_reset, **kwargs)


def real_smac_available() -> bool:
    try:
        from course_lib.envs import BatchedSMAC  # noqa: F401
    except Exception:
        return False
    return True
