"""isthmus: the operators' command line; one typer sub-app per module."""
