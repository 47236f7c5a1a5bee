# Empty dependencies file for test_hist.
# This may be replaced when dependencies are built.
