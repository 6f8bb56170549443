"""Custom integrations for Home Assistant (this repository ships `one_nce`)."""
