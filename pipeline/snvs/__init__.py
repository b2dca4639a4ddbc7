"""The all-SNV store: every SNV of chosen regions scored as `score` would, precomputed and looked up."""
