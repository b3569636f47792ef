"""One package per external system; all share the HTTP layer and the `Connector` shape."""
