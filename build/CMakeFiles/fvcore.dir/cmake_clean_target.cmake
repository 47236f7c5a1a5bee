file(REMOVE_RECURSE
  "libfvcore.a"
)
