"""OData V2 machinery.

The EDMX model, Edm values, `$filter`, query options, `$batch`, Atom/JSON and the dispatcher.
"""
