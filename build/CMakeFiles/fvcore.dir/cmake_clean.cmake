file(REMOVE_RECURSE
  "CMakeFiles/fvcore.dir/hv/hist.c.o"
  "CMakeFiles/fvcore.dir/hv/hist.c.o.d"
  "CMakeFiles/fvcore.dir/hv/scenario.c.o"
  "CMakeFiles/fvcore.dir/hv/scenario.c.o.d"
  "CMakeFiles/fvcore.dir/hv/schedule.c.o"
  "CMakeFiles/fvcore.dir/hv/schedule.c.o.d"
  "CMakeFiles/fvcore.dir/sched/arinc653.c.o"
  "CMakeFiles/fvcore.dir/sched/arinc653.c.o.d"
  "CMakeFiles/fvcore.dir/sched/credit.c.o"
  "CMakeFiles/fvcore.dir/sched/credit.c.o.d"
  "CMakeFiles/fvcore.dir/sched/credit2.c.o"
  "CMakeFiles/fvcore.dir/sched/credit2.c.o.d"
  "CMakeFiles/fvcore.dir/sched/null.c.o"
  "CMakeFiles/fvcore.dir/sched/null.c.o.d"
  "CMakeFiles/fvcore.dir/sched/registry.c.o"
  "CMakeFiles/fvcore.dir/sched/registry.c.o.d"
  "CMakeFiles/fvcore.dir/sched/rtds.c.o"
  "CMakeFiles/fvcore.dir/sched/rtds.c.o.d"
  "CMakeFiles/fvcore.dir/workloads/cpu.c.o"
  "CMakeFiles/fvcore.dir/workloads/cpu.c.o.d"
  "CMakeFiles/fvcore.dir/workloads/registry.c.o"
  "CMakeFiles/fvcore.dir/workloads/registry.c.o.d"
  "libfvcore.a"
  "libfvcore.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/fvcore.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
