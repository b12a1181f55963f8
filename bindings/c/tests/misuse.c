/*
 * Misuse through the C ABI, run under valgrind by test.sh: NULLs, double end, double free,
 * stale and foreign handles; invalid UTF-8, which span text accepts (repaired with U+FFFD) and
 * options refuse. polytrace must report each misuse (an error or a diagnostic) without crashing
 * and without touching invalid memory (valgrind: 0 errors).
 */
#include "polytrace.h"

#include <stdio.h>
#include <string.h>

static int bad = 0;

static void expect_kind(polytrace_error_t *err, polytrace_error_kind_t kind, const char *what) {
  if (polytrace_error_kind(err) != kind) {
    fprintf(stderr, "%s: expected %s, got %s (%s)\n", what, polytrace_error_kind_name(kind),
            polytrace_error_kind_name(polytrace_error_kind(err)), polytrace_error_message(err));
    bad++;
  }
  polytrace_error_free(err);
}

#define INVALID(call) expect_kind((call), POLYTRACE_ERROR_INVALID_ARGUMENT, #call)
#define OK(call) expect_kind((call), POLYTRACE_ERROR_NONE, #call)

int main(void) {
  polytrace_kv_t opts[2] = {{{"exporter", 8}, {"none", 4}}, {{"service_name", 12}, {"misuse", 6}}};
  polytrace_provider_t *p = NULL;
  polytrace_tracer_t *t = NULL;
  polytrace_span_t *s = NULL;
  polytrace_kv_t not_utf8[1] = {{{"service_name", 12}, {"\xff", 1}}};
  INVALID(polytrace_provider_new(not_utf8, 1, &p)); /* options must be UTF-8 */
  OK(polytrace_provider_new(opts, 2, &p));
  OK(polytrace_tracer_new(p, "t", 1, NULL, 0, &t));

  INVALID(polytrace_span_start(NULL, "x", 1, NULL, &s));
  INVALID(polytrace_span_start(t, NULL, 5, NULL, &s));
  OK(polytrace_span_start(t, "\xff\xfe", 2, NULL, &s)); /* named U+FFFD U+FFFD */
  OK(polytrace_span_end(s, 0));
  polytrace_span_free(s);
  OK(polytrace_span_start(t, "x", POLYTRACE_NUL_TERMINATED, NULL, &s));
  OK(polytrace_span_set_attribute_string(s, "k", 1, "\xc3\x28", 2)); /* "\uFFFD(" */
  INVALID(polytrace_span_set_attribute_int64(NULL, "k", 1, 1));
  OK(polytrace_span_end(s, 0));
  INVALID(polytrace_span_end(s, 0)); /* double end */
  polytrace_span_free(s);
  polytrace_span_free(s); /* double free: a diagnostic, nothing else */
  INVALID(polytrace_span_set_attribute_int64(s, "k", 1, 1)); /* use after free */

  polytrace_span_t *s2 = NULL;
  OK(polytrace_span_start(t, "y", 1, NULL, &s2)); /* likely reuses the freed slot */
  INVALID(polytrace_span_end(s, 0));              /* the stale handle still cannot reach it */
  if (!polytrace_span_is_recording(s2)) bad++;
  OK(polytrace_span_end(s2, 0));
  polytrace_span_free(s2);

  /* Links, tracestate and interned keys: NULL, stale, foreign and invalid arguments. */
  polytrace_span_t *s3 = NULL;
  OK(polytrace_span_start(t, "z", 1, NULL, &s3));
  polytrace_link_t link;
  memset(&link, 0, sizeof link);
  INVALID(polytrace_span_add_link(s3, NULL));
  INVALID(polytrace_span_add_link(s3, &link)); /* no target */
  link.span = s;                               /* freed above */
  INVALID(polytrace_span_add_link(s3, &link));
  link.span = s3; /* a link to itself */
  OK(polytrace_span_add_link(s3, &link));
  polytrace_span_options_t so;
  memset(&so, 0, sizeof so);
  so.links = NULL;
  so.links_len = 2;
  INVALID(polytrace_span_start(t, "w", 1, &so, &s2));
  const polytrace_key_t *key = NULL;
  OK(polytrace_key_intern("\xff", 1, &key)); /* the key U+FFFD */
  INVALID(polytrace_key_intern(NULL, 3, &key));
  OK(polytrace_key_intern("k", 1, &key));
  OK(polytrace_span_set_attribute_int64_by_key(s3, key, 1));
  OK(polytrace_span_set_attribute_string_by_key(s3, key, "v", POLYTRACE_NUL_TERMINATED));
  OK(polytrace_span_set_attribute_string_by_key(s3, key, "\xc3\x28", 2));
  INVALID(polytrace_span_set_attribute_bool_by_key(s3, NULL, true));
  INVALID(polytrace_span_set_attribute_double_by_key(s3, (const polytrace_key_t *)&link, 1.0));
  INVALID(polytrace_span_set_attribute_double_by_key(s3, (const polytrace_key_t *)s3, 1.0));
  polytrace_context_t *c = NULL;
  OK(polytrace_context_new(&c));
  INVALID(polytrace_context_set_trace_state(c, "k", 1, "v", 1)); /* no span context */
  INVALID(polytrace_context_delete_trace_state(c, NULL, 1));
  polytrace_str_t v = {NULL, 0};
  OK(polytrace_context_get_trace_state(c, "k", 1, &v));
  if (v.ptr != NULL) bad++;
  link.span = NULL;
  link.context = c;
  OK(polytrace_span_add_link(s3, &link)); /* invalid context, no attributes: dropped */
  polytrace_context_free(c);
  INVALID(polytrace_span_add_link(s3, &link)); /* freed context */
  INVALID(polytrace_context_get_trace_state(c, "k", 1, &v));
  OK(polytrace_span_end(s3, 0));
  polytrace_span_free(s3);

  int local = 0;
  INVALID(polytrace_span_end((polytrace_span_t *)&local, 0)); /* not a handle: never read */
  INVALID(polytrace_span_end((polytrace_span_t *)t, 0));      /* wrong type */

  polytrace_error_t *e = polytrace_span_end(NULL, 0);
  polytrace_error_free(e);
  polytrace_error_free(e);
  if (polytrace_error_kind(e) != POLYTRACE_ERROR_INVALID_ARGUMENT) bad++;
  if (strstr(polytrace_error_message(e), "invalid") == NULL) bad++;

  /* A configuration error says what is wrong with which option; a freed one says nothing. */
  polytrace_kv_t typo[1] = {{{"maxQueueSise", 12}, {"10", 2}}};
  polytrace_provider_t *q = NULL;
  polytrace_error_t *ce = polytrace_provider_new(typo, 1, &q);
  if (polytrace_error_kind(ce) != POLYTRACE_ERROR_INVALID_CONFIG || q != NULL) bad++;
  if (polytrace_error_config_problem(ce) != POLYTRACE_CONFIG_PROBLEM_UNKNOWN_OPTION) bad++;
  if (polytrace_error_option(ce) == NULL || strcmp(polytrace_error_option(ce), "maxQueueSise") != 0) bad++;
  if (strcmp(polytrace_config_problem_name(polytrace_error_config_problem(ce)), "UnknownOption") != 0) bad++;
  polytrace_error_free(ce);
  if (polytrace_error_option(ce) != NULL) bad++;
  if (polytrace_error_config_problem(ce) != POLYTRACE_CONFIG_PROBLEM_NONE) bad++;

  OK(polytrace_provider_shutdown(p, 10000));
  expect_kind(polytrace_provider_shutdown(p, 1000), POLYTRACE_ERROR_ALREADY_SHUTDOWN, "shutdown");
  polytrace_tracer_free(t);
  polytrace_tracer_free(t);
  polytrace_provider_free(p);
  polytrace_provider_free(p);
  INVALID(polytrace_provider_force_flush(p, 1));
  printf("misuse: %s\n", bad == 0 ? "ok" : "FAILED");
  return bad == 0 ? 0 : 1;
}
