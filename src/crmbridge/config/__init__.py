"""The configuration: YAML with environment interpolation, validated, with file/line errors."""
