"""Outgoing notifications: SMS through a gateway's HTTP API and e-mail over SMTP."""
