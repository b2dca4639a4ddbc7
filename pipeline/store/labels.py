"""The labels of the coordinates that the all-SNV format fixes: written by its layout (snvs/layout.py)
and supplied by the backend to readers by URL, which then need no request per label array."""

ALTS = ("A", "C", "G", "T")
STATS = ("p_splice_gain", "p_splice_loss", "usage_gain", "usage_loss")
