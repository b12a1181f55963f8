/*
 * W1 through the C ABI: start a span, set 3 attributes (string, int64, bool), end it, free it.
 * Exporter "none" (the full pipeline runs: sampler, batch queue, export thread; nothing is sent).
 * Same work as bench/w1_rust.rs (the core called from Rust, same keys and values), plus the C
 * handle's free. Two variants, timed in alternating rounds of the same process:
 *   - "keys by text": keys as (pointer, length), as most callers write it;
 *   - "interned keys": keys from polytrace_key_intern, made once before the loop (the C
 *     counterpart of the Rust benchmark's `&'static str` keys).
 *
 *   ./w1 [spans-per-round] [rounds] [rust-ns-per-span]
 *       prints the best and median round in ns/span of the calling thread's CPU time; given
 *       the Rust benchmark's median, also each variant's ratio to it. Rounds (default 200000
 *       spans) must stay below the queue size (262144): the queue is flushed between rounds,
 *       untimed, so that no span is dropped.
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
  long per_round = argc > 1 ? atol(argv[1]) : 200000;
  int rounds = argc > 2 ? atoi(argv[2]) : 7;
  if (per_round <= 0 || rounds <= 0 || rounds > 100) return 2;
  /* A queue larger than a round, flushed between rounds, so that no span is dropped: a
   * dropped span costs the producer differently from a queued one, which would make the two
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

  const polytrace_key_t *k_method = NULL, *k_status = NULL, *k_hit = NULL;
  if ((err = polytrace_key_intern(LIT("http.method"), &k_method))) return fail(err);
  if ((err = polytrace_key_intern(LIT("http.status_code"), &k_status))) return fail(err);
  if ((err = polytrace_key_intern(LIT("cache.hit"), &k_hit))) return fail(err);

  double results[2][100];
  for (int r = -1; r < rounds; r++) { /* round -1 warms up */
    for (int variant = 0; variant < 2; variant++) {
      double t0 = now_ns();
      if (variant == 0) {
        for (long i = 0; i < per_round; i++) {
          polytrace_span_t *s = NULL;
          if ((err = polytrace_span_start(tracer, LIT("op"), NULL, &s))) return fail(err);
          if ((err = polytrace_span_set_attribute_string(s, LIT("http.method"), LIT("GET"))))
            return fail(err);
          if ((err = polytrace_span_set_attribute_int64(s, LIT("http.status_code"), 200)))
            return fail(err);
          if ((err = polytrace_span_set_attribute_bool(s, LIT("cache.hit"), true)))
            return fail(err);
          if ((err = polytrace_span_end(s, 0))) return fail(err);
          polytrace_span_free(s);
        }
      } else {
        for (long i = 0; i < per_round; i++) {
          polytrace_span_t *s = NULL;
          if ((err = polytrace_span_start(tracer, LIT("op"), NULL, &s))) return fail(err);
          if ((err = polytrace_span_set_attribute_string_by_key(s, k_method, LIT("GET"))))
            return fail(err);
          if ((err = polytrace_span_set_attribute_int64_by_key(s, k_status, 200)))
            return fail(err);
          if ((err = polytrace_span_set_attribute_bool_by_key(s, k_hit, true))) return fail(err);
          if ((err = polytrace_span_end(s, 0))) return fail(err);
          polytrace_span_free(s);
        }
      }
      double per = (now_ns() - t0) / (double)per_round;
      if (r >= 0) results[variant][r] = per;
      /* Untimed: empty the queue, so that no round drops spans (rounds smaller than the
       * queue) however slowly the export thread ran on a loaded machine. */
      if ((err = polytrace_provider_force_flush(provider, 30000))) return fail(err);
    }
  }
  polytrace_stats_t stats;
  if ((err = polytrace_provider_stats(provider, &stats))) return fail(err);
  double rust = argc > 3 ? atof(argv[3]) : 0.0;
  static const char *const names[2] = {"keys by text", "interned keys"};
  for (int variant = 0; variant < 2; variant++) {
    qsort(results[variant], (size_t)rounds, sizeof results[variant][0], cmp);
    double median = results[variant][rounds / 2];
    printf("w1 c_abi (%s): best %.1f ns/span, median %.1f ns/span thread CPU (%d rounds of "
           "%ld, %llu dropped)",
           names[variant], results[variant][0], median, rounds, per_round,
           (unsigned long long)stats.spans_dropped);
    if (rust > 0) printf("; %.2fx the Rust median %.1f ns", median / rust, rust);
    printf("\n");
  }

  if ((err = polytrace_provider_shutdown(provider, 5000))) {
    polytrace_error_free(err); /* spans dropped by a full queue are fine here */
  }
  polytrace_tracer_free(tracer);
  polytrace_provider_free(provider);
  return 0;
}
