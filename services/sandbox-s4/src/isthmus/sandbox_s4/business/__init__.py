"""The S/4HANA business objects.

Sales orders, deliveries, billing, partners, journal entries, stock and customizing.
"""
