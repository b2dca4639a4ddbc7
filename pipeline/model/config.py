"""Architecture constants of the Pangolin network, as a validated frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ConfigError

TISSUES: tuple[str, ...] = ("heart", "liver", "brain", "testis")


@dataclass(frozen=True)
class Stage:
    """A run of residual blocks sharing kernel size and dilation."""

    kernel: int
    dilation: int
    blocks: int


@dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters of one Pangolin network (defaults: the official v2 release).

    The receptive field is ``context + 1``: the output at a base depends on ``context // 2`` bases
    on either side and nothing else.
    """

    hidden: int = 32
    context: int = 10_000
    stages: tuple[Stage, ...] = (
        Stage(kernel=11, dilation=1, blocks=4),
        Stage(kernel=11, dilation=4, blocks=4),
        Stage(kernel=21, dilation=10, blocks=4),
        Stage(kernel=41, dilation=25, blocks=4),
    )
    bn_eps: float = 1e-5
    bn_momentum: float = 0.1
    tissues: tuple[str, ...] = TISSUES
    replicates: int = 3
    dense_every: int = 4  # a 1x1 conv from the trunk is added to skip after every 4th block
    mac_per_position: int = field(init=False)

    def __post_init__(self) -> None:
        if self.hidden < 1:
            raise ConfigError(f"model.hidden must be a positive integer, got {self.hidden}")
        for stage in self.stages:
            if stage.kernel < 1 or stage.kernel % 2 == 0:
                raise ConfigError(f"model stage kernel must be a positive odd integer, got {stage.kernel}")
            if stage.dilation < 1 or stage.blocks < 1:
                raise ConfigError(f"model stage dilation and blocks must be positive, got {stage}")
        if self.receptive_half * 2 != self.context:
            raise ConfigError(
                f"model.context={self.context} does not match the stages, whose receptive field "
                f"needs context {self.receptive_half * 2}"
            )
        if not self.tissues or self.replicates < 1:
            raise ConfigError("model.tissues must be non-empty and model.replicates positive")
        macs = sum(2 * self.hidden * self.hidden * k for k, _ in self.block_specs)
        object.__setattr__(self, "mac_per_position", macs)

    @property
    def block_specs(self) -> list[tuple[int, int]]:
        """(kernel, dilation) of every residual block, in order."""
        return [(s.kernel, s.dilation) for s in self.stages for _ in range(s.blocks)]

    @property
    def receptive_half(self) -> int:
        """Bases of context one output needs on each side."""
        return sum(2 * d * (k - 1) // 2 for k, d in self.block_specs)

    @property
    def flank(self) -> int:
        """Context on each side of a scored base (5,000 for the official model)."""
        return self.context // 2

    @property
    def n_channels(self) -> int:
        """Output channels: per tissue no-splice, p-splice (softmax pair) and usage (sigmoid)."""
        return 3 * len(self.tissues)

    @property
    def channels(self) -> list[str]:
        return [f"{t}_{c}" for t in self.tissues for c in ("no_splice", "p_splice", "usage")]

    @property
    def p_splice_channels(self) -> list[int]:
        """Output channel of each tissue's P(splice), in tissue order."""
        return [3 * t + 1 for t in range(len(self.tissues))]

    @property
    def usage_channels(self) -> list[int]:
        """Output channel of each tissue's usage, in tissue order."""
        return [3 * t + 2 for t in range(len(self.tissues))]
