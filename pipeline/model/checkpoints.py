"""Finding, verifying, loading and fetching the official Pangolin v2 checkpoints.

Weights are never shipped with the package (GPL-3.0, 24 files). They are found from, in order:
an explicit path (argument or ``--weights``), the ``PANGOLIN_WEIGHTS`` environment variable, the
``weights`` key of the config file, the per-user data directory that ``weights fetch`` fills.
A path that is given but missing or incomplete is an error.
Every file is verified against the SHA-256 values below before it is loaded.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import torch
from platformdirs import user_data_path

from ..errors import WeightsError
from ..genome.digest import sha256_file
from .config import ModelConfig
from .network import Pangolin

APP_NAME = "pangolin-pipeline"
WEIGHTS_ENV = "PANGOLIN_WEIGHTS"
OFFICIAL_URL = "https://raw.githubusercontent.com/tkzeng/Pangolin/main/pangolin/models"

# SHA-256 of the official v2 release (tkzeng/Pangolin, pangolin/models/final.{j}.{i}.3.v2).
SHA256: dict[str, str] = {
    "final.1.0.3.v2": "f0478fab173b75f7f7e9fe96688bad6c50fa4a46d70557f423b110caaf565501",
    "final.1.1.3.v2": "ef5b00dda6bd7e0f70e6544a425801a9bfc214560801b38fd771b1feefd040e6",
    "final.1.2.3.v2": "559c05de3e1ce65c2515ca3e92ef85edb0ec2e47686ca58060e25891ce06eb3a",
    "final.1.3.3.v2": "d36e3aca05de107f09f731e5617735f66ab9ca5e5292f9993b665863c26e9ad1",
    "final.1.4.3.v2": "c50b12e0c0af776d5674ca5e346493f8265783494d4df383364de9c1136657f6",
    "final.1.5.3.v2": "3744c1daba199532ef4ea8df108d777ed5a5678370e3f55c73de0bc97f1ca4b7",
    "final.1.6.3.v2": "2aae563fa18a8a9b6699c6c96e0d32b8ec7543f8f805fb3bc9de77302cc9f66e",
    "final.1.7.3.v2": "cc1459a904d9cb99f53d4c13ceebbc7baaabf5acbe5c44b4a0b7556a89b71457",
    "final.2.0.3.v2": "c4c6bb4880fa6fb28b14182ae3ea0600edb07056158f55325b5e6e6e48fc9f26",
    "final.2.1.3.v2": "1d7240c78b2b25356811d1e5d0c90b7525e52043bc44ea867a7ed0e283837b6c",
    "final.2.2.3.v2": "48758ba8b95eee9aa9feea52672ef06ca1b34111299c27f8a710f734d8b9aae5",
    "final.2.3.3.v2": "53208adf4c0d6950aa1670fc8e1b73ea69db7207437b2fdcbb051f550dc448e7",
    "final.2.4.3.v2": "e03303bed4fd6f135ec0f6c1b192cce954ea42d0646f44d17b4a6fbb2b1f610e",
    "final.2.5.3.v2": "bb6c3ababf91c1a45147c11dd0e3450a8fe61e1010ba6cb90152f183e7a4d524",
    "final.2.6.3.v2": "7d3c0b1b2a60067b940dec315567874fbc8bcd322f1b7c76bf969f51f0f53f7f",
    "final.2.7.3.v2": "007993341045ada7a89a49625e216a81b4bb1f29f740dc04ab3a07af2a63b528",
    "final.3.0.3.v2": "ec685a6e7105a4486c1f89a005458a13deb3fe7171f13d434f4877e386d10676",
    "final.3.1.3.v2": "c8590097910bc5b9518432112f1bbc1bcf8e4942d46141d271fea35c30780c16",
    "final.3.2.3.v2": "7cb576c2b24db4fdd6970c4ca4fb7c20ae1b1d8ae80645ebbe689848b5743129",
    "final.3.3.3.v2": "3283e7f511b35ce7546d1fb9578d2df8bb9a1a8ebb640904b1efb04586e8ce55",
    "final.3.4.3.v2": "9476d2e25520d7ff15bece0cd5d3b657e3b1dd3cc5fcab1d9c3b62bea7a0c5b6",
    "final.3.5.3.v2": "c402162d525501b71227128f96c0f8716d3ccf07150dfb7a3d15d9ee8a98f5fb",
    "final.3.6.3.v2": "756e7721a382cace24e9bfea5b543af5623f2487d9a3efe7385e9c76367005fd",
    "final.3.7.3.v2": "373faffbe02a74d444ee6ce47f8493b478da23027e4688c94b0c082f419e8f0a",
}


def checkpoint_name(replicate: int, target: int) -> str:
    """File name of replicate j (1-based) trained for target i (tissue = i // 2; odd i: usage)."""
    return f"final.{replicate}.{target}.3.v2"


@dataclass(frozen=True)
class WeightsLocation:
    """Where the weights directory is and why that one was chosen."""

    path: Path
    source: str  # "--weights", "$PANGOLIN_WEIGHTS", "config", "user directory"
    reason: str  # completes "because ..."

    def describe(self) -> str:
        return f"using weights from {self.path} (because {self.reason})"


def user_weights_dir() -> Path:
    """The per-user home of the weights (``weights fetch`` downloads here by default).

    On Linux ``$XDG_DATA_HOME/pangolin-pipeline/weights/pangolin-v2`` (``~/.local/share/...``
    when unset), the platform's equivalent elsewhere.
    """
    return user_data_path(APP_NAME, appauthor=False) / "weights" / "pangolin-v2"


def locate_weights(explicit: str | os.PathLike | None = None, configured: str | None = None,
                   must_exist: bool = True) -> WeightsLocation:
    """The weights directory and why: ``--weights`` > ``$PANGOLIN_WEIGHTS`` > config file > user directory.

    A path that is given (by any of the first three) is used as is: missing is an error, not a
    reason to look further. ``must_exist=False`` (for ``weights fetch``) skips existence checks.

    Raises
    ------
    WeightsError
        If the chosen directory does not exist, or nothing is set and the user directory is empty.
    """
    for source, value, reason in (
        ("--weights", explicit, "--weights was given"),
        (f"${WEIGHTS_ENV}", os.environ.get(WEIGHTS_ENV), f"${WEIGHTS_ENV} is set"),
        ("config", configured, "the config file sets 'weights'"),
    ):
        if value:
            path = Path(value).expanduser()
            if must_exist and not path.is_dir():
                raise WeightsError(f"weights directory {path} (from {source}) does not exist")
            return WeightsLocation(path, source, reason)
    path = user_weights_dir()
    if must_exist and not path.is_dir():
        raise WeightsError(
            f"no Pangolin weights: run `pangolin-pipeline weights fetch` (downloads them into {path}), "
            f"or pass --weights DIR, set ${WEIGHTS_ENV} or set 'weights' in the config file"
        )
    return WeightsLocation(path, "user directory",
                           f"no --weights, ${WEIGHTS_ENV} or config 'weights' is set: the user directory")


def resolve_weights(explicit: str | os.PathLike | None = None, configured: str | None = None) -> Path:
    """The weights directory: explicit path, then $PANGOLIN_WEIGHTS, then the config file's ``weights``,
    then the per-user directory (`user_weights_dir`). See `locate_weights` for why one was chosen.

    Raises
    ------
    WeightsError
        If the chosen directory does not exist.
    """
    return locate_weights(explicit, configured).path


def verify_checkpoint(directory: Path, name: str) -> str:
    """Check one checkpoint exists and matches its known SHA-256; return the digest.

    Messages name the path as given (``directory / name``), not where a symlink leads.
    """
    if name not in SHA256:
        raise WeightsError(f"{name} is not an official Pangolin v2 checkpoint name")
    path = directory / name
    if not path.is_file():
        raise WeightsError(f"checkpoint {name} is missing from weights directory {directory}")
    digest = sha256_file(path)
    if digest != SHA256[name]:
        raise WeightsError(
            f"checkpoint {path} fails its SHA-256 check (got {digest[:12]}..., expected "
            f"{SHA256[name][:12]}...): re-download it with `pangolin-pipeline weights fetch`"
        )
    return digest


def load_network(directory: Path, name: str, config: ModelConfig | None = None) -> Pangolin:
    """Load one official checkpoint, unchanged, into a `Pangolin` module in eval mode."""
    verify_checkpoint(directory, name)
    try:
        state = torch.load(directory / name, map_location="cpu", weights_only=True)
    except Exception as err:  # a corrupt pickle can raise almost anything
        raise WeightsError(f"checkpoint {directory / name} cannot be read: {err}") from None
    net = Pangolin(config)
    net.load_state_dict(state, strict=True)
    return net.eval()


def fetch_weights(dest: Path, source: str = OFFICIAL_URL, timeout: float = 60.0) -> list[Path]:
    """Download (or copy) the 24 official v2 checkpoints into ``dest``, verifying each SHA-256.

    ``source`` is a URL of a folder holding them (default: the official repository) or a local
    directory. Files already present with the right checksum are kept. On any failure the files
    this call wrote and the directories it created are removed, so no partial copy is left behind.

    Raises
    ------
    WeightsError
        If a file cannot be fetched or fails its checksum, or ``dest`` cannot be created.
    """
    local = Path(source).expanduser() if "://" not in source else None
    if local is not None and not local.is_dir():
        raise WeightsError(f"weights source {source} is neither a URL nor an existing directory")
    created = [d for d in (dest, *dest.parents) if not d.exists()]
    written: list[Path] = []
    try:
        try:
            dest.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise WeightsError(f"cannot create weights directory {dest}: {err.strerror}") from None
        paths = []
        for name, expected in SHA256.items():
            target = dest / name
            if not (target.is_file() and sha256_file(target) == expected):
                origin = str(local / name) if local is not None else f"{source.rstrip('/')}/{name}"
                _download(origin, target, expected, timeout)
                written.append(target)
            paths.append(target)
        return paths
    except BaseException:  # Ctrl-C included: leave no partial directory
        for path in written:
            path.unlink(missing_ok=True)
        for directory in created:  # innermost first
            try:
                directory.rmdir()
            except OSError:
                break
        raise


def _download(origin: str, target: Path, expected: str, timeout: float) -> None:
    """Fetch one file (URL or local path) to ``target`` through a temporary file, checksum first."""
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, prefix=f".{target.name}.") as tmp:
        try:
            if "://" in origin:
                with urllib.request.urlopen(origin, timeout=timeout) as response:
                    shutil.copyfileobj(response, tmp)
            else:
                with open(origin, "rb") as handle:
                    shutil.copyfileobj(handle, tmp)
        except BaseException as err:
            os.unlink(tmp.name)
            if isinstance(err, OSError):
                raise WeightsError(f"could not download {origin}: {err}") from None
            raise
    if sha256_file(Path(tmp.name)) != expected:
        os.unlink(tmp.name)
        raise WeightsError(f"{origin} does not match the official SHA-256 of {target.name}; not saved")
    os.replace(tmp.name, target)
