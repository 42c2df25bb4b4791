"""Wiring, in three rooms: `local/` (how it runs on a laptop), `deploy/` (how it is deployed to
Elastic Beanstalk), `ops/` (operating the running service, deployed or local); `cli.py` dispatches
the `xray-signup` command to the module of each subcommand."""
