"""DQN, double DQN and DRQN training on a single-agent gymnasium task (notebook 02).

* DQN (Mnih et al., 2015): an MLP Q-network, uniform transition replay, a target network copied every
  ``target_update`` steps, Huber loss on ``Q(s, a) - y``.
* Double DQN (van Hasselt et al., 2016): same, with :func:`~course_lib.dqn.targets.double_dqn_target`.
* DRQN (Hausknecht & Stone, 2015): the recurrent agent of the multi-agent methods
  (:class:`course_lib.agents.rnn.RNNAgent`, input = observation + one-hot previous action), trained on
  windows of whole stored episodes (:class:`~course_lib.dqn.sequence_replay.SequenceReplayBuffer`).
"""
from __future__ import annotations

import copy
from typing import Optional, Union

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from course_lib.progress import progress as tqdm

from course_lib.agents.rnn import RNNAgent
from course_lib.buffers.replay import ReplayBuffer
from course_lib.schedules import EpsilonSchedule
from course_lib import threads
from course_lib.utils import resolve_device, set_seed

from .envs import make_env
from .networks import QNetwork
from .sequence_replay import SequenceReplayBuffer
from .targets import double_dqn_target, dqn_target

__all__ = ["train_dqn", "algo_name", "drqn_inputs"]


def algo_name(double: bool, recurrent: bool) -> str:
    """``"DQN"``, ``"Double DQN"``, ``"DRQN"`` or ``"Double DRQN"``."""
    return ("Double " if double else "") + ("DRQN" if recurrent else "DQN")


def drqn_inputs(obs: torch.Tensor, prev_action: torch.Tensor, n_actions: int) -> torch.Tensor:
    """RNNAgent input ``[..., obs_dim + n_actions]``: the observation and the one-hot previous action.

    ``obs: [..., obs_dim]``, ``prev_action: [...]`` int with -1 for "no previous action" (all zeros).
    """
    one_hot = F.one_hot(prev_action.clamp(min=0), n_actions).to(obs.dtype)
    one_hot = one_hot * (prev_action >= 0).unsqueeze(-1).to(obs.dtype)
    return torch.cat([obs, one_hot], dim=-1)


def _greedy_or_random(q: torch.Tensor, epsilon: float, rng: np.random.Generator) -> int:
    if rng.random() < epsilon:
        return int(rng.integers(q.shape[-1]))
    return int(q.argmax().item())


