"""Unit tests of the pure business-rule layer (domain/)."""
