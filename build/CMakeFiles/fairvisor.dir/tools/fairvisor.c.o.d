CMakeFiles/fairvisor.dir/tools/fairvisor.c.o: \
 /work/main/tools/fairvisor.c /usr/include/stdc-predef.h
