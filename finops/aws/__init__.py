"""Everything that talks to AWS STS and regions. boto3 is used only here and in ``collect/``."""
