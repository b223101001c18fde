"""Deputies 人大代表 of every level, their stations, their accounts, and the import from offices' sheets."""
