"""Unit tests of the platform plumbing: settings, security, logging, decision chain."""
