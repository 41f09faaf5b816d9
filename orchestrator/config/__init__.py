"""The run configuration: one frozen, typed object built at the edge (flags, TOML file), passed down."""
