"""The only code that issues SQL: schema, migrations and one small module per table family."""
