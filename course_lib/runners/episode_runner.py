"""Collect whole episodes from ``n_envs`` batched environments (pymarl2's parallel-runner idea).

All environments step together as one tensor batch: one agent forward for ``[n_envs, N]`` agents per
step, one ``env.step``. Episodes of different environments end at different times; an environment that
finishes has its episode copied into the replay buffer and is reset on the spot (its row of the episode
storage, hidden state and last action are cleared), so no environment ever waits for the others and
no step is wasted. The runner's state (environment, partly played episodes, hidden states, RNG) persists
between :meth:`EpisodeRunner.collect` calls and is part of a checkpoint.

The runner drives the environment with ``auto_reset=False`` semantics (it calls ``env.reset(mask)``
itself) so that it sees the *final* observation and state of each episode: a timeout is not terminal for
the TD target, which must bootstrap from that final state (as pymarl does with ``episode_limit``).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Union

import torch
import torch.nn.functional as F

__all__ = ["select_actions", "EpisodeRunner", "RunnerStats", "greedy_episodes", "greedy_episode_steps"]


def select_actions(q: torch.Tensor, avail: torch.Tensor, epsilon: float,
                   generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Epsilon-greedy over AVAILABLE actions, independently for every agent.

    With probability ``epsilon`` an agent picks uniformly among its available actions, otherwise the
    available action with the largest Q (``epsilon = 0``: greedy). Unavailable actions are never picked.

    Args:
        q: ``[..., A]`` Q-values (e.g. ``[n_envs, N, A]``).
        avail: ``[..., A]`` bool (or 0/1) mask; every row must allow at least one action.
        epsilon: exploration probability in ``[0, 1]``.
        generator: ``torch.Generator`` on q's device for reproducible draws.
    Returns:
        ``[...]`` long actions.
    """
    if not 0.0 <= float(epsilon) <= 1.0:
        raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
    if q.shape != avail.shape:
        raise ValueError(f"q and avail must have the same shape, got {tuple(q.shape)} and {tuple(avail.shape)}")
    avail = avail.bool()
    if not bool(avail.any(dim=-1).all()):
        raise ValueError("select_actions: some agent has no available action (avail row all False)")
    greedy = q.masked_fill(~avail, float("-inf")).argmax(dim=-1)
    if epsilon <= 0.0:
        return greedy
    # uniform among available actions: argmax of uniform noise restricted to the available set
    noise = torch.rand(q.shape, generator=generator, device=q.device).masked_fill(~avail, -1.0)
    random_actions = noise.argmax(dim=-1)
    explore = torch.rand(q.shape[:-1], generator=generator, device=q.device) < float(epsilon)
    return torch.where(explore, random_actions, greedy)


@dataclass
class RunnerStats:
    """What one :meth:`EpisodeRunner.collect` call produced.

    Attributes:
        episodes: episodes completed (and written to the buffer).
        env_steps: environment steps taken, summed over the parallel environments.
        returns: ``[episodes]`` undiscounted return of each completed episode.
        won: ``[episodes]`` bool, battle won.
        lengths: ``[episodes]`` steps of each completed episode.
    """

    episodes: int
    env_steps: int
    returns: torch.Tensor
    won: torch.Tensor
    lengths: torch.Tensor

    @property
    def win_rate(self) -> float:
        """Fraction of completed episodes that were won (nan if none)."""
        return float(self.won.float().mean()) if self.episodes else float("nan")

    @property
    def mean_return(self) -> float:
        """Mean undiscounted return (nan if none)."""
        return float(self.returns.mean()) if self.episodes else float("nan")


def _dict_obs(nxt: Dict[str, torch.Tensor], device) -> Dict[str, torch.Tensor]:
    return {"obs": nxt["obs"].to(device).float(), "state": nxt["state"].to(device).float(),
            "avail": nxt["avail"].to(device).bool()}


