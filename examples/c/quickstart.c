/*
 * polytrace quickstart in C: traces a small piece of real work (reading and checksumming this
 * program's own source, then failing to open a file that does not exist) as a server span with
 * children, passes the context through W3C headers (adding a tracestate entry) to a
 * "downstream" span that also links to it, records a finished span with a link in one call, and
 * flushes before exit. Configured by the OTEL_* variables.
 *
 *   cc -std=c99 -Ibindings/c/include examples/c/quickstart.c -Ltarget/release -lpolytrace
 *   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 ./a.out [file-to-read]
 *
 * Prints `trace_id=<hex>` on stdout and its log lines, each carrying the ids of the span it
 * was written in, on stderr; exits non-zero if any polytrace call failed.
 */
#include "polytrace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

/* Every polytrace call that can fail returns an error object (NULL = success) that the caller
 * owns: report it, free it. */
static void check(polytrace_error_t *err, const char *what) {
  if (err != NULL) {
    fprintf(stderr, "%s failed: %s (%s)\n", what, polytrace_error_message(err),
            polytrace_error_kind_name(polytrace_error_kind(err)));
    polytrace_error_free(err);
    failures++;
  }
}

/* String literals with their length (no NUL-termination is needed by polytrace). */
#define LIT(s) (s), (sizeof(s) - 1)

/* Log correlation: a log line carries the trace id, span id and trace flags of the span it was
 * written in (the fields OpenTelemetry's log instrumentations add), so the back end can join
 * logs and traces. C has no "current span": the logger is given the span of the work. */
static void log_line(const polytrace_span_t *span, const char *level, const char *message) {
  char trace_id[POLYTRACE_TRACE_ID_HEX_SIZE];
  char span_id[POLYTRACE_SPAN_ID_HEX_SIZE];
  uint8_t flags = 0;
  check(polytrace_span_get_ids_hex(span, trace_id, sizeof trace_id, span_id, sizeof span_id,
                                   &flags),
        "span_get_ids_hex");
  fprintf(stderr, "level=%s trace_id=%s span_id=%s trace_flags=%02x msg=\"%s\"\n", level, trace_id,
          span_id, (unsigned)flags, message);
}

static polytrace_str_t str(const char *s) {
  polytrace_str_t out;
  out.ptr = s;
  out.len = strlen(s);
  return out;
}

/* Child 1: real work that succeeds. */
static void read_file(const polytrace_tracer_t *tracer, const polytrace_span_t *parent,
                      const char *path) {
  polytrace_span_options_t opts = {0};
  polytrace_span_t *span = NULL;
  opts.parent = parent;
  check(polytrace_span_start(tracer, LIT("read-file"), &opts, &span), "span_start");

  FILE *f = fopen(path, "rb");
  unsigned long checksum = 5381;
  long size = 0;
  if (f != NULL) {
    int c;
    while ((c = fgetc(f)) != EOF) {
      checksum = checksum * 33u + (unsigned char)c;
      size++;
    }
    fclose(f);
  }
  char hex[32];
  snprintf(hex, sizeof hex, "%08lx", checksum & 0xffffffffUL);
  check(polytrace_span_set_attribute_string(span, LIT("file.path"), path, POLYTRACE_NUL_TERMINATED),
        "set_attribute_string");
  check(polytrace_span_set_attribute_int64(span, LIT("file.size"), size), "set_attribute_int64");
  char message[64];
  snprintf(message, sizeof message, "read %ld bytes", size);
  log_line(span, "info", message);

  polytrace_attribute_t ev_attrs[1];
  ev_attrs[0].key = str("djb2");
  ev_attrs[0].value.type = POLYTRACE_VALUE_STRING;
  ev_attrs[0].value.data.string = str(hex);
  check(polytrace_span_add_event(span, LIT("hashed"), ev_attrs, 1, 0), "add_event");

  check(polytrace_span_end(span, 0), "span_end");
  polytrace_span_free(span);
}

