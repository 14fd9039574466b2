"""Event Mesh emulation: business events, queues with topic subscriptions, and webhook push."""
