"""The application layer: jobs that join the product's pure modules (bantin) and storage.

Flows (flows/) and the CLI (bantin/commands/) call these plain functions; nothing
deeper in bantin imports storage.
"""
