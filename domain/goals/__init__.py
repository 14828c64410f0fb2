"""Goals: SMART goals a team pursues, their check-ins, revisions and outcome."""
