"""Deep Q-networks for notebook 02: environments, the Q-network, TD targets, training and plots."""
from .envs import NoVelocityObservation, list_envs, make_env
from .networks import QNetwork
from .sequence_replay import SequenceReplayBuffer
from .targets import double_dqn_target, dqn_target
from .train import algo_name, drqn_inputs, train_dqn

__all__ = [
    "make_env", "list_envs", "NoVelocityObservation", "QNetwork", "SequenceReplayBuffer",
    "dqn_target", "double_dqn_target", "train_dqn", "algo_name", "drqn_inputs",
]
