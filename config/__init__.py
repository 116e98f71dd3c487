"""Settings and logging configuration shared by every process."""
