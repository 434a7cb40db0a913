"""Resilience of migrant workers and their families (issue 10): placeholder, filled below."""