class EpisodeRunner:
    """Collects epsilon-greedy episodes from a batched environment into an episode buffer.

    Args:
        env: a ``BatchedSMAC``-like environment (``n_envs`` parallel games) created with ``auto_reset=False``.
        mac: a :class:`~course_lib.learners.mac.MultiAgentController`.
        buffer: an :class:`~course_lib.buffers.episode.EpisodeReplayBuffer` (or None to only collect stats).
        seed: seeds the exploration generator.
        device: where the episode storage lives (default: the controller's device).
    """

    def __init__(self, env, mac, buffer=None, seed: int = 0, device: Union[str, torch.device, None] = None):
        self.env, self.mac, self.buffer = env, mac, buffer
        self.device = torch.device(device) if device is not None else mac.device
        self.B, self.N, self.A = env.n_envs, env.n_agents, env.n_actions
        self.O, self.S, self.T = env.obs_dim, env.state_dim, env.episode_limit
        if buffer is not None and buffer.episode_limit != self.T:
            raise ValueError(f"buffer.episode_limit={buffer.episode_limit} differs from env.episode_limit={self.T}")
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(int(seed))
        self.t_env = 0  # env steps taken by this runner
        self.episodes = 0  # episodes completed by this runner
        self._started = False

    # ------------------------------------------------------------------------------------------------
    def _alloc(self) -> None:
        B, T, N, z = self.B, self.T, self.N, dict(device=self.device)
        self.ep = {
            "obs": torch.zeros(B, T + 1, N, self.O, **z), "state": torch.zeros(B, T + 1, self.S, **z),
            "avail": torch.zeros(B, T + 1, N, self.A, dtype=torch.bool, **z),
            "actions": torch.zeros(B, T, N, dtype=torch.long, **z), "reward": torch.zeros(B, T, **z),
            "terminated": torch.zeros(B, T, **z), "filled": torch.zeros(B, T, **z),
        }
        self.t = torch.zeros(B, dtype=torch.long, **z)
        self.ep_return = torch.zeros(B, **z)
        self.hidden = self.mac.init_hidden(B)
        self.last_onehot = torch.zeros(B, N, self.A, **z)
        self.arange = torch.arange(B, **z)

    def start(self) -> None:
        """Reset every environment and clear the partly played episodes."""
        self._alloc()
        self.cur = _dict_obs(self.env.reset(), self.device)
        self._started = True

    def collect(self, n_episodes: int, epsilon: Union[float, Callable[[int], float]] = 0.0) -> RunnerStats:
        """Step all environments until at least ``n_episodes`` episodes have finished.

        Args:
            n_episodes: episodes to complete (several can end on the same step, so a few more may come).
            epsilon: a float, or a function of this runner's env-step counter (e.g. an
                :class:`~course_lib.schedules.EpsilonSchedule`), evaluated at every step.
        Returns:
            :class:`RunnerStats` of the completed episodes. They are already in the buffer.
        """
        if n_episodes <= 0:
            raise ValueError(f"n_episodes must be positive, got {n_episodes}")
        if not self._started:
            self.start()
        eps_fn = epsilon if callable(epsilon) else (lambda _t, e=float(epsilon): e)
        done_returns: List[torch.Tensor] = []
        done_won: List[torch.Tensor] = []
        done_len: List[torch.Tensor] = []
        completed, steps = 0, 0
        ar, ep = self.arange, self.ep
        with torch.no_grad():
            while completed < n_episodes:
                cur = self.cur
                q, self.hidden = self.mac.step(cur["obs"], self.last_onehot, self.hidden)
                actions = select_actions(q, cur["avail"], eps_fn(self.t_env), self.generator)
                t = self.t
                if bool((t >= self.T).any()):
                    raise RuntimeError(f"an episode ran past episode_limit={self.T} steps without terminating")
                ep["obs"][ar, t] = cur["obs"]
                ep["state"][ar, t] = cur["state"]
                ep["avail"][ar, t] = cur["avail"]
                ep["actions"][ar, t] = actions
                nxt, reward, terminated, info = self.env.step(actions)
                nxt = _dict_obs(nxt, self.device)
                reward = reward.to(self.device).float()
                terminated = terminated.to(self.device).bool()
                timeout = info["episode_limit"].to(self.device).bool() if "episode_limit" in info else torch.zeros_like(terminated)
                ep["reward"][ar, t] = reward
                ep["terminated"][ar, t] = (terminated & ~timeout).float()
                ep["filled"][ar, t] = 1.0
                self.ep_return += reward
                self.t = t + 1
                self.last_onehot = F.one_hot(actions, self.A).float()
                self.t_env += self.B
                steps += self.B
                if bool(terminated.any()):
                    idx = terminated.nonzero(as_tuple=True)[0]
                    tf = self.t[idx]
                    ep["obs"][idx, tf] = nxt["obs"][idx]
                    ep["state"][idx, tf] = nxt["state"][idx]
                    ep["avail"][idx, tf] = nxt["avail"][idx]
                    if self.buffer is not None:
                        self.buffer.insert({**{k: v[idx] for k, v in ep.items()}, "lengths": tf})
                    done_returns.append(self.ep_return[idx].clone())
                    done_won.append(info["battle_won"].to(self.device).bool()[idx])
                    done_len.append(tf.clone())
                    completed += int(idx.numel())
                    # restart the finished games and clear their rows
                    nxt = _dict_obs(self.env.reset(terminated), self.device)
                    for v in ep.values():
                        v[idx] = 0
                    self.t[idx] = 0
                    self.ep_return[idx] = 0.0
                    self.hidden[idx] = 0.0
                    self.last_onehot[idx] = 0.0
                self.cur = nxt
        self.episodes += completed
        return RunnerStats(episodes=completed, env_steps=steps, returns=torch.cat(done_returns),
                           won=torch.cat(done_won), lengths=torch.cat(done_len))

    # ------------------------------------------------------------------------------------------------
    def state_dict(self) -> Dict[str, object]:
        """Everything needed to continue collecting exactly where this runner stopped.

        Includes the environment itself (a deep copy: BatchedSMAC holds only tensors and generators),
        the partly played episodes, hidden states, last actions and the exploration generator.
        """
        sd: Dict[str, object] = {"generator": self.generator.get_state(), "t_env": self.t_env,
                                 "episodes": self.episodes, "started": self._started}
        if self._started:
            env_sd = self.env.state_dict() if hasattr(self.env, "state_dict") else copy.deepcopy(self.env)
            sd.update({"env": env_sd, "ep": {k: v.clone() for k, v in self.ep.items()}, "t": self.t.clone(),
                       "ep_return": self.ep_return.clone(), "hidden": self.hidden.clone(),
                       "last_onehot": self.last_onehot.clone(), "cur": {k: v.clone() for k, v in self.cur.items()}})
        return sd

    def load_state_dict(self, sd: Dict[str, object]) -> None:
        """Restore what :meth:`state_dict` saved (replaces ``self.env`` when the env was saved as an object)."""
        self.generator.set_state(sd["generator"])
        self.t_env, self.episodes = int(sd["t_env"]), int(sd["episodes"])
        if not sd["started"]:
            self._started = False
            return
        env_sd = sd["env"]
        if hasattr(self.env, "load_state_dict") and isinstance(env_sd, dict):
            self.env.load_state_dict(env_sd)
        else:
            self.env = env_sd
        self._alloc()
        for k, v in sd["ep"].items():
            self.ep[k].copy_(v)
        self.t.copy_(sd["t"])
        self.ep_return.copy_(sd["ep_return"])
        self.hidden = sd["hidden"].to(self.device).clone()
        self.last_onehot = sd["last_onehot"].to(self.device).clone()
        self.cur = {k: v.to(self.device).clone() for k, v in sd["cur"].items()}
        self._started = True


