"""Use cases and read models of a panel itself: who may act on it, and its groups, statements and people."""
