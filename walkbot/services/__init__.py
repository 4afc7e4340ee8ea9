"""Use cases: domain rules joined to the store. Each takes the session explicitly, keyword-only."""
