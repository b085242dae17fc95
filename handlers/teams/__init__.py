"""Thin Teams listeners on the SDK's App: parse an activity, call one use-case, answer."""