/* Child 2: real work that fails, recorded as an exception and an error status. */
static void open_coupons(const polytrace_tracer_t *tracer, const polytrace_span_t *parent) {
  const char *path = "/nonexistent/polytrace/coupons.txt";
  polytrace_span_options_t opts = {0};
  polytrace_span_t *span = NULL;
  opts.parent = parent;
  opts.kind = POLYTRACE_SPAN_KIND_CLIENT;
  check(polytrace_span_start(tracer, LIT("open-coupon-file"), &opts, &span), "span_start");
  check(polytrace_span_set_attribute_string(span, LIT("file.path"), path, strlen(path)),
        "set_attribute_string");
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    const char *reason = strerror(errno);
    check(polytrace_span_record_exception(span, LIT("errno"), reason, strlen(reason), NULL, 0,
                                          NULL, 0),
          "record_exception");
    char description[128];
    snprintf(description, sizeof description, "cannot read coupons: %s", reason);
    log_line(span, "error", description);
    check(polytrace_span_set_status(span, POLYTRACE_STATUS_ERROR, description,
                                    POLYTRACE_NUL_TERMINATED),
          "set_status");
  } else {
    fclose(f);
  }
  check(polytrace_span_end(span, 0), "span_end");
  polytrace_span_free(span);
}

/* Propagation: inject the root's context into headers, then extract them as a downstream
 * service would, and start its span under the remote parent. */
static void downstream(const polytrace_provider_t *provider, const polytrace_tracer_t *tracer,
                       const polytrace_span_t *root) {
  polytrace_context_t *baggage = NULL;
  check(polytrace_context_new(&baggage), "context_new");
  check(polytrace_context_set_baggage(baggage, LIT("customer.tier"), LIT("gold")),
        "context_set_baggage");

  polytrace_kv_t headers[POLYTRACE_INJECT_MAX_HEADERS];
  char buf[1024];
  size_t n = 0;
  check(polytrace_provider_inject(provider, root, baggage, headers, POLYTRACE_INJECT_MAX_HEADERS,
                                  buf, sizeof buf, &n),
        "inject");
  for (size_t i = 0; i < n; i++) {
    fprintf(stderr, "  %s: %s\n", headers[i].key.ptr, headers[i].value.ptr);
  }

  polytrace_context_t *incoming = NULL;
  check(polytrace_provider_extract(provider, headers, n, &incoming), "extract");
  polytrace_str_t tier = {NULL, 0};
  check(polytrace_context_get_baggage(incoming, LIT("customer.tier"), &tier), "get_baggage");

  /* This service's own tracestate entry: spans under `incoming` carry it, and inject sends it
   * on (the W3C rules put a changed entry first). */
  check(polytrace_context_set_trace_state(incoming, LIT("quickstart"), LIT("c1")),
        "context_set_trace_state");

  polytrace_span_options_t opts = {0};
  polytrace_span_t *span = NULL;
  opts.remote_parent = incoming;
  opts.kind = POLYTRACE_SPAN_KIND_CONSUMER;
  check(polytrace_span_start(tracer, LIT("downstream"), &opts, &span), "span_start");
  /* A consumer links to the context of the message it processes (here: the same request). */
  polytrace_attribute_t link_attrs[1];
  link_attrs[0].key = str("messaging.operation");
  link_attrs[0].value.type = POLYTRACE_VALUE_STRING;
  link_attrs[0].value.data.string = str("process");
  polytrace_link_t link;
  memset(&link, 0, sizeof link);
  link.context = incoming;
  link.attributes = link_attrs;
  link.attributes_len = 1;
  check(polytrace_span_add_link(span, &link), "span_add_link");
  check(polytrace_span_set_attribute_string(span, LIT("customer.tier"), tier.ptr, tier.len),
        "set_attribute_string");
  log_line(span, "info", "processing downstream");
  check(polytrace_span_end(span, 0), "span_end");
  polytrace_span_free(span);
  polytrace_context_free(incoming);
  polytrace_context_free(baggage);
}

