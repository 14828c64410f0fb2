"""Access: bearer tokens issued and revoked through the API, each an aggregate."""
