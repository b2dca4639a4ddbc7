"""gcp-storage-emulator, started with one fix, for the gs:// tests (test_remote_servers.GcsEmulator).

The emulator reads a multipart upload (what gcsfs sends for every object under 5 MiB) with Python's
email parser. gcsfs ends the object's bytes with ``\\n--BOUNDARY--``, so an object whose last byte is a
carriage return (0x0D) loses it: the parser takes ``\\r\\n`` for the line break before the boundary.
publish's verification caught it (stored objects one byte short). Here the object's bytes are cut
from the request itself; everything else is the emulator's own code.

Run as ``python gcs_emulator.py start -H 127.0.0.1 --port PORT --in-memory -q`` (the emulator's CLI).
"""

from __future__ import annotations

import io
import sys
import types

from gcp_storage_emulator import __main__ as cli
from gcp_storage_emulator import server

_parse = server._read_data


def _object_bytes(raw: bytes, boundary: bytes) -> bytes:
    """The second part's body of a multipart/related upload: after its headers, before the closing delimiter."""
    second = raw.index(b"--" + boundary, raw.index(b"--" + boundary) + 1)
    headers_end = raw.index(b"\n\n", second)  # gcsfs separates headers from the body with a bare blank line
    end = raw.rindex(b"\n--" + boundary + b"--")
    return raw[headers_end + 2:end]


def _read_data(request_handler, query):
    content_type = request_handler.headers.get("Content-Type") or ""
    if not content_type.startswith("multipart/related") or request_handler.headers.get("Content-Encoding"):
        return _parse(request_handler, query)
    raw = server._read_raw_data(request_handler) or b""
    data = _parse(types.SimpleNamespace(headers=request_handler.headers, rfile=io.BytesIO(raw)), query)
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    data["content"] = _object_bytes(raw, boundary)
    return data


server._read_data = _read_data

if __name__ == "__main__":
    cli.main(sys.argv[1:])
