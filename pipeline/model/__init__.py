"""The Pangolin model: configuration, network, checkpoints, ensembles, engines, fine-tuning head."""

from .checkpoints import fetch_weights, locate_weights, resolve_weights, user_weights_dir
from .config import TISSUES, ModelConfig
from .ensemble import DTYPES, ENSEMBLES, Ensemble, load_ensemble
from .network import Pangolin

__all__ = [
    "DTYPES",
    "ENSEMBLES",
    "TISSUES",
    "Ensemble",
    "ModelConfig",
    "Pangolin",
    "fetch_weights",
    "locate_weights",
    "load_ensemble",
    "resolve_weights",
    "user_weights_dir",
]
