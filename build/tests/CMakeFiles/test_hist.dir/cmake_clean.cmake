file(REMOVE_RECURSE
  "CMakeFiles/test_hist.dir/test_hist.c.o"
  "CMakeFiles/test_hist.dir/test_hist.c.o.d"
  "test_hist"
  "test_hist.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_hist.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
