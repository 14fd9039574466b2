"""Local emulator of SAP S/4HANA: OData V2 APIs, CSRF, auth, events, journal entry SOAP."""
