# Empty dependencies file for fvtestutil.
# This may be replaced when dependencies are built.
