"""Many variants in one request, JSON, VCF or TSV in and out: answers equal the all-SNV export's
records, a returned VCF is read by a real `bcftools view`, malformed lines are refused by line
number, and the limits hold. Through httpx on the ASGI app (a server over the store alone) and
against a real uvicorn (the folder's server, which also computes)."""

from __future__ import annotations

import asyncio
import gzip
import shutil
import subprocess
import time

import httpx
import pytest

from .conftest import MAX_VARIANTS, STORED_SNV

pytestmark = pytest.mark.slow  # the all-SNV store (and for some tests the model) is made or loaded once
VCF_HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
TYPED = ("Pangolin", "PangolinGene", "PangolinGain", "PangolinGainPos", "PangolinLoss", "PangolinLossPos",
         "PangolinLargestDS")
needs_bcftools = pytest.mark.skipif(not shutil.which("bcftools"), reason="bcftools (Debian package; CI installs it)")


@pytest.fixture(scope="module")
def exported(snv_store, tmp_path_factory) -> dict[tuple[str, int, str, str], dict[str, str]]:
    """Every SNV of the store as `export --format vcf` writes it: (chrom, pos, ref, alt) -> INFO entries."""
    from pipeline.outputs import OutputFile
    from pipeline.snvs.export import export_vcf
    from pipeline.snvs.reader import SnvReader

    path = tmp_path_factory.mktemp("batch") / "export.vcf"
    export_vcf(SnvReader(snv_store), OutputFile(path, "--out"))
    records = {}
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            chrom, pos, _, ref, alt, _, _, info = line.split("\t")
            records[(chrom, int(pos), ref, alt)] = dict(e.split("=", 1) for e in info.split(";"))
    assert len(records) == 30  # 10 positions x 3 ALTs
    return records


def asgi_post(app, path: str, **kwargs) -> httpx.Response:
    async def call():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://asgi") as http:
            return await http.post(path, **kwargs)

    return asyncio.run(call())


@pytest.fixture(scope="module")
def stored_app(snv_store):
    """The ASGI app over the all-SNV store alone (nothing computed), small limits."""
    from pipeline.service.app import Limits, create_app
    from pipeline.service.catalog import Catalog

    return create_app(Catalog([snv_store]), None, Limits(max_variants=MAX_VARIANTS, max_body=20_000))


def vcf_of(records: list[tuple[str, int, str, str]]) -> str:
    return VCF_HEADER + "".join(f"{c}\t{p}\t.\t{r}\t{a}\t.\t.\t.\n" for c, p, r, a in records)


def info_of(line: str) -> dict[str, str]:
    return dict(e.split("=", 1) for e in line.split("\t")[7].split(";") if "=" in e)


