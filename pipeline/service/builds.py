"""Which genome build (37 or 38) a reference is, from its contig lengths (no FASTA headers needed).

SpliceAI-lookup clients name the build (``hg=37|38``); stores and FASTAs only know their contigs.
A contig whose length is that chromosome's length in exactly one build decides it.
"""

from __future__ import annotations

import re

# (GRCh37, GRCh38) lengths of the primary chromosomes
LENGTHS = {
    "1": (249250621, 248956422), "2": (243199373, 242193529), "3": (198022430, 198295559),
    "4": (191154276, 190214555), "5": (180915260, 181538259), "6": (171115067, 170805979),
    "7": (159138663, 159345973), "8": (146364022, 145138636), "9": (141213431, 138394717),
    "10": (135534747, 133797422), "11": (135006516, 135086622), "12": (133851895, 133275309),
    "13": (115169878, 114364328), "14": (107349540, 107043718), "15": (102531392, 101991189),
    "16": (90354753, 90338345), "17": (81195210, 83257441), "18": (78077248, 80373285),
    "19": (59128983, 58617616), "20": (63025520, 64444167), "21": (48129895, 46709983),
    "22": (51304566, 50818468), "X": (155270560, 156040895), "Y": (59373566, 57227415),
}
BUILDS = ("37", "38")


def infer_build(contigs: dict[str, int]) -> str | None:
    """"37", "38", or None when no contig's length says (or contigs disagree)."""
    votes = set()
    for name, length in contigs.items():
        known = LENGTHS.get(re.sub(r"^chr", "", name, flags=re.IGNORECASE).upper())
        if known and length in known:
            votes.add(BUILDS[known.index(length)])
    return votes.pop() if len(votes) == 1 else None
