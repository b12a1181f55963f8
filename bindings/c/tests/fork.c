/*
 * fork() with polytrace_provider_after_fork: the child restarts its pipeline and exports its
 * own span; the parent keeps exporting its spans. Run by test.sh against a real receiver
 * (configured by OTEL_*), which must then hold all three spans.
 */
#define _POSIX_C_SOURCE 200809L
#include "polytrace.h"

#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int check(polytrace_error_t *err, const char *what) {
  if (err == NULL) return 0;
  fprintf(stderr, "[%d] %s: %s\n", (int)getpid(), what, polytrace_error_message(err));
  polytrace_error_free(err);
  return 1;
}

static int one_span(const polytrace_tracer_t *tracer, const char *name) {
  polytrace_span_t *span = NULL;
  int bad = check(polytrace_span_start(tracer, name, POLYTRACE_NUL_TERMINATED, NULL, &span),
                  "span_start");
  bad += check(polytrace_span_set_attribute_int64(span, "process.pid", 11, (int64_t)getpid()),
               "set_attribute");
  bad += check(polytrace_span_end(span, 0), "span_end");
  polytrace_span_free(span);
  return bad;
}

/* Shuts down, frees, and returns non-zero unless exactly `want` spans were exported. */
static int finish(polytrace_provider_t *p, polytrace_tracer_t *t, uint64_t want) {
  polytrace_stats_t stats = {0};
  int bad = check(polytrace_provider_shutdown(p, 10000), "shutdown");
  bad += check(polytrace_provider_stats(p, &stats), "stats");
  if (stats.spans_exported != want) {
    fprintf(stderr, "[%d] exported %llu spans, want %llu\n", (int)getpid(),
            (unsigned long long)stats.spans_exported, (unsigned long long)want);
    bad++;
  }
  polytrace_tracer_free(t);
  polytrace_provider_free(p);
  return bad;
}

int main(void) {
  polytrace_provider_t *p = NULL;
  polytrace_tracer_t *t = NULL;
  if (check(polytrace_provider_from_env(&p), "provider_from_env")) return 1;
  if (check(polytrace_tracer_new(p, "fork-test", 9, NULL, 0, &t), "tracer_new")) return 1;
  int bad = one_span(t, "parent-before-fork");

  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    int child_bad = check(polytrace_provider_after_fork(p), "after_fork");
    child_bad += one_span(t, "child-after-fork");
    child_bad += finish(p, t, 1); /* counters restart in the child: only its own span */
    _exit(child_bad == 0 ? 0 : 1);
  }
  bad += one_span(t, "parent-after-fork");
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "child failed (status %d)\n", status);
    bad++;
  }
  bad += finish(p, t, 2);
  printf("fork: %s\n", bad == 0 ? "ok" : "FAILED");
  return bad == 0 ? 0 : 1;
}
