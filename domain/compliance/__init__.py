"""Compliance: the controls' policies (thresholds with their history) and decisions on findings."""
