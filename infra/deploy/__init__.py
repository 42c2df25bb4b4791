"""How it is deployed: the Elastic Beanstalk source bundle (`xray-signup bundle`), the environment's
resources merged into a CloudFormation template the way EB merges them, and the IAM template."""
