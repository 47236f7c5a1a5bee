# Empty dependencies file for fvcore.
# This may be replaced when dependencies are built.
