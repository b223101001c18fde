"""Who acts: users, their grants, passwords, login throttling and sessions."""
