"""Local emulator."""
