"""The manual bridge: export and import files, and the written procedure that goes with them."""
