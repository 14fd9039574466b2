"""HTTP surface.

Web API and Entra routes, the request pipeline, throttling, faults, call log and admin API.
"""
