"""The function library of the expression language, one module per family."""
