/* client_fixtures.h — domains as the management API reports them, and the
 * xl list rows they make (tests/test_client*.c). The rows were written
 * from xl's format ("%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f"), not
 * from the client's output. */
#ifndef FV_CLIENT_FIXTURES_H
#define FV_CLIENT_FIXTURES_H

#define DOM_WEB "{\"name\":\"web\",\"id\":3,\"state\":\"running\",\"vcpus\":1," \
    "\"memory_bytes\":67108864,\"cpu_ns\":12345000000,\"sched\":{\"weight\":512,\"cap\":0}}"
#define DOM_DB "{\"name\":\"db\",\"id\":4,\"state\":\"paused\",\"vcpus\":2," \
    "\"memory_bytes\":134217728,\"cpu_ns\":0,\"sched\":{\"weight\":256,\"cap\":50}}"
#define DOM_LONG "{\"name\":\"a-very-long-domain-name-that-overflows-xl\",\"id\":12," \
    "\"state\":\"blocked\",\"vcpus\":1,\"memory_bytes\":1048576,\"cpu_ns\":3070000000}"

#define LIST_HEAD "Name                                        ID   Mem VCPUs\tState\tTime(s)\n"
#define LIST_WEB  "web                                          3    64     1     r-----      12.3\n"
#define LIST_DB   "db                                           4   128     2     --p---       0.0\n"
#define LIST_LONG "a-very-long-domain-name-that-overflows-xl    12     1     1     -b----       3.1\n"

#endif
