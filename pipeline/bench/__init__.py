"""Benchmarks that print their figures: engine throughput and error, variant scoring, queries."""
