"""SpliceAI-lookup's Pangolin API (``GET /pangolin/?hg=&distance=&mask=&variant=``), its field names
and its error form, so that clients written for that service work against this one.

Answers carry one entry per gene in ``scores``, never per transcript: Pangolin (as the official
tool) scores a variant once per annotated gene whose body contains it, over the gene's span, masking
(mask=1) with the exons of the gene's tagged transcripts (``--mask-tags``; the union where a gene
has several). The gene tables of the model and of the stores keep those exons' coordinates but not
the transcripts' ids, and with mask=0 no transcript enters the score at all; so ``t_id`` is empty
(a string, as that service's clients read it) rather than an id this answer does not know, and
``t_priority`` is ``N``. Reference and alternative probabilities (``SG_REF`` ...) are not kept in
stores and are left out.
"""

from __future__ import annotations

from typing import Any

from .answers import Answer, InputProblem

DEFAULT_DISTANCE = 500  # SpliceAI-lookup's default
MAX_DISTANCE = 10_000  # SpliceAI-lookup's limit
EXAMPLE = "/pangolin/?hg=38&distance=50&mask=0&variant=chr22-32049800-G-A"
# the longest value each parameter may have (longer: the route's 422), and the header every answer carries
MAX_LENGTHS = {"variant": 1000, "hg": 20, "distance": 20, "mask": 20}
CORS = {"Access-Control-Allow-Origin": "*"}


def read_params(params: dict[str, Any]) -> tuple[str, str, int, bool]:
    """(variant text, hg, distance, mask) from query or JSON parameters, checked as that service does."""
    variant = params.get("variant", "")
    if not isinstance(variant, str):
        raise InputProblem("malformed_variant", f'"variant" must be a string, not {type(variant).__name__}')
    variant = variant.strip().strip("'").strip('"').strip(",")
    if not variant:
        raise InputProblem("missing_variant", '"variant" not specified')
    hg = params.get("hg")
    if not hg:
        raise InputProblem("missing_hg", f'"hg" not specified: hg=37 or hg=38. For example: {EXAMPLE}')
    if hg not in ("37", "38"):
        raise InputProblem("bad_hg", f'invalid "hg" value: {str(hg)[:20]!r}; it must be 37 or 38')
    distance_text = params.get("distance", DEFAULT_DISTANCE)
    try:
        distance = int(str(distance_text)[:20])
    except ValueError:
        raise InputProblem("bad_distance", f'invalid "distance": {str(distance_text)[:20]!r}; it must be an '
                           "integer") from None
    if not 1 <= distance <= MAX_DISTANCE:
        raise InputProblem("bad_distance", f'invalid "distance": {distance}; it must be 1 to {MAX_DISTANCE}')
    mask = str(params.get("mask", "0"))
    if mask not in ("0", "1"):
        raise InputProblem("bad_mask", f'invalid "mask" value: {mask[:20]!r}; it must be 0 or 1')
    return variant, hg, distance, mask == "1"


def response(answer: Answer, hg: str) -> dict[str, Any]:
    """The success body: variant, genomeVersion, chrom, pos, ref, alt, distance, mask, scores, source."""
    v = answer.variant
    scores = [{"DS_SG": f"{g.gain:.2f}", "DS_SL": f"{g.loss:.2f}", "DP_SG": g.gain_pos, "DP_SL": g.loss_pos,
               "g_id": g.gene_id, "g_name": g.gene_name, "t_id": "", "t_priority": "N",
               "warnings": g.warning} for g in answer.genes]
    chrom = v.chrom[3:] if v.chrom.lower().startswith("chr") else v.chrom  # as that service reports it
    body = {"variant": v.text, "genomeVersion": hg, "chrom": chrom, "pos": v.pos, "ref": v.ref, "alt": v.alt,
            "distance": answer.distance, "mask": "True" if answer.mask else "False", "scores": scores,
            "source": f"pangolin:{answer.source}", "store": answer.store,
            "allNonZeroScores": None, "allNonZeroScoresStrand": None, "allNonZeroScoresTranscriptId": None}
    if not scores:
        body["error"] = ("Pangolin was unable to compute scores for this variant: no annotated gene body "
                         "contains it")
    return body


def error_body(problem: InputProblem, variant: str | None = None) -> dict[str, Any]:
    """The error form its clients read: ``error`` (the message) and ``source``."""
    body = {"error": problem.message, "code": problem.code, "source": "pangolin"}
    if variant:
        body["variant"] = variant[:200]
    return body
