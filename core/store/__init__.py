"""The only package that speaks SQL: the SQL store, schema, metrics, search compiler, lifecycle."""
