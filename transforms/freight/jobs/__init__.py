"""Freight jobs: publishing the landed feeds (opening envelopes), anomalies, statistics."""
