"""Checks for notebook 04 (independent Q-learning with parameter sharing)."""
from __future__ import annotations

import torch

from . import call_student, fail_unless, passed
from .quiz import Question

NEG = -1e9


# ----------------------------------------------------------------------------------------------------
# 4.1 agent inputs
# ----------------------------------------------------------------------------------------------------
def reference_agent_inputs(obs: torch.Tensor, last_actions_onehot: torch.Tensor) -> torch.Tensor:
    """``[o_i, onehot(u_{t-1}^i), onehot(i)]``: obs ``[B, N, O]``, last ``[B, N, A]`` -> ``[B, N, O + A + N]``."""
    B, N, _ = obs.shape
    ids = torch.eye(N, dtype=obs.dtype, device=obs.device).expand(B, N, N)
    return torch.cat([obs, last_actions_onehot.to(obs.dtype), ids], dim=-1)


def check_agent_inputs(fn) -> None:
    """Exercise 4.1: ``fn(obs [B, N, O], last_actions_onehot [B, N, A]) -> [B, N, O + A + N]``."""
    g = torch.Generator().manual_seed(0)
    for B, N, O, A in [(2, 3, 30, 9), (4, 5, 80, 11), (1, 2, 4, 3)]:
        obs = torch.rand(B, N, O, generator=g)
        acts = torch.randint(0, A, (B, N), generator=g)
        last = torch.nn.functional.one_hot(acts, A).float()
        got = call_student(fn, "4.1", obs.clone(), last.clone())
        fail_unless(isinstance(got, torch.Tensor), "4.1", f"return a torch.Tensor, got {type(got).__name__}")
        want = reference_agent_inputs(obs, last)
        if tuple(got.shape) != tuple(want.shape):
            hint = ""
            if got.shape[-1] == O + A:
                hint = " You left out the one-hot agent id (N more features)."
            elif got.shape[-1] == O + N:
                hint = " You left out the one-hot of the previous action (A more features)."
            fail_unless(False, "4.1", f"for B={B}, N={N}, O={O}, A={A} expected shape {tuple(want.shape)} "
                                      f"([B, N, O + A + N]), got {tuple(got.shape)}.{hint}")
        if not torch.allclose(got.float(), want, atol=1e-6):
            ids_part = got[..., O + A:]
            if torch.allclose(got[..., :O].float(), obs) and not torch.allclose(got[..., O:O + A].float(), last):
                hint = "the features after the observation should be the previous action's one-hot"
            elif not torch.allclose(ids_part.float(), want[..., O + A:]):
                hint = ("agent i's id is the i-th row of the N x N identity, the same in every environment "
                        "of the batch (torch.eye(N).expand(B, N, N))")
            else:
                hint = "concatenate in the order [observation, previous action one-hot, agent id one-hot]"
            fail_unless(False, "4.1", f"wrong values for B={B}, N={N}, O={O}, A={A}: {hint}.")
    passed("4.1", "one shared network can now tell the agents apart by the id at the end of their input")


# ----------------------------------------------------------------------------------------------------
# 4.2 masked epsilon-greedy
# ----------------------------------------------------------------------------------------------------
def _random_avail(shape, g, p=0.6) -> torch.Tensor:
    avail = torch.rand(shape, generator=g) < p
    first = torch.randint(0, shape[-1], shape[:-1], generator=g)
    avail.scatter_(-1, first.unsqueeze(-1), True)  # at least one available action per row
    return avail


