file(REMOVE_RECURSE
  "CMakeFiles/fairvisor.dir/tools/fairvisor.c.o"
  "CMakeFiles/fairvisor.dir/tools/fairvisor.c.o.d"
  "fairvisor"
  "fairvisor.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/fairvisor.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
