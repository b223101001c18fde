"""Delivery: the FastAPI app, its pages and partials, the JSON API and the command line."""
