"""Notifications: the in-app inbox, and the outbox that carries them to SMS and WeChat gateways."""
