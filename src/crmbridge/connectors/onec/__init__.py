"""The 1C / BAS connector: the standard OData interface plus the extension's HTTP service (PDF).

Pure parts (literals and URLs, queries, `$metadata`, error bodies, the per-configuration profile,
cursors, webhook signatures) are separate from the parts that call the server (`client`,
`connector`, `objects`, `payments`), so they are tested without a server.
"""
