"""The demo: a seeded, made-up operation in western Libya (``scenario``) and the run of every
stage on it (``run``)."""
