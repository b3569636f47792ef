"""The HTTP side: webhook intake, health, (later) the management API and the dashboard."""
