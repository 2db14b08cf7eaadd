"""Shared plumbing of the shop's services.

Server bootstrap, error mapping, settings, storage helpers and the local stack runner.
"""
