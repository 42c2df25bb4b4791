"""API: the HTTP operations served on the daemon's TCP port, in AWS's own wire formats.

- `xray`: the X-Ray REST API blueprint (PutTraceSegments, GetTraceSummaries, BatchGetTraces,
  GetServiceGraph, GetTraceGraph, the sampling operations, ...) and `ApiContext`, the
  collaborators it reads;
- `sampling`: the centralized sampling rules (from a JSON file) that GetSamplingRules and
  GetSamplingTargets answer with;
- `logs`: the CloudWatch Logs subset (JSON 1.1, `X-Amz-Target`) the console reads log lines with;
- `validation`: request-body checks and page tokens, with messages that name the member at fault.

Each module answers from the store through the query stage; `xray_local.server` mounts them.
"""
