// gbench.cc — the C interface of gbench.h over Google Benchmark (C++17).
#include "gbench.h"

#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

namespace {

benchmark::State &S(gb_state *st) { return *reinterpret_cast<benchmark::State *>(st); }
benchmark::internal::Benchmark *B(gb_bench *b)
{
    return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}
gb_bench *H(benchmark::internal::Benchmark *b) { return reinterpret_cast<gb_bench *>(b); }

}  // namespace

extern "C" {

gb_bench *gb_register(const char *name, gb_fn fn, void *arg)
{
    return H(benchmark::RegisterBenchmark(name, [fn, arg](benchmark::State &st) {
        fn(reinterpret_cast<gb_state *>(&st), arg);
    }));
}

gb_bench *gb_register_range(const char *name, gb_fn fn, void *arg, int64_t lo, int64_t hi,
                            int mult)
{
    return H(B(gb_register(name, fn, arg))->RangeMultiplier(mult)->Range(lo, hi));
}

gb_bench *gb_arg(gb_bench *b, int64_t a) { return H(B(b)->Arg(a)); }
gb_bench *gb_arg_name(gb_bench *b, const char *name) { return H(B(b)->ArgName(name)); }
gb_bench *gb_use_manual_time(gb_bench *b) { return H(B(b)->UseManualTime()); }
gb_bench *gb_use_real_time(gb_bench *b) { return H(B(b)->UseRealTime()); }

int gb_main(int argc, char **argv)
{
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

bool gb_keep_running(gb_state *st) { return S(st).KeepRunning(); }
bool gb_keep_running_batch(gb_state *st, int64_t n) { return S(st).KeepRunningBatch(n); }
int64_t gb_range(gb_state *st, int i) { return S(st).range(static_cast<std::size_t>(i)); }
int64_t gb_iterations(gb_state *st) { return S(st).iterations(); }
void gb_pause_timing(gb_state *st) { S(st).PauseTiming(); }
void gb_resume_timing(gb_state *st) { S(st).ResumeTiming(); }
void gb_set_iteration_time(gb_state *st, double seconds) { S(st).SetIterationTime(seconds); }
void gb_set_items(gb_state *st, int64_t items) { S(st).SetItemsProcessed(items); }
void gb_set_label(gb_state *st, const char *label) { S(st).SetLabel(label); }
void gb_skip_with_error(gb_state *st, const char *msg) { S(st).SkipWithError(msg); }

void gb_counter(gb_state *st, const char *name, double value, unsigned flags)
{
    using C = benchmark::Counter;
    int f = C::kDefaults;
    if (flags & GB_COUNTER_RATE)
        f |= C::kIsRate;
    if (flags & GB_COUNTER_ITER_INVARIANT)
        f |= C::kIsIterationInvariant;
    if (flags & GB_COUNTER_AVG_ITERATIONS)
        f |= C::kAvgIterations;
    if (flags & GB_COUNTER_INVERT)
        f |= C::kInvert;
    S(st).counters[std::string(name)] = C(value, static_cast<C::Flags>(f));
}

double gb_now(void)
{
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // extern "C"
