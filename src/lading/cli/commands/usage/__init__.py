"""`lading usage`: charge-back reports of project usage."""
