"""The flow expression language: tokenizer, parser, AST and compiler to closures."""