def greedy_episodes(env, mac, n_episodes: Optional[int] = None) -> Dict[str, object]:
    """Play one greedy episode in each of ``env.n_envs`` games (or the first ``n_episodes``) from a full reset.

    Works with ``auto_reset`` True or False: a game that ends is no longer recorded; it restarts and
    keeps playing a new episode whose data are ignored, so that the batch can step on. No randomness is
    drawn here (greedy actions); the environment's own generator decides the start positions. Returns ``{"win_rate", "return", "won": [k],
    "returns": [k], "lengths": [k]}``.
    """
    B = env.n_envs
    k = B if n_episodes is None else int(n_episodes)
    if not 0 < k <= B:
        raise ValueError(f"n_episodes must be in 1..{B} (env.n_envs), got {n_episodes}")
    dev = mac.device
    cur = _dict_obs(env.reset(), dev)
    hidden = mac.init_hidden(B)
    last = torch.zeros(B, env.n_agents, env.n_actions, device=dev)
    active = torch.ones(B, dtype=torch.bool, device=dev)
    ret = torch.zeros(B, device=dev)
    won = torch.zeros(B, dtype=torch.bool, device=dev)
    length = torch.zeros(B, dtype=torch.long, device=dev)
    was_training = mac.training
    mac.eval()
    with torch.no_grad():
        for _ in range(env.episode_limit + 1):
            q, hidden = mac.step(cur["obs"], last, hidden)
            actions = select_actions(q, cur["avail"], 0.0)
            nxt, reward, terminated, info = env.step(actions)
            terminated = terminated.to(dev).bool()
            ret += reward.to(dev).float() * active
            length += active.long()
            won |= active & info["battle_won"].to(dev).bool()
            active &= ~terminated
            last = F.one_hot(actions, env.n_actions).float()
            if not bool(active[:k].any()):
                break
            if bool(terminated.any()):
                # the finished games keep playing (ignored) so that the batch can step on
                if not getattr(env, "auto_reset", True):
                    nxt = env.reset(terminated)
                hidden[terminated] = 0.0
                last[terminated] = 0.0
            cur = _dict_obs(nxt, dev)
    mac.train(was_training)
    return {"win_rate": float(won[:k].float().mean()), "return": float(ret[:k].mean()), "won": won[:k].cpu(),
            "returns": ret[:k].cpu(), "lengths": length[:k].cpu()}


