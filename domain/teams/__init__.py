"""Teams: who is on which team, in which role, and who leads it."""
