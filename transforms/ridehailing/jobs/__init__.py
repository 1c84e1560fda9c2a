"""The ride-hailing jobs: publish, evaluate."""
