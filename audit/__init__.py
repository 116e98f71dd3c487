"""Compliance audit: workflow timelines, decision-log verification, data retention."""