def greedy_episode_steps(env, mac, max_steps: Optional[int] = None, snapshots: bool = False):
    """Play one greedy episode in game 0 of ``env`` (created with ``auto_reset=False``) and yield every step.

    The one loop behind the pictures of a trained team (ACORM's roles and attention, MIXRTs' feature
    importance): each yielded dict holds, for the step just taken, ``obs [N, O]``, ``state [S]``,
    ``avail [N, A]``, ``last_onehot [N, A]`` (the previous actions, as the agents read them),
    ``hidden_in`` / ``hidden [N, H]`` (recurrent state before / after the step), ``q [N, A]``,
    ``actions [N]``, ``reward`` (float), ``terminated`` and ``won`` (bool) and, with ``snapshots``,
    ``snapshot_before`` / ``snapshot`` (the game before / after the step, for the replay). Runs without gradients, with the controller in eval mode (restored after).
    """
    dev = mac.device
    N, A = mac.n_agents, mac.n_actions
    cur = env.reset()
    hidden = mac.init_hidden(1)
    last = torch.zeros(1, N, A, device=dev)
    limit = env.episode_limit if max_steps is None else int(max_steps)
    was_training = mac.training
    mac.eval()
    try:
        with torch.no_grad():
            for _ in range(limit):
                obs, state, avail = cur["obs"].to(dev).float(), cur["state"].to(dev).float(), cur["avail"].to(dev).bool()
                hidden_in = hidden
                before = env.snapshot(0) if snapshots else None
                q, hidden = mac.step(obs, last, hidden)
                actions = select_actions(q, avail, 0.0)
                cur, reward, terminated, info = env.step(actions)
                done = bool(terminated[0])
                step = {"obs": obs[0], "state": state[0], "avail": avail[0], "last_onehot": last[0],
                        "hidden_in": hidden_in[0], "hidden": hidden[0], "q": q[0], "actions": actions[0],
                        "reward": float(reward[0]), "terminated": done,
                        "won": bool(info["battle_won"][0]) if done else False}
                if snapshots:
                    step["snapshot_before"], step["snapshot"] = before, env.snapshot(0)
                last = F.one_hot(actions, A).float()
                yield step
                if done:
                    break
    finally:
        mac.train(was_training)
