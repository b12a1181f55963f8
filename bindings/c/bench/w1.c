/*
 * W1 through the C ABI: start a span, set 3 attributes (string, int64, bool), end it, free it.
 * Exporter "none" (the full pipeline runs: sampler, batch queue, export thread; nothing is sent).
 * Same work as `cargo bench -p polytrace-core --bench spans -- span_start_3_attrs_end/polytrace`
 * and bench/w1_rust.rs, plus the C handle's free.
 *
 *   ./w1 [spans-per-round] [rounds]   prints the best and median round in ns/span of the
 *                                     calling thread's CPU time
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c99 */
#include "polytrace.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define LIT(s) (s), (sizeof(s) - 1)

/* CPU time of this thread: what the span calls cost, without the time this thread spends
 * preempted (this machine is shared) or the export thread's work. */
static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int fail(polytrace_error_t *err) {
  fprintf(stderr, "error: %s\n", polytrace_error_message(err));
  polytrace_error_free(err);
  return 1;
}

int main(int argc, char **argv) {
  long per_round = argc > 1 ? atol(argv[1]) : 1000000;
  int rounds = argc > 2 ? atoi(argv[2]) : 7;
  if (per_round <= 0 || rounds <= 0 || rounds > 100) return 2;
  /* A queue large enough that the export thread keeps up and no span is dropped: a dropped
   * span costs the producer differently from a queued one, which would make the two
   * benchmarks depend on how fast the export thread happens to run. */
  polytrace_kv_t opts[4] = {
      {{LIT("service_name")}, {LIT("bench")}},
      {{LIT("exporter")}, {LIT("none")}},
      {{LIT("sampler")}, {LIT("always_on")}},
      {{LIT("max_queue_size")}, {LIT("262144")}},
  };
  polytrace_provider_t *provider = NULL;
  polytrace_tracer_t *tracer = NULL;
  polytrace_error_t *err = polytrace_provider_new(opts, 4, &provider);
  if (err) return fail(err);
  err = polytrace_tracer_new(provider, LIT("bench"), NULL, 0, &tracer);
  if (err) return fail(err);

  double results[100];
  for (int r = -1; r < rounds; r++) { /* round -1 warms up */
    double t0 = now_ns();
    for (long i = 0; i < per_round; i++) {
      polytrace_span_t *s = NULL;
      if ((err = polytrace_span_start(tracer, LIT("op"), NULL, &s))) return fail(err);
      if ((err = polytrace_span_set_attribute_string(s, LIT("http.method"), LIT("GET"))))
        return fail(err);
      if ((err = polytrace_span_set_attribute_int64(s, LIT("http.status_code"), 200)))
        return fail(err);
      if ((err = polytrace_span_set_attribute_bool(s, LIT("cache.hit"), true))) return fail(err);
      if ((err = polytrace_span_end(s, 0))) return fail(err);
      polytrace_span_free(s);
    }
    double per = (now_ns() - t0) / (double)per_round;
    if (r >= 0) results[r] = per;
  }
  qsort(results, (size_t)rounds, sizeof results[0], cmp);
  polytrace_stats_t stats;
  if ((err = polytrace_provider_stats(provider, &stats))) return fail(err);
  printf("w1 c_abi: best %.1f ns/span, median %.1f ns/span thread CPU (%d rounds of %ld, %llu "
         "dropped)\n",
         results[0], results[rounds / 2], rounds, per_round,
         (unsigned long long)stats.spans_dropped);

  if ((err = polytrace_provider_shutdown(provider, 5000))) {
    polytrace_error_free(err); /* spans dropped by a full queue are fine here */
  }
  polytrace_tracer_free(tracer);
  polytrace_provider_free(provider);
  return 0;
}
