"""HTTP views, one blueprint per concern."""