def test_vcf_in_vcf_out_equals_the_export(stored_app, exported):
    snvs = sorted(exported)[::3]
    r = asgi_post(stored_app, "/api/v1/score", params={"hg": "37"}, content=vcf_of(snvs),
                  headers={"content-type": "text/vcf"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/vcf")
    lines = r.text.splitlines()
    body = [line for line in lines if not line.startswith("#")]
    assert len(body) == len(snvs)
    for line, snv in zip(body, snvs):
        info = info_of(line)
        assert {k: info[k] for k in TYPED} == {k: exported[snv][k] for k in TYPED}, snv
        assert info["PangolinSource"] == "store"
    header = "\n".join(lines)
    for field in TYPED + ("PangolinSource",):
        assert f"##INFO=<ID={field}," in header
    assert "##pangolinServedBy=<ID=snvs.zarr,Kind=snv,Build=37" in header
    assert "##contig=<ID=chr17,length=81195210>" in header


def test_tsv_and_json_in_and_out_and_their_line_numbers(stored_app, exported):
    (chrom, pos, ref, alt), other = sorted(exported)[:2]
    tsv = f"CHROM\tPOS\tREF\tALT\n{chrom}\t{pos}\t{ref}\t{alt}\n\n{'-'.join(map(str, other))}\nnonsense\n"
    r = asgi_post(stored_app, "/api/v1/score", params={"hg": "37"}, content=tsv,
                  headers={"content-type": "text/tab-separated-values"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/tab-separated-values")
    rows = [line.split("\t") for line in r.text.splitlines()]
    columns = rows[0]
    table = [dict(zip(columns, row)) for row in rows[1:]]
    assert [t["variant"] for t in table] == [f"{chrom}-{pos}-{ref}-{alt}", "-".join(map(str, other)), "nonsense"]
    assert table[0]["gain"] == exported[(chrom, pos, ref, alt)]["PangolinGain"]
    assert table[0]["source"] == "store" and table[2]["error"].startswith("malformed_variant")
    as_json = asgi_post(stored_app, "/api/v1/score", params={"hg": "37", "format": "json"}, content=tsv,
                        headers={"content-type": "text/tab-separated-values"}).json()
    assert [x["line"] for x in as_json["results"]] == [2, 4, 5]
    assert as_json["counts"] == {"answered": 2, "errors": 1}
    by_accept = asgi_post(stored_app, "/api/v1/score", json={"variants": [STORED_SNV], "hg": "37"},
                          headers={"accept": "text/tab-separated-values"})
    assert by_accept.text.splitlines()[1].split("\t")[columns.index("gain")] == "0.48"


def test_json_and_tsv_come_back_as_vcf(stored_app, exported):
    snvs = sorted(exported)[1::4]
    texts = ["-".join(map(str, snv)) for snv in snvs]
    answers = [asgi_post(stored_app, "/api/v1/score", params={"format": "vcf"},
                         json={"variants": texts, "hg": "37"}),
               asgi_post(stored_app, "/api/v1/score", params={"hg": "37"}, content="\n".join(texts) + "\n",
                         headers={"content-type": "text/tab-separated-values", "accept": "text/vcf"})]
    for r in answers:
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/vcf")
        body = [line for line in r.text.splitlines() if not line.startswith("#")]
        assert [tuple(line.split("\t")[i] for i in (0, 1, 3, 4)) for line in body] == [
            (c, str(p), ref, alt) for c, p, ref, alt in snvs]  # one record per variant, in the order sent
        for line, snv in zip(body, snvs, strict=True):
            info = info_of(line)
            assert {k: info[k] for k in TYPED} == {k: exported[snv][k] for k in TYPED}, snv
        assert "##contig=<ID=chr17,length=81195210>" in r.text


def test_multiallelic_skipped_and_earlier_annotations(stored_app, exported):
    (chrom, pos, ref, alt), = sorted(exported)[:1]
    alts = [a for (c, p, r, a) in exported if (c, p) == (chrom, pos)]
    text = VCF_HEADER.replace("#CHROM", '##INFO=<ID=PangolinGain,Number=1,Type=Float,Description="old">\n#CHROM')
    text += f"{chrom}\t{pos}\trs1\t{ref}\t{','.join(alts)}\t50\tPASS\tDP=3;PangolinGain=9.9\n"
    text += f"{chrom}\t{pos}\t.\t{ref}\t*\t.\t.\t.\n"
    r = asgi_post(stored_app, "/api/v1/score", params={"hg": "37"}, content=gzip.compress(text.encode()),
                  headers={"content-type": "text/vcf"})
    assert r.status_code == 200, r.text
    multi, star = (line for line in r.text.splitlines() if not line.startswith("#"))
    assert multi.split("\t")[:7] == [chrom, str(pos), "rs1", ref, ",".join(alts), "50", "PASS"]
    info = info_of(multi)
    assert info["DP"] == "3" and "PangolinGain" not in info  # the old value is gone; no typed fields: 3 ALTs
    assert info["Pangolin"].split(",")[0].startswith(f"{alts[0]}/")
    assert info["PangolinSource"] == ",".join(["store"] * len(alts))
    assert info_of(star)["PangolinSkipped"] == "malformed_variant" and info_of(star)["PangolinSource"] == "."
    assert r.text.count("##INFO=<ID=PangolinGain,") == 1


@pytest.mark.parametrize(("content", "headers", "params", "status", "code", "words"), [
    (VCF_HEADER + "chr17\t41276126\t.\tC\tA\nchr17\t4127613\n", {"content-type": "text/vcf"}, {}, 400,
     "malformed_line", "line 4: fewer than 5 columns"),
    (VCF_HEADER + "chr17\tx\t.\tC\tA\n", {"content-type": "text/vcf"}, {}, 400, "malformed_line", "line 3: POS"),
    ("chr17\t41276126\tC\n", {"content-type": "text/tab-separated-values"}, {}, 400, "malformed_line", "line 1: 3 col"),
    ("chr17\t41276126\t.\tC\tA\n", {"content-type": "text/vcf"}, {}, 400, "not_vcf", "#CHROM"),
    ("\n".join([STORED_SNV] * (MAX_VARIANTS + 1)), {"content-type": "text/tab-separated-values"}, {}, 413,
     "too_many_variants", f"limit is {MAX_VARIANTS}"),
    (STORED_SNV, {"content-type": "application/x-www-form-urlencoded"}, {}, 415, "unsupported_media_type", "text/vcf"),
    (STORED_SNV, {"content-type": "text/plain", "accept": "text/html"}, {}, 406, "not_acceptable", "text/vcf"),
    (f"{STORED_SNV}\nnonsense\n", {"content-type": "text/plain"}, {"format": "vcf"}, 400, "not_representable",
     "1 variant(s) could not be read (the first: 'nonsense' is not a variant"),
    ('{"variants": []}', {"content-type": "application/json"}, {"hg": "37"}, 400, "settings_in_query", "hg"),
    (b"\x1f\x8b\x08\x00broken", {"content-type": "text/vcf"}, {}, 400, "bad_gzip", "gzip"),
    (gzip.compress(b"A" * 300_000), {"content-type": "text/vcf"}, {}, 413, "body_too_large", "inflates"),
    (b"\xff\xfe", {"content-type": "text/vcf"}, {}, 400, "bad_encoding", "UTF-8"),
])
def test_bad_batches_are_refused_by_name(stored_app, content, headers, params, status, code, words):
    r = asgi_post(stored_app, "/api/v1/score", content=content, headers=headers, params=params)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code and words in r.json()["error"], r.json()


@needs_bcftools
def test_real_server_mixes_sources_and_bcftools_reads_the_vcf(client, exported, tmp_path):
    """Against uvicorn: stored SNVs, a computed indel, a REF mismatch; the VCF filtered by bcftools."""
    snvs = sorted(exported)
    indel = ("chr17", 41276126, "C", "CA")
    mismatch = ("chr17", 41276126, "G", "A")
    r = client.post("/api/v1/score", params={"hg": "37"}, content=vcf_of([*snvs, indel, mismatch]),
                    headers={"content-type": "text/vcf"})
    assert r.status_code == 200, r.text
    path = tmp_path / "answers.vcf"
    path.write_text(r.text)
    fields = "%CHROM\t%POS\t%REF\t%ALT\t%INFO/PangolinLargestDS\t%INFO/PangolinSource\t%INFO/PangolinSkipped\n"
    query = subprocess.run(["bcftools", "query", "-f", fields, str(path)], capture_output=True, text=True, check=True)
    rows = [line.split("\t") for line in query.stdout.splitlines()]
    assert len(rows) == len(snvs) + 2 and not query.stderr.strip()
    for row, snv in zip(rows, snvs):
        assert float(row[4]) == float(exported[snv]["PangolinLargestDS"]) and row[5] == "store"
    assert rows[-2][5] == "model" and rows[-2][6] == "."
    assert rows[-1][5] == "." and rows[-1][6] == "ref_mismatch"
    picked = subprocess.run(["bcftools", "view", "-H", "-i", "INFO/PangolinLargestDS < -0.1", str(path)],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    expected = [s for s in snvs if float(exported[s]["PangolinLargestDS"]) < -0.1]
    computed = [] if rows[-2][4] == "." or float(rows[-2][4]) >= -0.1 else [indel]
    assert [tuple(line.split("\t")[:2]) for line in picked] == [(c, str(p)) for c, p, _, _ in expected + computed]
    assert expected, "the store should hold some SNV with a loss below -0.1 for this filter to mean anything"


def test_stored_batch_does_not_wait_for_the_model(snv_store, exported):
    """A VCF of stored SNVs is answered while the model is busy with another request's variant."""
    from pipeline.service.app import create_app
    from pipeline.service.catalog import Catalog
    from pipeline.service.compute import ComputeQueue

    from .conftest import SlowEngine, running

    engine = SlowEngine(2.0)
    queue = ComputeQueue(engine, max_pending=4, timeout=10)
    queue.start()

    async def scenario(url):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            busy = asyncio.create_task(http.post("/api/v1/score", json={"variants": ["17-41276300-A-G"], "hg": "37"}))
            while not engine.started.is_set():
                await asyncio.sleep(0.01)
            t0 = time.monotonic()
            stored = await http.post("/api/v1/score", params={"hg": "37"}, content=vcf_of(sorted(exported)),
                                     headers={"content-type": "text/vcf"})
            return stored, time.monotonic() - t0, await busy

    try:
        with running(create_app(Catalog([snv_store]), queue)) as url:
            stored, seconds, busy = asyncio.run(scenario(url))
    finally:
        queue.stop()
    assert stored.status_code == 200 and stored.text.count("PangolinSource=store") == len(exported)
    assert seconds < 1.0 and busy.status_code == 200 and busy.json()["results"][0]["source"] == "model"
