"""Step 5: industry applications, documents: invoices and receipts (see helpers/__init__.py)."""
