"""Operating a running service, deployed or local: `xray-signup renotify` (owed notifications)."""
