"""Feedback: what customers, peers and managers said, and what was done about it."""
