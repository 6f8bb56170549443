"""Tests of the Home-Assistant-free polling decisions."""
