"""Risks: the risk register (identified, assessed, treated, accepted, closed), the
contingency plans that say who does what when a risk happens, and the incidents
linked to what foresaw them."""