def check_masked_epsilon_greedy(fn) -> None:
    """Exercise 4.2: ``fn(q [..., A], avail [..., A] bool, epsilon, generator) -> [...] long``.

    Checks: greedy (epsilon 0) is the argmax over available actions; no unavailable action is ever
    picked; epsilon 1 is uniform over the available actions; epsilon 0.3 picks the greedy action with
    probability 0.7 + 0.3 / k (k available actions).
    """
    g = torch.Generator().manual_seed(0)
    # (a) greedy = masked argmax, where the plain argmax is often unavailable
    q = torch.randn(64, 3, 9, generator=g)
    avail = _random_avail((64, 3, 9), g, p=0.4)
    q_masked_out_best = q.clone()
    q_masked_out_best[~avail] += 10.0  # the best raw value is always an unavailable action
    got = call_student(fn, "4.2", q_masked_out_best.clone(), avail.clone(), 0.0, torch.Generator().manual_seed(1))
    fail_unless(isinstance(got, torch.Tensor), "4.2", f"return a torch.Tensor of actions, got {type(got).__name__}")
    fail_unless(tuple(got.shape) == (64, 3), "4.2",
                f"for q of shape [64, 3, 9] return one action per agent, shape (64, 3); got {tuple(got.shape)}")
    fail_unless(not got.is_floating_point(), "4.2", f"actions must be integers (torch.long), got {got.dtype}")
    want = q_masked_out_best.masked_fill(~avail, NEG).argmax(-1)
    if not torch.equal(got.long(), want):
        plain = torch.equal(got.long(), q_masked_out_best.argmax(-1))
        fail_unless(False, "4.2", "with epsilon = 0 the action must be the argmax over AVAILABLE actions"
                    + (" (you took the argmax over all actions: set unavailable Q-values to -inf first)"
                       if plain else ""))
    # (b) and (c): epsilon = 1 -> uniform over the available actions, never an unavailable one
    n = 20_000
    q1 = torch.randn(9, generator=g).expand(n, 9).clone()
    avail1 = torch.zeros(n, 9, dtype=torch.bool)
    allowed = [1, 4, 6, 7]
    avail1[:, allowed] = True
    got = call_student(fn, "4.2", q1.clone(), avail1.clone(), 1.0, torch.Generator().manual_seed(2)).long()
    bad = (~avail1.gather(-1, got.unsqueeze(-1))).sum().item()
    fail_unless(bad == 0, "4.2", f"{bad} of {n} exploratory actions were UNAVAILABLE: draw the random action "
                                 "among the available ones only (e.g. sample from avail.float() with torch.multinomial)")
    freq = torch.bincount(got, minlength=9).float() / n
    fail_unless(bool((freq[allowed] - 1 / len(allowed)).abs().max() < 0.02), "4.2",
                f"with epsilon = 1 each of the {len(allowed)} available actions should be picked about 1/"
                f"{len(allowed)} of the time; got frequencies {[round(float(f), 3) for f in freq[allowed]]}")
    # (d) epsilon = 0.3 -> greedy with probability 0.7 + 0.3 / k
    greedy = int(q1[0].masked_fill(~avail1[0], NEG).argmax())
    got = call_student(fn, "4.2", q1.clone(), avail1.clone(), 0.3, torch.Generator().manual_seed(3)).long()
    p_greedy = float((got == greedy).float().mean())
    expect = 0.7 + 0.3 / len(allowed)
    hint = ""
    if abs(p_greedy - (0.3 + 0.7 / len(allowed))) < 0.02:
        hint = " It looks like epsilon is used as the probability of acting greedily: it is the probability of exploring."
    fail_unless(abs(p_greedy - expect) < 0.02, "4.2",
                f"with epsilon = 0.3 and {len(allowed)} available actions the greedy action should be picked with "
                f"probability 0.7 + 0.3/{len(allowed)} = {expect:.3f}; got {p_greedy:.3f}.{hint}")
    passed("4.2", "greedy over available actions, uniform exploration among them, never an illegal action")


# ----------------------------------------------------------------------------------------------------
# 4.3 IQL TD targets with double Q
# ----------------------------------------------------------------------------------------------------
def reference_iql_targets(reward, terminated, q_online_next, q_target_next, avail_next, gamma):
    """``y[b,t,i] = r[b,t] + gamma (1 - d[b,t]) Q^-_i(tau_{t+1}, argmax_{avail} Q_i(tau_{t+1}, .))``."""
    a_star = q_online_next.masked_fill(~avail_next.bool(), NEG).argmax(-1, keepdim=True)
    next_v = q_target_next.gather(-1, a_star).squeeze(-1)
    return reward.unsqueeze(-1) + gamma * (1.0 - terminated.float()).unsqueeze(-1) * next_v


