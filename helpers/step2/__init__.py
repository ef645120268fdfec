"""Step 2, multimodal search: what only notebooks 2.1 and 2.2 use."""
