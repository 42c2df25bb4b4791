"""An offline AWS X-Ray: the daemon, the X-Ray API and the console, on AWS's own wire formats.

One folder per stage, in the order a segment travels:

- `ingest/`: how documents arrive (the daemon's UDP protocol and receiver);
- `store/`: where they are kept (SQLite: traces, log events, retention);
- `query/`: what is read out of them (trace views, summaries, the filter language in
  `query/filters/`, the service graph, CloudWatch Logs filter patterns);
- `api/`: the HTTP operations (X-Ray REST API with sampling, the CloudWatch Logs subset);
- `console/`: the pages, which read only through the X-Ray API (and `console --aws`).

At the top, the wiring: `server.py` (`XRayServer`: UDP and HTTP on one port, the stores) and
`cli.py` (`xray-signup xray`, `python -m xray_local`).
"""
