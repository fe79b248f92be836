"""The metadata catalog's domain: typed attributes, CQL2 filters and STAC records."""
