"""The Pangolin model: configuration, network, checkpoints, ensembles, engines, fine-tuning head.

Names are imported on first use, so that torch-free parts (`pipeline.model.choices`) can be used
without importing torch.
"""

from importlib import import_module

_HOMES = {
    "fetch_weights": "checkpoints", "locate_weights": "checkpoints", "resolve_weights": "checkpoints",
    "user_weights_dir": "checkpoints", "TISSUES": "config", "ModelConfig": "config", "DTYPES": "ensemble",
    "ENSEMBLES": "ensemble", "Ensemble": "ensemble", "load_ensemble": "ensemble", "Pangolin": "network",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_HOMES[name]}", __name__), name)
