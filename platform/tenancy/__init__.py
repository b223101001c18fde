"""Tenants, their org trees, handling units, joint stations and typed per-tenant settings."""
