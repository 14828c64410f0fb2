"""Incidents: how an outage was handled, from opening to postmortem and close."""
