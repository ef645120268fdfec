"""Step 3, visual instruction tuning: what only notebooks 3.1 and 3.2 and Step 3's rebuild use."""
