# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test(test_hist "/work/main/build/tests/test_hist")
set_tests_properties(test_hist PROPERTIES  ENVIRONMENT "FV_BIN=/work/main/build/fairvisor;FV_SOURCE_DIR=/work/main" LABELS "fast" SKIP_RETURN_CODE "77" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;17;add_test;/work/main/tests/CMakeLists.txt;0;")
