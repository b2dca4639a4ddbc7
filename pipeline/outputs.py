"""Every file a command writes goes through here, and is checked here before any work starts.

``--out`` names what the user wants written, never something to replace:
- ``-`` is standard output;
- a symlink is followed, and what it points to is written;
- a device, FIFO or socket is written through (never replaced by a regular file);
- a regular file is written to a temporary beside it and renamed over it only when complete, so a
  failed or interrupted command leaves the old file (or nothing) and no partial file behind.

The name sets the format: ``.gz``/``.bgz`` is BGZF (gzip that ``tabix``/``bcftools index`` accept),
``.bcf`` is BCF (written through pysam), anything else plain. Write errors (a full disk, a closed
pipe) become one `OutputError` naming the path as the user typed it.
"""

from __future__ import annotations

import errno
import io
import os
import secrets
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from .errors import OutputClosed, OutputError

STDOUT = "-"
BGZF_SUFFIXES = (".gz", ".bgz")
VCF_SUFFIXES = (".vcf", ".vcf.gz", ".vcf.bgz", ".bcf")


class OutputFile:
    """A file output, checked on construction: its folder exists and is writable, it is not a
    directory, and its name ends in one of ``suffixes`` (streams and ``-`` take any name). With
    ``index``, a ``.vcf.gz`` gets its ``.tbi`` and a ``.bcf`` its ``.csi``, made before either is
    renamed into place (unsorted records: an error, and neither file is left).

    Raises
    ------
    OutputError
        If the output cannot be written, or its name promises a format the command cannot write.
    """

    def __init__(self, name: str | os.PathLike, option: str = "--out", suffixes: tuple[str, ...] | None = None,
                 index: bool = False):
        self.name, self.option, self.index = str(name), option, index
        self.stream = self.name == STDOUT or _is_stream(self.name)
        if index and (self.stream or self.compression is None):
            raise OutputError(f"--index needs {option} to name a .vcf.gz or .bcf file; got {self}")
        if self.name == STDOUT:
            return
        path = Path(self.name)
        if path.is_dir():
            raise OutputError(f"{option} {path} is a directory; give a file name")
        if suffixes and not self.stream and not self.name.lower().endswith(suffixes):
            raise OutputError(f"{option} {path}: the name must end in {', '.join(suffixes)} (it sets the format)")
        if self.stream:
            if not os.access(path, os.W_OK):
                raise OutputError(f"{option} {path}: permission denied")
            return
        target = self.target
        if not target.parent.is_dir():
            raise OutputError(f"{option} {path}: folder {target.parent} does not exist")
        if not os.access(target.parent, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
            raise OutputError(f"{option} {path}: permission denied")

    def __str__(self) -> str:
        return "standard output" if self.name == STDOUT else self.name

    @property
    def target(self) -> Path:
        """The regular file to create or replace: the path itself, or where its symlink(s) lead."""
        return Path(os.path.realpath(self.name))

    @property
    def compression(self) -> str | None:
        """``bgzf``, ``bcf`` or None (plain), from the name."""
        lower = self.name.lower()
        if lower.endswith(BGZF_SUFFIXES):
            return "bgzf"
        return "bcf" if lower.endswith(".bcf") else None

    @contextmanager
    def open(self, binary: bool = False) -> Iterator[IO]:
        """A handle (text, or ``binary``) to write the whole output through. A ``.gz`` name is
        BGZF-compressed on the fly; a ``.bcf`` name takes VCF text and converts it when the block
        ends. Nothing is left at the target unless the block completes."""
        with self._raw() as raw:
            if self.compression == "bcf":
                with _bcf_from_text(raw, self) as handle:
                    yield handle
                return
            sink = _BgzfWriter(raw) if self.compression == "bgzf" else raw
            handle = sink if binary else io.TextIOWrapper(sink, encoding="utf-8", newline="\n", write_through=True)
            try:
                yield _Guarded(handle, self, "wb" if binary else "w")
                _flush(handle, self)
                if isinstance(sink, _BgzfWriter):
                    with self._guard():
                        sink.finish()
            finally:
                if not binary:  # never let the wrapper close the destination (standard output above all)
                    try:
                        handle.detach()
                    except (OSError, ValueError):
                        pass

    @contextmanager
    def _raw(self) -> Iterator[IO[bytes]]:
        """The destination's binary handle; for a regular file, a temporary renamed into place at the end."""
        if self.name == STDOUT:
            sys.stdout.flush()  # what was printed before comes first
            yield sys.stdout.buffer
            _flush(sys.stdout.buffer, self)
            return
        # Only our own file operations are guarded: what the caller raises passes through unchanged.
        if self.stream:
            with self._guard():
                handle = open(self.name, "ab")
            with _closing(handle):
                yield handle
                _flush(handle, self)
            return
        target = self.target
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
        with self._guard():
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
        try:
            with _closing(os.fdopen(fd, "wb")) as handle:
                yield handle
                _flush(handle, self)
                with self._guard():
                    os.fsync(handle.fileno())
            index = self._index(temporary) if self.index else None
            with self._guard():
                if target.exists():  # keep the replaced file's permissions
                    os.chmod(temporary, stat.S_IMODE(target.stat().st_mode))
                os.replace(temporary, target)
                for suffix in (".tbi", ".csi"):  # an index of the replaced file would now be wrong
                    stale = target.with_name(target.name + suffix)
                    if index is not None and index.suffix == suffix:
                        os.replace(index, stale)
                    else:
                        stale.unlink(missing_ok=True)
        finally:
            temporary.unlink(missing_ok=True)
            for suffix in (".tbi", ".csi"):
                temporary.with_name(temporary.name + suffix).unlink(missing_ok=True)

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except OutputError:
            raise
        except OSError as err:
            raise write_error(err, self) from None

    def _index(self, path: Path) -> Path:
        """Index the finished ``path`` (records must be sorted); return the index file."""
        import pysam
        import pysam.bcftools

        unsorted = _first_unsorted(path, self.compression == "bcf")
        if unsorted:
            raise OutputError(f"cannot index {self}: {unsorted} (sort the input, e.g. with `bcftools sort`, or "
                              f"leave out --index)")
        try:
            if self.compression == "bcf":
                pysam.bcftools.index("--force", "--csi", str(path), catch_stdout=False)
                return path.with_name(path.name + ".csi")
            pysam.tabix_index(str(path), preset="vcf", force=True)
        except (OSError, pysam.utils.SamtoolsError) as err:
            raise OutputError(f"cannot index {self}: {' '.join(str(err).split())}") from None
        return path.with_name(path.name + ".tbi")


def _first_unsorted(path: Path, bcf: bool) -> str | None:
    """Where a VCF/BCF's records first leave position order (what an index cannot take), or None."""
    seen: set[str] = set()
    last = ("", 0)
    for chrom, pos in _positions(path, bcf):
        if chrom != last[0]:
            if chrom in seen:
                return f"{chrom} appears again after {last[0]}"
            seen.add(chrom)
        elif pos < last[1]:
            return f"{chrom}:{pos} follows {chrom}:{last[1]}"
        last = (chrom, pos)
    return None


def _positions(path: Path, bcf: bool) -> Iterator[tuple[str, int]]:
    if bcf:
        import pysam

        quiet = pysam.set_verbosity(0)  # htslib would say that the file has no index yet
        try:
            with pysam.VariantFile(str(path)) as records:
                yield from ((record.chrom, record.pos) for record in records)
        finally:
            pysam.set_verbosity(quiet)
        return
    import gzip

    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if not line.startswith("#"):
                chrom, pos = line.split("\t", 2)[:2]
                yield chrom, int(pos)


def write_error(err: OSError, output: OutputFile | str) -> OutputError | OutputClosed:
    """One line for a failed write: the path as the user named it, and the cause; `OutputClosed`
    where the reader of a pipe left (``| head``), which the CLI ends quietly."""
    if err.errno == errno.EPIPE:
        return OutputClosed(f"{output}: the reader closed the pipe")
    return OutputError(f"cannot write {output}: {err.strerror or err}")


@contextmanager
def _closing(handle: IO) -> Iterator[IO]:
    """Close ``handle`` at the end; after a failed write its close fails the same way (the buffer
    cannot be flushed) and must not hide the error already raised."""
    try:
        yield handle
    finally:
        try:
            handle.close()
        except OSError:
            pass


class _Guarded:
    """A handle whose write errors become `OutputError` naming the output."""

    def __init__(self, handle: IO, output: OutputFile, mode: str = "w"):
        self._handle, self._output = handle, output
        self.mode = mode  # how pandas and others tell a binary handle from a text one

    def write(self, data):
        try:
            return self._handle.write(data)
        except OSError as err:
            raise write_error(err, self._output) from None

    def flush(self) -> None:
        _flush(self._handle, self._output)

    def __getattr__(self, name: str):
        return getattr(self._handle, name)


def _flush(handle: IO, output: OutputFile) -> None:
    try:
        handle.flush()
    except OSError as err:
        raise write_error(err, output) from None


class _BgzfWriter(io.RawIOBase):
    """BGZF blocks (at most 64 KiB of input each) to a binary handle, with the EOF block at the end."""

    def __init__(self, raw: IO[bytes]):
        from Bio.bgzf import BgzfWriter

        self._writer = BgzfWriter(fileobj=_Unclosed(raw))

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._writer.write(bytes(data))
        return len(data)

    def finish(self) -> None:
        self._writer.close()  # the EOF marker block; leaves ``raw`` open (see _Unclosed)


class _Unclosed(io.RawIOBase):
    """A binary handle whose close only flushes: Biopython's writer closes what it is given."""

    def __init__(self, raw: IO[bytes]):
        self._raw = raw

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return self._raw.write(data)

    def flush(self) -> None:
        self._raw.flush()

    def close(self) -> None:
        self._raw.flush()


@contextmanager
def _bcf_from_text(raw: IO[bytes], output: OutputFile) -> Iterator[IO[str]]:
    """Take VCF text into a scratch file, then write it to ``raw`` as BCF through pysam."""
    import tempfile

    import pysam

    with tempfile.TemporaryDirectory(prefix="pangolin-bcf-") as scratch:
        text = Path(scratch) / "out.vcf"
        with open(text, "w", encoding="utf-8") as handle:
            yield _Guarded(handle, output)
        binary = Path(scratch) / "out.bcf"
        try:
            with pysam.VariantFile(str(text)) as source, \
                    pysam.VariantFile(str(binary), "wb", header=source.header) as sink:
                for record in source:
                    sink.write(record)
        except (OSError, ValueError) as err:
            raise OutputError(f"cannot write {output} as BCF: {err}") from None
        with open(binary, "rb") as converted:
            while block := converted.read(1 << 20):
                raw.write(block)


def _is_stream(name: str) -> bool:
    """Whether ``name`` (after symlinks) is a device, FIFO or socket: written through, never replaced."""
    try:
        mode = os.stat(name).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def check_output_dir(path: str | os.PathLike, option: str = "--out") -> Path:
    """``path`` is a writable directory or can be created (its nearest existing parent is a writable
    directory, not a file and not under /proc or /sys).

    Raises
    ------
    OutputError
        If ``path`` is a file or cannot be created or written.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{option} {path} is a file, not a directory")
    existing = _nearest_existing(path)
    if not existing.is_dir():
        raise OutputError(f"{option} {path}: {existing} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {path}: permission denied")
    if _virtual_filesystem(existing):
        raise OutputError(f"{option} {path}: {existing} is a virtual file system; files cannot be created there")
    return path


def _virtual_filesystem(folder: Path) -> bool:
    """/proc and /sys look writable to root but refuse new files."""
    real = folder.resolve()
    return any(real == Path(root) or Path(root) in real.parents for root in ("/proc", "/sys"))
