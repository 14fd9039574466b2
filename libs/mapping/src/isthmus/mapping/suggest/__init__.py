"""Mapping suggestions: rank source fields for unmapped target fields by name, type and values."""
