/*
 * Prompt shutdown with the back end down (issue 16). Ends SPANS spans, then shuts down with
 * POLYTRACE_TIMEOUT_EXIT (the core's exit bound) or the given timeout, and checks that
 *   - the shutdown returned within MAX_MS milliseconds, and
 *   - every ended span was exported or counted as dropped.
 * The endpoint (a closed port, or a socket that never answers) comes from OTEL_* variables.
 *
 *   exit_down SPANS TIMEOUT_MS|exit MAX_MS [MIN_MS]
 */
#define _POSIX_C_SOURCE 200809L
#include "polytrace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int check(polytrace_error_t *err, const char *what) {
  if (err == NULL) return 0;
  fprintf(stderr, "%s: %s\n", what, polytrace_error_message(err));
  polytrace_error_free(err);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s SPANS TIMEOUT_MS|exit MAX_MS [MIN_MS]\n", argv[0]);
    return 2;
  }
  long spans = strtol(argv[1], NULL, 10);
  uint32_t timeout = strcmp(argv[2], "exit") == 0 ? POLYTRACE_TIMEOUT_EXIT
                                                  : (uint32_t)strtoul(argv[2], NULL, 10);
  double max_ms = strtod(argv[3], NULL);
  double min_ms = argc > 4 ? strtod(argv[4], NULL) : 0.0;

  polytrace_provider_t *p = NULL;
  polytrace_tracer_t *t = NULL;
  if (check(polytrace_provider_from_env(&p), "provider_from_env")) return 1;
  if (check(polytrace_tracer_new(p, "exit-down", POLYTRACE_NUL_TERMINATED, NULL, 0, &t),
            "tracer_new"))
    return 1;
  int bad = 0;
  for (long i = 0; i < spans; i++) {
    polytrace_span_t *s = NULL;
    bad += check(polytrace_span_start(t, "s", POLYTRACE_NUL_TERMINATED, NULL, &s), "span_start");
    bad += check(polytrace_span_end(s, 0), "span_end");
    polytrace_span_free(s);
  }

  double t0 = now_ms();
  polytrace_error_t *err = polytrace_provider_shutdown(p, timeout);
  double took = now_ms() - t0;
  if (err != NULL) {
    /* Timeout: the deadline cut exports to a back end that does not answer (counted). */
    printf("shutdown: %s: %s\n", polytrace_error_kind_name(polytrace_error_kind(err)),
           polytrace_error_message(err));
    if (polytrace_error_kind(err) != POLYTRACE_ERROR_TIMEOUT) bad++;
    polytrace_error_free(err);
  }

  polytrace_stats_t st = {0};
  bad += check(polytrace_provider_stats(p, &st), "stats");
  printf("shutdown took %.0f ms; ended %llu exported %llu dropped %llu (export failed %llu, "
         "shutdown %llu)\n",
         took, (unsigned long long)st.spans_ended, (unsigned long long)st.spans_exported,
         (unsigned long long)st.spans_dropped, (unsigned long long)st.dropped_export_failed,
         (unsigned long long)st.dropped_shutdown);
  if (took > max_ms || took < min_ms) {
    fprintf(stderr, "shutdown took %.0f ms, want [%.0f, %.0f]\n", took, min_ms, max_ms);
    bad++;
  }
  if (st.spans_ended != (uint64_t)spans || st.spans_exported + st.spans_dropped != st.spans_ended) {
    fprintf(stderr, "spans not accounted for\n");
    bad++;
  }
  polytrace_tracer_free(t);
  polytrace_provider_free(p);
  return bad == 0 ? 0 : 1;
}
