"""The shared vocabulary: records, identifiers and the model and storage protocols.

Every layer of the package imports from here; this package imports nothing of
``lightrag`` above it, and importing a module of it is cheap (no numpy, no engine).
"""
