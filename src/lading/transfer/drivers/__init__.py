"""Endpoint drivers: one file per storage kind, all behind `base.EndpointDriver`."""
