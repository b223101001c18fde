"""The congress work, always inside a tenant: deputies, suggestions, stations, opinions, projects."""
