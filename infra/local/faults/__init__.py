"""Failure scenarios for the local stack: a fault-injecting proxy in front of moto.

The app has no failure code of its own: the failures are real on the wire, answered between the
app and the local AWS endpoint with AWS's own error shapes, so botocore's retries, the SDK's
subsegments and the service map see exactly what they would see from AWS.
"""