def _iql_case(g, B=6, T=7, N=3, A=9):
    reward = torch.rand(B, T, generator=g)
    terminated = torch.zeros(B, T)
    terminated[: B // 2, -1] = 1.0  # half the episodes end for real at the last step
    terminated[0, 2] = 1.0
    q_on = torch.randn(B, T, N, A, generator=g)
    q_tg = torch.randn(B, T, N, A, generator=g)
    avail = _random_avail((B, T, N, A), g, p=0.5)
    q_on = q_on.masked_fill(~avail, 5.0)  # unavailable actions look best to the online network
    return reward, terminated, q_on, q_tg, avail


def check_iql_td_targets(fn) -> None:
    """Exercise 4.3: ``fn(reward [B,T], terminated [B,T], q_online_next [B,T,N,A], q_target_next [B,T,N,A],
    avail_next [B,T,N,A] bool, gamma) -> [B, T, N]``."""
    g = torch.Generator().manual_seed(0)
    for gamma in (0.99, 0.5):
        args = _iql_case(g)
        got = call_student(fn, "4.3", *[a.clone() for a in args], gamma)
        fail_unless(isinstance(got, torch.Tensor), "4.3", f"return a torch.Tensor, got {type(got).__name__}")
        want = reference_iql_targets(*args, gamma)
        fail_unless(tuple(got.shape) == tuple(want.shape), "4.3",
                    f"return one target per agent: shape [B, T, N] = {tuple(want.shape)}, got {tuple(got.shape)}")
        if torch.allclose(got, want, atol=1e-5):
            continue
        reward, terminated, q_on, q_tg, avail = args
        cont = (1.0 - terminated).unsqueeze(-1)
        variants = {
            "no_double": reward.unsqueeze(-1) + gamma * cont * q_tg.masked_fill(~avail, NEG).max(-1).values,
            "no_mask": reward.unsqueeze(-1) + gamma * cont * q_tg.gather(-1, q_on.argmax(-1, keepdim=True)).squeeze(-1),
            "no_term": reward.unsqueeze(-1) + gamma * reference_iql_targets(torch.zeros_like(reward), torch.zeros_like(terminated), q_on, q_tg, avail, 1.0),
            "online_eval": reward.unsqueeze(-1) + gamma * cont * q_on.masked_fill(~avail, NEG).max(-1).values,
        }
        hints = {
            "no_double": "that is the plain max of the target network; double Q lets the ONLINE network choose "
                         "a* = argmax over available actions and the TARGET network evaluate Q^-(a*)",
            "no_mask": "the online argmax must be taken over AVAILABLE actions only (mask the others with -inf)",
            "no_term": "multiply the bootstrap term by (1 - terminated): nothing follows a real end of episode",
            "online_eval": "a* is chosen by the online network but EVALUATED by the target network",
        }
        hint = next((hints[k] for k, v in variants.items() if torch.allclose(got, v, atol=1e-5)),
                    "y = r + gamma * (1 - terminated) * q_target_next[..., a*] with "
                    "a* = argmax over available actions of q_online_next")
        fail_unless(False, "4.3", f"wrong targets (gamma={gamma}): {hint}.")
    passed("4.3", "masked double-Q targets, one per agent, all agents regressing on the same team reward")

# ---------------------------------------------------------------------------------------------- concept check
QUIZ = [
    Question("q1", "Why does the shared agent network get the agent's id as input?",
             choices={"a": "so one network can still behave differently for each agent",
                      "b": "so training needs fewer env steps per iteration"}, answer="a",
             why="With shared parameters, identical observations would give identical actions; the one-hot id lets "
                 "the network specialise (on heterogeneous maps, unit types matter too)."),
    Question("q2", "An episode stops because it reached episode_limit. What is its last `terminated` flag?",
             choices={"a": "1: the episode is over", "b": "0: the battle was not over, so the target bootstraps"},
             answer="b",
             why="A timeout is not a terminal state of the game; cutting the bootstrap there would teach the agents "
                 "that the state is worth nothing."),
    Question("q3", "Do padded steps (filled = 0) contribute to the loss?",
             choices={"a": "yes, with target 0", "b": "no, the mask removes them"}, answer="b",
             why="The loss is a sum over real steps divided by their number; padding only exists to stack episodes "
                 "of different lengths."),
    Question("q4", "Why is each agent's learning problem non-stationary in IQL?",
             choices={"a": "its teammates, part of its environment, change their policies as they learn",
                      "b": "SMAC's rules change during training"}, answer="a",
             why="P_i(s', r | s, u^i) averages over the teammates' current policies, which keep changing."),
]
