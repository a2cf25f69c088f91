"""Auth-chain tests on real engines: OpenBao with the AWS auth plugin, moto_server for IAM/STS."""
