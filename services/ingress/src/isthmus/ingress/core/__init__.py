"""Pure ingress logic: payload conversion, de-duplication, echo detection, limits."""
