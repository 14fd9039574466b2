"""HTTP surface.

SAP API routes with auth and CSRF, journal entry SOAP, fault injection and the admin API.
"""
