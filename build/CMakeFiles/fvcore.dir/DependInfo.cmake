
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/hv/hist.c" "CMakeFiles/fvcore.dir/hv/hist.c.o" "gcc" "CMakeFiles/fvcore.dir/hv/hist.c.o.d"
  "/work/main/hv/scenario.c" "CMakeFiles/fvcore.dir/hv/scenario.c.o" "gcc" "CMakeFiles/fvcore.dir/hv/scenario.c.o.d"
  "/work/main/hv/schedule.c" "CMakeFiles/fvcore.dir/hv/schedule.c.o" "gcc" "CMakeFiles/fvcore.dir/hv/schedule.c.o.d"
  "/work/main/sched/arinc653.c" "CMakeFiles/fvcore.dir/sched/arinc653.c.o" "gcc" "CMakeFiles/fvcore.dir/sched/arinc653.c.o.d"
  "/work/main/sched/credit.c" "CMakeFiles/fvcore.dir/sched/credit.c.o" "gcc" "CMakeFiles/fvcore.dir/sched/credit.c.o.d"
  "/work/main/sched/credit2.c" "CMakeFiles/fvcore.dir/sched/credit2.c.o" "gcc" "CMakeFiles/fvcore.dir/sched/credit2.c.o.d"
  "/work/main/sched/null.c" "CMakeFiles/fvcore.dir/sched/null.c.o" "gcc" "CMakeFiles/fvcore.dir/sched/null.c.o.d"
  "/work/main/sched/registry.c" "CMakeFiles/fvcore.dir/sched/registry.c.o" "gcc" "CMakeFiles/fvcore.dir/sched/registry.c.o.d"
  "/work/main/sched/rtds.c" "CMakeFiles/fvcore.dir/sched/rtds.c.o" "gcc" "CMakeFiles/fvcore.dir/sched/rtds.c.o.d"
  "/work/main/workloads/cpu.c" "CMakeFiles/fvcore.dir/workloads/cpu.c.o" "gcc" "CMakeFiles/fvcore.dir/workloads/cpu.c.o.d"
  "/work/main/workloads/registry.c" "CMakeFiles/fvcore.dir/workloads/registry.c.o" "gcc" "CMakeFiles/fvcore.dir/workloads/registry.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
