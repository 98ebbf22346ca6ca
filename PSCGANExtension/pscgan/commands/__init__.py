"""One module per `pscgan` sub-command; each has `add_arguments(parser)` and `run(args) -> int`."""