int main(int argc, char **argv) {
  const char *service = getenv("OTEL_SERVICE_NAME");
  polytrace_kv_t options[1];
  options[0].key = str("service_name");
  options[0].value = str(service != NULL && service[0] != '\0' ? service : "quickstart-c");

  polytrace_provider_t *provider = NULL;
  check(polytrace_provider_new(options, 1, &provider), "provider_new");
  if (provider == NULL) {
    return 1;
  }
  polytrace_tracer_t *tracer = NULL;
  check(polytrace_tracer_new(provider, LIT("polytrace.quickstart.c"), polytrace_version(),
                             POLYTRACE_NUL_TERMINATED, &tracer),
        "tracer_new");

  /* The root: a server span with attributes of every type, some known at start. */
  polytrace_attribute_t start_attrs[2];
  start_attrs[0].key = str("http.request.method");
  start_attrs[0].value.type = POLYTRACE_VALUE_STRING;
  start_attrs[0].value.data.string = str("POST");
  start_attrs[1].key = str("http.route");
  start_attrs[1].value.type = POLYTRACE_VALUE_STRING;
  start_attrs[1].value.data.string = str("/checkout");
  polytrace_span_options_t opts = {0};
  opts.kind = POLYTRACE_SPAN_KIND_SERVER;
  opts.attributes = start_attrs;
  opts.attributes_len = 2;
  polytrace_span_t *root = NULL;
  check(polytrace_span_start(tracer, LIT("checkout"), &opts, &root), "span_start");
  log_line(root, "info", "checkout started");

  check(polytrace_span_set_attribute_int64(root, LIT("app.items"), 3), "set_attribute_int64");
  check(polytrace_span_set_attribute_double(root, LIT("app.total"), 42.5), "set_attribute_double");
  check(polytrace_span_set_attribute_bool(root, LIT("app.express"), true), "set_attribute_bool");
  polytrace_str_t tags[2];
  tags[0] = str("new");
  tags[1] = str("web");
  check(polytrace_span_set_attribute_string_array(root, LIT("app.tags"), tags, 2),
        "set_attribute_string_array");
  const int64_t quantities[2] = {1, 2};
  check(polytrace_span_set_attribute_int64_array(root, LIT("app.quantities"), quantities, 2),
        "set_attribute_int64_array");
  const double prices[2] = {10.0, 16.25};
  check(polytrace_span_set_attribute_double_array(root, LIT("app.prices"), prices, 2),
        "set_attribute_double_array");
  const bool flags[2] = {true, false};
  check(polytrace_span_set_attribute_bool_array(root, LIT("app.flags"), flags, 2),
        "set_attribute_bool_array");

  read_file(tracer, root, argc > 1 ? argv[1] : __FILE__);
  open_coupons(tracer, root);
  downstream(provider, tracer, root);

  /* A span whose timing was measured elsewhere, recorded in one call. */
  polytrace_span_context_t root_ctx;
  check(polytrace_span_get_context(root, &root_ctx), "span_get_context");
  polytrace_finished_span_t done;
  memset(&done, 0, sizeof done);
  done.name = str("cache-lookup");
  done.parent = root;
  done.kind = POLYTRACE_SPAN_KIND_CLIENT;
  done.status_code = POLYTRACE_STATUS_OK;
  polytrace_link_t done_link; /* to plain ids, as another system might have stored them */
  memset(&done_link, 0, sizeof done_link);
  done_link.span_context = &root_ctx;
  done.links = &done_link;
  done.links_len = 1;
  check(polytrace_tracer_record_span(tracer, &done, NULL), "record_span");

  check(polytrace_span_update_name(root, LIT("checkout-done")), "update_name");
  check(polytrace_span_set_status(root, POLYTRACE_STATUS_ERROR, LIT("checkout incomplete")),
        "set_status");
  check(polytrace_span_end(root, 0), "span_end");

  /* Ending twice is harmless: the second call returns an error, which we free. */
  polytrace_error_t *again = polytrace_span_end(root, 0);
  if (polytrace_error_kind(again) != POLYTRACE_ERROR_INVALID_ARGUMENT) {
    failures++;
  }
  polytrace_error_free(again);
  polytrace_span_free(root);

  check(polytrace_provider_force_flush(provider, 10000), "force_flush");
  check(polytrace_provider_shutdown(provider, 5000), "shutdown");
  polytrace_stats_t stats;
  check(polytrace_provider_stats(provider, &stats), "stats");
  printf("trace_id=%s\n", root_ctx.trace_id_hex);
  fprintf(stderr, "exported %llu of %llu spans (%llu dropped)\n",
          (unsigned long long)stats.spans_exported, (unsigned long long)stats.spans_ended,
          (unsigned long long)stats.spans_dropped);
  if (stats.spans_exported != 5) {
    fprintf(stderr, "expected 5 exported spans\n");
    failures++;
  }

  polytrace_tracer_free(tracer);
  polytrace_provider_free(provider);
  return failures == 0 ? 0 : 1;
}
