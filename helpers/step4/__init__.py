"""Step 4: multimodal RAG over a knowledge base of concept cards (see helpers/__init__.py)."""
