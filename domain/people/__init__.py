"""People: the trainings a team requires (by role), their assignments to members and
completions, and the team's policies, their versions and each member's acknowledgement."""
