"""Server-side machinery shared by the Dataverse and S/4HANA emulators.

Nothing here imports a sandbox or a service: the sandboxes build on it, and the client-side
code in ``isthmus.connectors`` stays separate on purpose, so the emulators remain an independent
check on the clients.
"""
