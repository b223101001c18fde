"""The congress's own vocabulary: its roles, its permissions, and what every congress role carries."""
