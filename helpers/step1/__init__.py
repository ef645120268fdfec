"""Step 1, contrastive embeddings: what only notebooks 1.1 and 1.2 and Step 1's rebuild use."""
