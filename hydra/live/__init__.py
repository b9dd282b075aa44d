"""Live processes: stopping one for a moment (`hydra snap --pid`) and what /proc tells."""
