"""All-SNV stores by URL: lookup and score --snv-store from nginx equal the local store, one request
per shard touched (and one for the chromosome's shard-index bundle); publish to an S3 endpoint on
loopback (moto's server) and read back equal."""

from __future__ import annotations

import pytest

from pipeline.snvs.reader import SnvReader
from pipeline.store.location import forget_remote_stores
from pipeline.store.publish import publish

from ..conftest import run_cli
from ..snvs.test_snv_store import FASTA, GFF, every_snv_vcf, saturate
from .test_remote import fresh_reads, nginx, www  # noqa: F401 (fixtures)
from .test_remote_servers import NGINX, MotoServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def snv_store(tmp_path_factory):
    from pipeline.precompute.driver import Execution, run_plan

    tmp_path = tmp_path_factory.mktemp("snv")
    out, plan = saturate(tmp_path, "snvs.zarr", distance=50, mask=True)
    run_plan(plan, out, Execution("none"))
    return out, every_snv_vcf(tmp_path / "all.vcf")


@pytest.fixture(scope="module")
def served_snvs(snv_store, www, nginx):  # noqa: F811
    publish(snv_store[0], str(www / "snvs.zarr"))
    return f"{nginx.url}/snvs.zarr"


def snv_texts(vcf) -> list[str]:
    rows = [line.split("\t") for line in vcf.read_text().splitlines() if not line.startswith("#")]
    return [f"{c}:{p}:{r}:{a}" for c, p, _, r, a, *_ in rows]


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx)")
def test_lookup_equals_local_one_request_per_shard(snv_store, served_snvs, nginx, monkeypatch, capsys):  # noqa: F811
    store, vcf = snv_store
    snvs = snv_texts(vcf)
    many = (snvs * (1000 // len(snvs) + 1))[:1000]  # 1,000 lookups, each SNV several times
    expected = run_cli(monkeypatch, capsys, "lookup", store, *many)
    nginx.clear_log()
    got = run_cli(monkeypatch, capsys, "lookup", served_snvs, *many)
    assert got[:2] == expected[:2] and got[0] == 0 and "NA" not in got[1]
    served = nginx.requests()
    data = [r for r in served if not r[1].endswith("zarr.json")]
    reader = SnvReader(store)
    chunks = {(c, (int(p) - 1) // reader.block) for c, p, *_ in (s.split(":") for s in snvs)}
    print(f"1,000 lookups: {len(served)} requests, {sum(r[3] for r in served):,} bytes")
    assert len(served) - len(data) == 1
    bundles = [r for r in data if "/_shard_indexes/" in r[1]]
    assert len(bundles) == 1  # chr22's shard indexes, once (these small shards then come whole, one request each)
    assert len(data) == len({r[1] for r in data}) <= 1 + 6 * len(chunks)  # one request per shard touched


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx)")
def test_score_snv_store_by_url_equals_local(snv_store, served_snvs, tmp_path, monkeypatch, capsys):
    store, vcf = snv_store
    outputs = []
    for name, where in (("local", store), ("remote", served_snvs)):
        out = tmp_path / f"{name}.vcf"
        code, _, err = run_cli(monkeypatch, capsys, "score", vcf, "--fasta", FASTA, "--annotation", GFF,
                               "--snv-store", where, "--out", out, "-q")
        assert code == 0, err
        outputs.append([line for line in out.read_text().splitlines() if not line.startswith("##")])
    assert outputs[0] == outputs[1] and len(outputs[0]) > 1


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    pytest.importorskip("s3fs", reason="the S3 tests need the [remote] extra (s3fs, moto[server])")
    pytest.importorskip("moto.server", reason="the S3 tests need moto[server] (the [remote] extra)")
    server = MotoServer().start()
    env = {"AWS_ENDPOINT_URL": server.url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        import boto3

        boto3.client("s3", endpoint_url=server.url).create_bucket(Bucket="pangolin")
        yield server
    server.stop()


def test_publish_to_s3_and_read_back(s3, snv_store, small_store, monkeypatch, capsys):
    import xarray as xr

    store, vcf = snv_store
    code, _, err = run_cli(monkeypatch, capsys, "publish", store, "s3://pangolin/stores/snvs.zarr", "-q")
    assert code == 0 and "0 already there" in err, err
    code, _, err = run_cli(monkeypatch, capsys, "publish", store, "s3://pangolin/stores/snvs.zarr", "-q")
    assert code == 0 and " 0 object(s) copied" in err, err  # resumed: everything verified by ETag, nothing sent
    snvs = snv_texts(vcf)
    forget_remote_stores()
    assert run_cli(monkeypatch, capsys, "lookup", "s3://pangolin/stores/snvs.zarr", *snvs)[:2] == \
        run_cli(monkeypatch, capsys, "lookup", store, *snvs)[:2]
    publish(small_store, "s3://pangolin/stores/track.zarr")
    remote = xr.open_datatree("s3://pangolin/stores/track.zarr", engine="pangolin")
    local = xr.open_datatree(small_store, engine="pangolin")
    region = {"position": slice(32_049_001, 32_051_000)}  # a whole chromosome over moto would take minutes
    xr.testing.assert_identical(remote["chr22"].to_dataset().sel(region).load(),
                                local["chr22"].to_dataset().sel(region).load())
    code, _, err = run_cli(monkeypatch, capsys, "query", "s3://pangolin/stores/missing.zarr", "chr22:1-10")
    assert code == 2 and "not a Zarr v3 store" in err and err.count("\n") == 1, err
