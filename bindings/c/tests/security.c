/*
 * Security checks from C (docs/security.md), driven by test.sh: ends 5 spans, one of them
 * carrying personal data in its name, attributes (also in an array), an event (name and
 * attributes), an exception, a link's attributes and its status description; shuts down and
 * prints its counters as "STATS ended exported dropped export_failed export_failures". The
 * endpoint, TLS files, headers and redaction come from OTEL_* / POLYTRACE_* variables; test.sh
 * checks what the receiver got and everything this program printed.
 */
#define _POSIX_C_SOURCE 200809L
#include "polytrace.h"

#include <stdio.h>
#include <string.h>

#define NT POLYTRACE_NUL_TERMINATED

static int check(polytrace_error_t *err, const char *what) {
  if (err == NULL) return 0;
  fprintf(stderr, "%s: %s\n", what, polytrace_error_message(err));
  polytrace_error_free(err);
  return 1;
}

static polytrace_attribute_t str_attr(const char *k, const char *v) {
  polytrace_attribute_t a;
  memset(&a, 0, sizeof a);
  a.key.ptr = k;
  a.key.len = NT;
  a.value.type = POLYTRACE_VALUE_STRING;
  a.value.data.string.ptr = v;
  a.value.data.string.len = NT;
  return a;
}

int main(void) {
  polytrace_provider_t *p = NULL;
  polytrace_tracer_t *t = NULL;
  if (check(polytrace_provider_from_env(&p), "provider_from_env")) return 1;
  if (check(polytrace_tracer_new(p, "security", NT, NULL, 0, &t), "tracer_new")) return 1;
  int bad = 0;

  polytrace_span_t *other = NULL;
  bad += check(polytrace_span_start(t, "other", NT, NULL, &other), "start other");
  bad += check(polytrace_span_end(other, 0), "end other");

  polytrace_span_t *s = NULL;
  bad += check(polytrace_span_start(t, "GET /users/jane@example.com", NT, NULL, &s), "start");
  bad += check(polytrace_span_set_attribute_string(s, "q", NT, "card 4111 1111 1111 1111 please", NT),
               "q");
  bad += check(polytrace_span_set_attribute_string(s, "order", NT, "order 1234567812345678", NT),
               "order");
  polytrace_str_t items[3] = {{"ok", NT}, {"bob@example.org", NT}, {"078-05-1120", NT}};
  bad += check(polytrace_span_set_attribute_string_array(s, "list", NT, items, 3), "list");
  bad += check(polytrace_span_set_attribute_string(s, "user.id", NT, "u-42", NT), "user.id");
  polytrace_attribute_t to = str_attr("to", "ann@example.net");
  bad += check(polytrace_span_add_event(s, "mailed ann@example.net", NT, &to, 1, 0), "event");
  bad += check(polytrace_span_record_exception(s, "LookupError", NT, "no account for jane@example.com",
                                               NT, NULL, 0, NULL, 0),
               "exception");
  polytrace_attribute_t link_attrs[2] = {str_attr("ssn", "123-45-6789"), str_attr("plain", "kept")};
  polytrace_link_t link;
  memset(&link, 0, sizeof link);
  link.span = other;
  link.attributes = link_attrs;
  link.attributes_len = 2;
  bad += check(polytrace_span_add_link(s, &link), "link");
  bad += check(polytrace_span_set_status(s, POLYTRACE_STATUS_ERROR, "card 5500-0000-0000-0004 declined",
                                         NT),
               "status");
  bad += check(polytrace_span_end(s, 0), "end");
  polytrace_span_free(s);
  polytrace_span_free(other);
  for (int i = 0; i < 3; i++) {
    polytrace_span_t *x = NULL;
    bad += check(polytrace_span_start(t, "plain", NT, NULL, &x), "start plain");
    bad += check(polytrace_span_end(x, 0), "end plain");
    polytrace_span_free(x);
  }

  /* Errors are printed (check() prints every message), so test.sh sees them all. */
  check(polytrace_provider_force_flush(p, 5000), "force_flush");
  check(polytrace_provider_shutdown(p, POLYTRACE_TIMEOUT_EXIT), "shutdown");
  polytrace_stats_t st = {0};
  bad += check(polytrace_provider_stats(p, &st), "stats");
  printf("STATS %llu %llu %llu %llu %llu\n", (unsigned long long)st.spans_ended,
         (unsigned long long)st.spans_exported, (unsigned long long)st.spans_dropped,
         (unsigned long long)st.dropped_export_failed, (unsigned long long)st.export_failures);
  polytrace_tracer_free(t);
  polytrace_provider_free(p);
  return bad == 0 ? 0 : 1;
}
