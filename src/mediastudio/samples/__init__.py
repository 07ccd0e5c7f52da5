"""Sample projects shipped with the studio (examples/samples/): listed, and copied into a person's workspace."""
