"""Trading journal engine: round trips from fills and period reviews (pure, no database)."""
