"""Business rules: tickets, votes, reminders and digests, free of SDKs and databases."""
