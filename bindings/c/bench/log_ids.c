/*
 * The cost of reading a span's ids for a log line: N calls on one live span of
 * polytrace_span_get_ids_hex (mode 0) or of polytrace_span_get_context (mode 1), exporter
 * "none". Meant for callgrind, whose instruction counts repeat from run to run: the difference
 * between two runs with different N, divided by the extra calls, is the cost of one call.
 *
 *   cc -O2 -std=c99 -Ibindings/c/include bindings/c/bench/log_ids.c target/release/libpolytrace.a \
 *      -lgcc_s -lutil -lrt -lpthread -lm -ldl -o log_ids
 *   for n in 10000 20000; do valgrind --tool=callgrind --separate-threads=yes \
 *       --callgrind-out-file=cg.$n.%p ./log_ids $n 0; done
 *   grep '^summary:' cg.*-01        # the calling thread
 */
#include "polytrace.h"

#include <stdio.h>
#include <stdlib.h>

#define LIT(s) (s), (sizeof(s) - 1)

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10000;
  int mode = argc > 2 ? atoi(argv[2]) : 0;
  polytrace_kv_t options[1] = {{{LIT("exporter")}, {LIT("none")}}};
  polytrace_provider_t *provider = NULL;
  polytrace_tracer_t *tracer = NULL;
  polytrace_span_t *span = NULL;
  if (polytrace_provider_new(options, 1, &provider) != NULL ||
      polytrace_tracer_new(provider, LIT("bench"), NULL, 0, &tracer) != NULL ||
      polytrace_span_start(tracer, LIT("work"), NULL, &span) != NULL) {
    fprintf(stderr, "setup failed\n");
    return 1;
  }
  char trace_id[POLYTRACE_TRACE_ID_HEX_SIZE];
  char span_id[POLYTRACE_SPAN_ID_HEX_SIZE];
  uint8_t flags = 0;
  unsigned long sum = 0; /* uses every result, so no call is optimized away */
  for (int i = 0; i < n; i++) {
    if (mode == 0) {
      if (polytrace_span_get_ids_hex(span, trace_id, sizeof trace_id, span_id, sizeof span_id,
                                     &flags) != NULL) {
        return 2;
      }
      sum += (unsigned char)trace_id[i % 32] + (unsigned char)span_id[i % 16] + flags;
    } else {
      polytrace_span_context_t context;
      if (polytrace_span_get_context(span, &context) != NULL) {
        return 2;
      }
      sum += (unsigned char)context.trace_id_hex[i % 32] +
             (unsigned char)context.span_id_hex[i % 16] + context.trace_flags;
    }
  }
  printf("%d calls (mode %d), checksum %lu\n", n, mode, sum);
  if (polytrace_span_end(span, 0) != NULL || polytrace_provider_shutdown(provider, 1000) != NULL) {
    return 3;
  }
  polytrace_span_free(span);
  polytrace_tracer_free(tracer);
  polytrace_provider_free(provider);
  return 0;
}
