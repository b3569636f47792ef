"""Faithful emulators of Bitrix24 REST and 1C/BAS OData, for tests, benchmarks and the demo."""
