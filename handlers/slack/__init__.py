"""Thin Bolt listeners: parse the payload, call one use-case, answer."""
