"""Implementation files of `ndgrad.nn.functional`, one per area."""
