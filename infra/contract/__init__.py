"""The public event contract: CloudEvents on the wire, the published JSON Schemas
and AsyncAPI document, and upcasting older schema versions to the current ones."""
