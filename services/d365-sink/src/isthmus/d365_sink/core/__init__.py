"""Pure translations of d365-sink commands into Dataverse payloads and state."""
