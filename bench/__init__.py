"""Benchmarks: crawl, track, classify, digest and review at scale, against targets.

``python -m bench.run`` (``make bench``) runs them and updates bench/RESULTS.md; see
bench/README.md. Nothing here is imported by settlewatch itself.
"""
