"""Step 6: a multi-vector recommender (see helpers/__init__.py)."""
