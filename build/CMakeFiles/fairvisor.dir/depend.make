# Empty dependencies file for fairvisor.
# This may be replaced when dependencies are built.
