"""Disbursements and collections through an institution's core banking / payment system."""
