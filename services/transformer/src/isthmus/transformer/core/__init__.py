"""The pure part of the transformer: dispatch, command stamping and the record handler."""