def _adam(params, lr: float) -> torch.optim.Optimizer:
    """Adam, using the fused kernel where this PyTorch build has one for the device (same maths, faster)."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr)


def train_dqn(
    env_id: str,
    steps: int,
    double: bool = False,
    recurrent: bool = False,
    seed: int = 0,
    device: Union[str, torch.device] = "cpu",
    *,
    gamma: float = 0.99,
    lr: float = 1e-3,
    batch_size: int = 64,
    buffer_size: int = 50_000,
    learning_starts: int = 500,
    train_every: int = 1,
    target_update: int = 500,
    epsilon: Optional[EpsilonSchedule] = None,
    hidden_dim: int = 64,
    seq_len: int = 8,
    grad_clip: float = 10.0,
    progress: bool = True,
    label: Optional[str] = None,
    return_agent: bool = False,
):
    """Train a DQN-family agent for ``steps`` environment steps and return its learning curve.

    Args:
        env_id: a :func:`~course_lib.dqn.envs.make_env` id, e.g. ``"CartPole-v1"`` or ``"CartPole-NoVelocity"``.
        steps: environment steps (the budget).
        double: use the double-DQN target.
        recurrent: DRQN (GRU ``RNNAgent`` over observation + previous action) instead of the MLP.
        seed: seeds PyTorch, the exploration, the replay sampling and the environment.
        device: ``"cpu"``, ``"cuda"``, ``"auto"`` ...; every tensor lives there.
        gamma, lr: discount and Adam learning rate.
        batch_size: transitions per update (DQN) or windows per update (DRQN).
        buffer_size: replay capacity in transitions.
        learning_starts: environment steps collected before the first update.
        train_every: one gradient step every this many environment steps.
        target_update: copy the online network into the target network every this many steps.
        epsilon: exploration schedule over environment steps; default 1.0 -> 0.05 over the first 25%
            of ``steps``.
        hidden_dim: width of the MLP layers / the GRU.
        seq_len: window length for DRQN.
        grad_clip: gradient-norm clip.
        progress: show a progress bar (:func:`course_lib.progress.progress`).
        label: the ``algo`` column; default from :func:`algo_name`.
        return_agent: also return the trained online network.
    Returns:
        A DataFrame with one row per finished episode and columns ``episode, step, return,
        disc_return, q_start, length, algo, env, seed``: ``step`` = environment steps taken when the
        episode ended, ``disc_return`` = the discounted return from the first step, ``q_start`` = the
        network's ``max_a Q`` at the episode's first observation (what it *predicted* ``disc_return``
        would be, under its greedy policy); with
        ``return_agent=True`` the tuple ``(df, network)``.
    """
    if not isinstance(steps, (int, np.integer)) or steps <= 0:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    for name, v in (("batch_size", batch_size), ("buffer_size", buffer_size), ("train_every", train_every),
                    ("target_update", target_update), ("hidden_dim", hidden_dim), ("seq_len", seq_len)):
        if not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if learning_starts < batch_size and not recurrent:
        raise ValueError(f"learning_starts ({learning_starts}) must be >= batch_size ({batch_size}) to fill a first batch")
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    if epsilon is None:
        epsilon = EpsilonSchedule(1.0, 0.05, max(1, int(steps) // 4))
    if not isinstance(epsilon, EpsilonSchedule):
        raise TypeError(f"epsilon must be a course_lib.schedules.EpsilonSchedule, got {type(epsilon).__name__}")
    dev = resolve_device(device)
    threads.apply(dev)
    env = make_env(env_id)  # raises a clear ValueError on an unknown id
    set_seed(seed)
    rng = np.random.default_rng(seed)
    obs_dim = int(np.prod(env.observation_space.shape))
    n_actions = int(env.action_space.n)
    label = label or algo_name(double, recurrent)

    if recurrent:
        net = RNNAgent(obs_dim + n_actions, n_actions, hidden_dim).to(dev)
        buffer = SequenceReplayBuffer(buffer_size, obs_dim, device=dev, seed=seed)
    else:
        net = QNetwork(obs_dim, n_actions, (hidden_dim, hidden_dim)).to(dev)
        buffer = ReplayBuffer(buffer_size, (obs_dim,), device=dev, seed=seed)
    target_net = copy.deepcopy(net)
    target_net.requires_grad_(False)
    optimiser = _adam(net.parameters(), lr)
    target_fn = double_dqn_target if double else dqn_target

    def update() -> float:
        if recurrent:
            b = buffer.sample(batch_size, seq_len)
            x = drqn_inputs(b["obs"], b["prev_action"], n_actions)  # [B, L+1, obs+act]
            h, h_t = net.init_hidden(batch_size), target_net.init_hidden(batch_size)
            qs, qs_t = [], []
            for k in range(seq_len + 1):
                q, h = net(x[:, k], h)
                qs.append(q)
                with torch.no_grad():
                    q_t, h_t = target_net(x[:, k], h_t)
                qs_t.append(q_t)
            q_all, q_all_t = torch.stack(qs, 1), torch.stack(qs_t, 1)  # [B, L+1, A]
            q_taken = q_all[:, :-1].gather(-1, b["action"].unsqueeze(-1)).squeeze(-1)  # [B, L]
            y = target_fn(b["reward"], q_all[:, 1:].detach(), q_all_t[:, 1:], b["done"], gamma) if double \
                else target_fn(b["reward"], q_all_t[:, 1:], b["done"], gamma)
            loss = (F.smooth_l1_loss(q_taken, y, reduction="none") * b["mask"]).sum() / b["mask"].sum()
        else:
            b = buffer.sample(batch_size)
            q_taken = net(b["obs"]).gather(1, b["action"].unsqueeze(1)).squeeze(1)  # [B]
            with torch.no_grad():
                next_t = target_net(b["next_obs"])  # [B, A]
                y = target_fn(b["reward"], net(b["next_obs"]), next_t, b["done"], gamma) if double \
                    else target_fn(b["reward"], next_t, b["done"], gamma)
            loss = F.smooth_l1_loss(q_taken, y)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), grad_clip)
        optimiser.step()
        return float(loss.item())

    rows = []
    obs, _ = env.reset(seed=int(seed))
    ep_obs, ep_act, ep_rew = [obs], [], []
    ep_return, ep_disc, ep_len, episode, q_start = 0.0, 0.0, 0, 0, float("nan")
    hidden = net.init_hidden(1) if recurrent else None
    prev_a = -1
    bar = tqdm(range(int(steps)), desc=f"{label} {env_id} seed {seed}", disable=not progress, unit="step",
               mininterval=0.5)
    for t in bar:
        with torch.no_grad():
            o = torch.as_tensor(np.asarray(obs, dtype=np.float32), device=dev).unsqueeze(0)
            if recurrent:
                x = drqn_inputs(o, torch.tensor([prev_a], device=dev), n_actions)
                q, hidden = net(x, hidden)
            else:
                q = net(o)
        if ep_len == 0:
            q_start = float(q[0].max().item())
        a = _greedy_or_random(q[0], epsilon(t), rng)
        next_obs, r, terminated, truncated, _ = env.step(a)
        ep_return += float(r)
        ep_disc += gamma ** ep_len * float(r)
        ep_len += 1
        if recurrent:
            ep_obs.append(next_obs)
            ep_act.append(a)
            ep_rew.append(r)
        else:
            buffer.add(obs, a, r, next_obs, terminated)
        obs, prev_a = next_obs, a
        if terminated or truncated:
            if recurrent:
                term = np.zeros(ep_len, dtype=np.float32)
                term[-1] = float(terminated)
                buffer.add_episode(np.stack(ep_obs), ep_act, ep_rew, term)
            rows.append({"episode": episode, "step": t + 1, "return": ep_return, "disc_return": ep_disc,
                         "q_start": q_start, "length": ep_len})
            episode += 1
            obs, _ = env.reset()
            ep_obs, ep_act, ep_rew = [obs], [], []
            ep_return, ep_disc, ep_len, prev_a = 0.0, 0.0, 0, -1
            if recurrent:
                hidden = net.init_hidden(1)
            if progress:
                recent = [row["return"] for row in rows[-10:]]
                bar.set_postfix(episodes=episode, mean_return_last_10=f"{np.mean(recent):.1f}", refresh=False)
        if t + 1 >= learning_starts and (t + 1) % train_every == 0 and len(buffer) >= batch_size:
            update()
        if (t + 1) % target_update == 0:
            target_net.load_state_dict(net.state_dict())
    bar.close()
    env.close()
    df = pd.DataFrame(rows, columns=["episode", "step", "return", "disc_return", "q_start", "length"])
    df["algo"], df["env"], df["seed"] = label, env_id, int(seed)
    return (df, net) if return_agent else df
