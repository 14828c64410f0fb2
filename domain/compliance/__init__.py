"""Compliance: decisions on the findings of the compliance controls (and control policies)."""
