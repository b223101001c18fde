"""Roles with their permissions, principals, and the one question every action asks: can()."""
