"""The signup domain: validation, the DynamoDB store, the SNS notifier, the service joining them."""
