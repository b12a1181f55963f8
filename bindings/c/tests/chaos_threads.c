/*
 * Concurrency from C (docs/reliability.md): 8 producer pthreads end spans while 2 threads flush
 * concurrently and the main thread shuts the provider down in the middle. No crash, no
 * deadlock (every thread is joined), and the counters are consistent: exported + dropped =
 * ended. Prints "STATS ended exported dropped".
 */
#define _POSIX_C_SOURCE 200809L
#include "polytrace.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static polytrace_provider_t *provider;
static polytrace_tracer_t *tracer;
static atomic_int stop;
static atomic_int failures;

static void check(polytrace_error_t *err) {
  if (err == NULL) return;
  /* After the shutdown a flush is a no-op and spans are non-recording: no error expected. */
  fprintf(stderr, "error: %s\n", polytrace_error_message(err));
  atomic_fetch_add(&failures, 1);
  polytrace_error_free(err);
}

static void *produce(void *arg) {
  (void)arg;
  while (!atomic_load(&stop)) {
    polytrace_span_t *outer = NULL, *inner = NULL;
    check(polytrace_span_start(tracer, "outer", POLYTRACE_NUL_TERMINATED, NULL, &outer));
    polytrace_span_options_t o = {0};
    o.parent = outer;
    check(polytrace_span_start(tracer, "inner", POLYTRACE_NUL_TERMINATED, &o, &inner));
    check(polytrace_span_set_attribute_int64(inner, "k", 1, 7));
    check(polytrace_span_end(inner, 0));
    check(polytrace_span_end(outer, 0));
    polytrace_span_free(inner);
    polytrace_span_free(outer);
  }
  return NULL;
}

static void *flush(void *arg) {
  (void)arg;
  while (!atomic_load(&stop)) {
    polytrace_error_t *e = polytrace_provider_force_flush(provider, 5000);
    if (e != NULL) {
      /* A Timeout would be a finding too. */
      fprintf(stderr, "flush: %s\n", polytrace_error_message(e));
      atomic_fetch_add(&failures, 1);
      polytrace_error_free(e);
    }
  }
  return NULL;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int main(void) {
  if (polytrace_provider_from_env(&provider) != NULL) return 1;
  if (polytrace_tracer_new(provider, "chaos", 5, NULL, 0, &tracer) != NULL) return 1;
  pthread_t threads[10];
  for (int i = 0; i < 10; i++) pthread_create(&threads[i], NULL, i < 8 ? produce : flush, NULL);
  sleep_ms(1000);
  check(polytrace_provider_shutdown(provider, 10000)); /* in the middle */
  sleep_ms(300);
  atomic_store(&stop, 1);
  for (int i = 0; i < 10; i++) pthread_join(threads[i], NULL);
  polytrace_stats_t st = {0};
  check(polytrace_provider_stats(provider, &st));
  printf("STATS %llu %llu %llu\n", (unsigned long long)st.spans_ended,
         (unsigned long long)st.spans_exported, (unsigned long long)st.spans_dropped);
  int ok = atomic_load(&failures) == 0 && st.spans_ended > 1000 &&
           st.spans_exported + st.spans_dropped == st.spans_ended;
  polytrace_tracer_free(tracer);
  polytrace_provider_free(provider);
  return ok ? 0 : 1;
}
