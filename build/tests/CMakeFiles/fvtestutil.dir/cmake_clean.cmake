file(REMOVE_RECURSE
  "CMakeFiles/fvtestutil.dir/fake_core.c.o"
  "CMakeFiles/fvtestutil.dir/fake_core.c.o.d"
  "CMakeFiles/fvtestutil.dir/testutil.c.o"
  "CMakeFiles/fvtestutil.dir/testutil.c.o.d"
  "libfvtestutil.a"
  "libfvtestutil.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/fvtestutil.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
