"""What the stores of both products share: identity, manifest, lock, shard writes, the position index,
the xarray backend, locations (a path or a URL), publishing."""

from .consolidated import consolidate
from .identity import FORMAT_VERSION, read_identity
from .manifest import Manifest

__all__ = ["FORMAT_VERSION", "Manifest", "consolidate", "read_identity"]
