"""Thin listeners, one folder per surface (slack/, teams/): parse the payload, call one use-case,
answer. `errors.py` turns failures into words for both."""
