"""The built-in flows: clients CRM → BAS, catalog BAS → CRM, issue invoice, payment → CRM.

Flows work on plain records through a `FlowContext` (connectors, links, effects, decisions); they
never build an HTTP request or a SQL statement themselves.
"""
