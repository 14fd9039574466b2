"""OData machinery of the Web API.

The table model, query options, `$filter`, `$batch`, payloads and serialisation.
"""
