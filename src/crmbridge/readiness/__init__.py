"""First-day readiness: `crmbridge check` (is this config right for these systems?) and
`crmbridge setup` (write a config that is). Both speak to the real systems through the same
connectors as the flows, and say what failed in one line with what to do."""
