"""Pure translations of sap-sink commands into S/4HANA payloads and state."""
