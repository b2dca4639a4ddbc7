"""Reading a track store: queries, genome-browser exports, plots."""
