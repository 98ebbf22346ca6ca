"""PSCGAN networks: SCLN encoder blocks, generators, discriminators, the three-phase cascade."""
