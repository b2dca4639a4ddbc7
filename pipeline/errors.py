"""The package's exception hierarchy.

Every error a user can cause derives from `PipelineError` and from the builtin that best describes it,
so callers may catch either. The CLI prints `str(error)` as one line and exits non-zero.
"""


class PipelineError(Exception):
    """Base class of every error raised for bad input or configuration."""


class ConfigError(PipelineError, ValueError):
    """A configuration key or value is invalid."""


class WeightsError(PipelineError, FileNotFoundError):
    """Checkpoints are missing, incomplete or fail their checksum."""


class SequenceError(PipelineError, ValueError):
    """A sequence is too short or otherwise unusable."""


class ContigNotFound(PipelineError, KeyError):
    """A contig name matches nothing in the FASTA, even through aliases."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class FastaError(PipelineError, OSError):
    """A FASTA file is missing, unreadable or cannot be indexed."""


class AnnotationError(PipelineError, ValueError):
    """A GTF/GFF3 is malformed or leaves nothing to score."""


class RegionError(PipelineError, ValueError):
    """A region string is malformed, reversed or outside its contig."""


class QueryError(PipelineError, ValueError):
    """A query names a tissue, metric, strand or format the store or command does not have."""


class PositionNotFound(PipelineError, KeyError):
    """A 1-based position is not in a store's position index (or outside its chromosome)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class StoreError(PipelineError, ValueError):
    """A store is missing, not a store, or was made with other settings."""


class StoreLocked(StoreError):
    """Another live run holds the store's lock."""


class VariantError(PipelineError, ValueError):
    """A variant file cannot be read."""


class OutputError(PipelineError, OSError):
    """An output path cannot be written (missing folder, no permission, a directory in the way)."""


class OutputClosed(PipelineError):
    """The reader of an output stream (a pipe, ``| head``) closed it: not a failure, the CLI stops quietly."""


class HeadError(PipelineError, ValueError):
    """A fine-tuned head checkpoint is missing, malformed or belongs to another base ensemble."""


class TargetError(PipelineError, ValueError):
    """Fine-tuning targets (bigWig/bedGraph tracks or annotated sites) are missing or unusable."""


class Interrupted(PipelineError):
    """Ctrl-C during long work; the message says how far it got and where the partial output is."""
