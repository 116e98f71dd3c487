"""Temporal activities: the side effects the workflows ask for."""
