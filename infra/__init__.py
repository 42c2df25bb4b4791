"""Wiring, in three rooms: `local/` (how it runs on a laptop), `deploy/` (how it is deployed to
Elastic Beanstalk), `ops/` (operating a running deployment); `cli.py` dispatches `xray-signup`."""
