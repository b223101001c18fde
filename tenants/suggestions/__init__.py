"""Deputy suggestions (代表建议、批评和意见): submission to closing, with deadlines and supervision."""
