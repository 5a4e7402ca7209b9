"""Use cases: one function each. They take a database session and plain values, never Flask."""
