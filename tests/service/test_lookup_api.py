"""SpliceAI-lookup's Pangolin API and our own: stored answers, computed ones equal to them, identity."""

from __future__ import annotations

import pytest

from .conftest import STORED_SNV

pytestmark = pytest.mark.slow  # the stores and the model are built or loaded once for the folder


def test_stored_answer_has_spliceai_lookups_shape(client):
    r = client.get("/pangolin/", params={"hg": "37", "distance": "50", "mask": "1", "variant": STORED_SNV})
    assert r.status_code == 200, r.text
    body = r.json()
    for key in ("variant", "genomeVersion", "chrom", "pos", "ref", "alt", "distance", "mask", "scores", "source"):
        assert key in body
    assert (body["genomeVersion"], body["chrom"], body["pos"], body["ref"], body["alt"]) == ("37", "17", 41276126,
                                                                                               "C", "A")
    assert body["source"] == "pangolin:store"
    (gene,) = body["scores"]
    assert {k: gene[k] for k in ("DS_SG", "DS_SL", "DP_SG", "DP_SL", "g_name")} == {
        "DS_SG": "0.48", "DS_SL": "-0.16", "DP_SG": -7, "DP_SL": 6, "g_name": "BRCA1"}
    assert gene["t_id"] == "" and gene["t_priority"] == "N"  # a gene's answer: no transcript id is known


@pytest.mark.parametrize("variant", ["chr17:g.41276126C>A", "17:g.41276126c>a"])
def test_hgvs_genomic_substitution_is_the_same_variant(client, variant):
    params = {"hg": "37", "distance": "50", "mask": "1"}
    hgvs = client.get("/pangolin/", params={**params, "variant": variant})
    plain = client.get("/pangolin/", params={**params, "variant": STORED_SNV})
    assert hgvs.status_code == 200, hgvs.text
    assert hgvs.json()["scores"] == plain.json()["scores"] and hgvs.json()["source"] == "pangolin:store"
    accession = client.get("/pangolin/", params={**params, "variant": "NC_000017.10:g.41276126C>A"})
    assert accession.status_code == 400 and "RefSeq accessions" in accession.json()["error"]


def test_post_with_a_json_body_as_that_service_accepts(client):
    r = client.post("/pangolin/", json={"hg": "37", "distance": 50, "mask": "1", "variant": STORED_SNV})
    assert r.status_code == 200 and r.json()["source"] == "pangolin:store"


def test_errors_in_that_services_form(client):
    for params, code in (({"variant": STORED_SNV}, "missing_hg"), ({"hg": "19", "variant": STORED_SNV}, "bad_hg"),
                         ({"hg": "37", "variant": STORED_SNV, "distance": "x"}, "bad_distance"),
                         ({"hg": "37", "variant": STORED_SNV, "mask": "2"}, "bad_mask"),
                         ({"hg": "37"}, "missing_variant"),
                         ({"hg": "37", "variant": "chr17-x-C-A"}, "malformed_variant")):
        r = client.get("/pangolin/", params=params)
        assert r.status_code == 400, params
        assert r.json()["code"] == code and r.json()["source"] == "pangolin" and r.json()["error"]


def test_other_settings_are_computed_and_say_so(client):
    """distance 500 (that service's default) has no store here: the model answers."""
    r = client.get("/pangolin/", params={"hg": "37", "mask": "1", "variant": STORED_SNV})
    assert r.status_code == 200, r.text
    assert r.json()["source"] == "pangolin:model" and r.json()["distance"] == 500


def test_computed_equals_stored(client):
    """The model's answer for an SNV of the store is the store's, to the last printed digit."""
    stored = client.get("/api/v1/score", params={"variant": STORED_SNV, "hg": "37"}).json()
    computed = client.get("/api/v1/score", params={"variant": STORED_SNV, "hg": "37", "source": "model"}).json()
    assert (stored["source"], computed["source"]) == ("store", "model")
    assert computed["info"] == stored["info"] == "BRCA1|-7:0.48|6:-0.16|Warnings:"
    assert computed["genes"] == stored["genes"]


def test_indel_is_computed(client):
    r = client.get("/api/v1/score", params={"variant": "chr17:41276126:C:CA", "hg": "37"})
    assert r.status_code == 200, r.text
    assert r.json()["source"] == "model" and r.json()["genes"][0]["gene_id"] == "BRCA1"


def test_batch_mixes_sources_and_reports_each_problem(client):
    variants = [STORED_SNV, "chr17:41276127:A:G", "17:41276130 G>T", "nonsense", "chr17-41276126-G-A"]
    r = client.post("/api/v1/score", json={"variants": variants, "hg": "37"})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["variant"] for x in results] == variants
    assert results[0]["source"] == "store"
    assert results[3]["code"] == "malformed_variant"
    assert results[4]["code"] == "ref_mismatch"  # the store's reference has C there
    assert r.json()["counts"] == {"answered": 3, "errors": 2}


def test_stores_and_their_identity(client):
    body = client.get("/api/v1/stores").json()
    kinds = {s["kind"]: s for s in body["stores"]}
    assert kinds["snv"]["build"] == "37" and kinds["snv"]["distance"] == 50 and kinds["snv"]["mask"] is True
    assert kinds["track"]["build"] == "38"
    for store in body["stores"]:
        assert len(store["annotation_sha256"]) == len(store["weights_sha256"]) == 64
    assert body["model"]["build"] == "37"


def test_tracks_of_a_gene_and_of_a_region(client):
    gene = client.get("/api/v1/tracks", params={"q": "plus1", "points": 100}).json()
    assert gene["gene"] == "PLUS1" and gene["strand"] == "+" and gene["bin"] > 1
    assert set(gene["tracks"]) == {"+"} and len(gene["tracks"]["+"]["p_splice"]["brain"]) == len(gene["positions"])
    region = client.get("/api/v1/tracks", params={"q": "chr22:32,049,940-32,049,950"}).json()
    assert region["bin"] == 1 and region["positions"][0] == 32049940 and set(region["tracks"]) == {"+", "-"}
    assert max(region["tracks"]["+"]["p_splice"]["heart"]) > 0.5  # the exon's acceptor
