"""The Dataverse organisation.

Its tables, seed data, write rules, computed columns, actions and webhook steps.
"""
