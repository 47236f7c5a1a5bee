file(REMOVE_RECURSE
  "libfvtestutil.a"
)
