"""Wiring: the `xray-signup` command, the local stack, and the Elastic Beanstalk deployment."""
