"""Unit tests of document rendering (documents/): filters, notifications, PDFs."""
