"""gs:// stores (#26) against a GCS emulator on loopback (gcp-storage-emulator, which gcsfs reaches
through ``STORAGE_EMULATOR_HOST``): publish, resume, read back equal to the local store (xarray,
query, lookup), one `error:` line for a bucket that does not exist; no credentials looked up."""

from __future__ import annotations

import time

import pytest
import xarray as xr

from pipeline.store.location import filesystem, forget_remote_stores, have_google_credentials, storage_options

from ..conftest import run_cli
from .test_remote import GENE, fresh_reads  # noqa: F401 (fixture)
from .test_remote_servers import GcsEmulator
from .test_remote_snvs import snv_store, snv_texts  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow
BUCKET = "gs://pangolin/stores"


def no_google_credentials(patch: pytest.MonkeyPatch, home) -> None:
    """Nothing of a developer's own Google login may be used: no key file, no gcloud folder, no VM probe."""
    patch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    patch.setenv("CLOUDSDK_CONFIG", str(home))
    patch.setenv("NO_GCE_CHECK", "true")


@pytest.fixture(scope="module")
def gcs(tmp_path_factory):
    pytest.importorskip("gcsfs", reason="the GCS tests need the [remote] extra (gcsfs, gcp-storage-emulator)")
    pytest.importorskip("gcp_storage_emulator", reason="the GCS tests need gcp-storage-emulator ([remote] extra)")
    server = GcsEmulator().start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", server.url)
        no_google_credentials(patch, tmp_path_factory.mktemp("gcloud"))
        fs, _ = filesystem(f"{BUCKET}/x")
        fs.mkdir("pangolin")
        yield server
    server.stop()


def test_credentials_are_chosen_without_the_network(tmp_path, monkeypatch):
    """Anonymous where nothing is configured (no metadata-server probe), gcsfs's own lookup where a key is."""
    no_google_credentials(monkeypatch, tmp_path)
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    start = time.perf_counter()
    found = have_google_credentials()
    assert time.perf_counter() - start < 1
    if not found:  # not a Compute Engine VM
        assert storage_options("gs://bucket/store.zarr")["token"] == "anon"
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "key.json"))
    assert storage_options("gs://bucket/store.zarr")["token"] is None
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:1")
    assert storage_options("gs://bucket/store.zarr")["token"] == "anon"  # an emulator takes none


def test_publish_to_gcs_and_read_back(gcs, snv_store, small_store, monkeypatch, capsys):  # noqa: F811
    import gcsfs.core

    store, vcf = snv_store
    assert type(filesystem(f"{BUCKET}/snvs.zarr")[0]) is gcsfs.core.GCSFileSystem  # no gRPC bucket-layout probe
    code, _, err = run_cli(monkeypatch, capsys, "publish", store, f"{BUCKET}/snvs.zarr", "-q")
    assert code == 0 and "0 already there" in err, err
    code, _, err = run_cli(monkeypatch, capsys, "publish", store, f"{BUCKET}/snvs.zarr", "-q")
    assert code == 0 and " 0 object(s) copied" in err, err  # resumed: every object verified by its md5Hash
    snvs = snv_texts(vcf)
    forget_remote_stores()
    expected = run_cli(monkeypatch, capsys, "lookup", store, *snvs)
    assert run_cli(monkeypatch, capsys, "lookup", f"{BUCKET}/snvs.zarr", *snvs)[:2] == expected[:2]
    assert expected[0] == 0 and "NA" not in expected[1]

    code, _, err = run_cli(monkeypatch, capsys, "publish", small_store, f"{BUCKET}/track.zarr", "-q")
    assert code == 0, err
    remote = xr.open_datatree(f"{BUCKET}/track.zarr", engine="pangolin")
    local = xr.open_datatree(small_store, engine="pangolin")
    for chrom in local.children:  # the genes' span, every position of it
        genes = local[chrom].to_dataset().pangolin.genes
        span = {"position": slice(int(genes.start.min()), int(genes.end.max()))}
        xr.testing.assert_identical(remote[chrom].to_dataset().sel(span).load(),
                                    local[chrom].to_dataset().sel(span).load())
    expected = run_cli(monkeypatch, capsys, "query", small_store, GENE)
    assert run_cli(monkeypatch, capsys, "query", f"{BUCKET}/track.zarr", GENE)[:2] == expected[:2]
    assert expected[0] == 0 and expected[1].count("\n") > 100


def test_unknown_bucket_is_one_line(gcs, small_store, monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "query", "gs://no-such-bucket/track.zarr", "chr22:1-10")
    assert code == 2 and out == "" and "not a Zarr v3 store" in err and err.count("\n") == 1, err
    code, _, err = run_cli(monkeypatch, capsys, "publish", small_store, "gs://no-such-bucket/track.zarr", "-q")
    assert code == 2 and err.startswith("error:") and err.count("\n") == 1, err
