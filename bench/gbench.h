/* gbench.h — a thin C interface to Google Benchmark (bench/gbench.cc), so
 * that the microbenchmarks can be written in C like the rest of fairvisor.
 *
 *   static void bm_foo(gb_state *st, void *arg)
 *   {
 *       while (gb_keep_running_batch(st, 1000))
 *           for (int i = 0; i < 1000; i++)
 *               foo();
 *   }
 *   int main(int argc, char **argv)
 *   {
 *       gb_register("foo", bm_foo, NULL);
 *       return gb_main(argc, argv);     // parses --benchmark_* flags
 *   }
 *
 * One benchmark "iteration" is whatever the loop body counts as one; the
 * Time column is total time / iterations, so a batch loop reports per item.
 * Registration functions return the benchmark so options can be chained
 * (gb_use_manual_time(gb_register_range(...))).
 */
#ifndef FV_GBENCH_H
#define FV_GBENCH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_state gb_state;   /* a benchmark::State */
typedef struct gb_bench gb_bench;   /* a registered benchmark::internal::Benchmark */
typedef void (*gb_fn)(gb_state *st, void *arg);

/* ---- registration (before gb_main) -------------------------------------- */

gb_bench *gb_register(const char *name, gb_fn fn, void *arg);
/* Arguments lo, lo*mult, ..., hi (Google Benchmark's Range with
 * RangeMultiplier): gb_range(st, 0) reads the current one. */
gb_bench *gb_register_range(const char *name, gb_fn fn, void *arg,
                            int64_t lo, int64_t hi, int mult);
gb_bench *gb_arg(gb_bench *b, int64_t a);           /* one more argument value */
gb_bench *gb_arg_name(gb_bench *b, const char *name); /* "name/vcpus:10" */
/* Time comes from gb_set_iteration_time, not the library's timer. */
gb_bench *gb_use_manual_time(gb_bench *b);
gb_bench *gb_use_real_time(gb_bench *b);            /* rates by wall time */

/* Parse --benchmark_* flags, run the selected benchmarks, print the report.
 * Returns 0, or 1 on an unknown argument. */
int gb_main(int argc, char **argv);

/* ---- inside a benchmark ------------------------------------------------- */

/* One more iteration? Costs a call across the wrapper: prefer the batch
 * form in tight loops. */
bool gb_keep_running(gb_state *st);
/* n more iterations? (may overshoot the target by up to n; the reported
 * iteration count is exact). */
bool gb_keep_running_batch(gb_state *st, int64_t n);
int64_t gb_range(gb_state *st, int i);
int64_t gb_iterations(gb_state *st);
void gb_pause_timing(gb_state *st);
void gb_resume_timing(gb_state *st);
/* With gb_use_manual_time: the seconds taken by the iterations just run
 * (added up by the library; Time = their sum / iterations). */
void gb_set_iteration_time(gb_state *st, double seconds);
void gb_set_items(gb_state *st, int64_t items);     /* -> items_per_second */
void gb_set_label(gb_state *st, const char *label);
/* Report the benchmark as skipped with msg; the loop must not run after. */
void gb_skip_with_error(gb_state *st, const char *msg);

/* A user counter (printed as name=value). Flags are benchmark::Counter's. */
enum {
    GB_COUNTER_DEFAULT = 0,
    GB_COUNTER_RATE = 1 << 0,               /* value / time */
    GB_COUNTER_ITER_INVARIANT = 1 << 2,     /* value * iterations */
    GB_COUNTER_AVG_ITERATIONS = 1 << 3,     /* value / iterations */
    GB_COUNTER_INVERT = 1 << 4,             /* 1 / result (e.g. seconds per item) */
};
void gb_counter(gb_state *st, const char *name, double value, unsigned flags);

/* Keep the compiler from discarding a value or assuming memory unchanged
 * (Google Benchmark's DoNotOptimize/ClobberMemory, as inline asm). */
static inline void gb_do_not_optimize(const void *p)
{
    __asm__ volatile("" : : "r"(p) : "memory");
}
static inline void gb_clobber_memory(void)
{
    __asm__ volatile("" : : : "memory");
}

/* Monotonic wall time in seconds, for gb_set_iteration_time. */
double gb_now(void);

#ifdef __cplusplus
}
#endif

#endif
