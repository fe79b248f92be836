"""Lading: a self-hostable research data platform with an S3-compatible object store."""

__version__ = "0.1.0"
