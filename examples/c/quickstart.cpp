// polytrace quickstart in C++17: the C API behind small RAII wrappers (handles freed by
// destructors, errors turned into exceptions). Traces a parent span with two children and a
// propagated downstream span, exported as configured by the OTEL_* variables.
//
//   g++ -std=c++17 -Ibindings/c/include examples/c/quickstart.cpp -Ltarget/release -lpolytrace
//
// Prints `trace_id=<hex>` on stdout.
#include "polytrace.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

// An error from polytrace as a C++ exception (the error object is freed here).
struct Error : std::runtime_error {
  polytrace_error_kind_t kind;
  Error(polytrace_error_kind_t k, const std::string &m) : std::runtime_error(m), kind(k) {}
};

void check(polytrace_error_t *err) {
  if (err == nullptr) return;
  std::unique_ptr<polytrace_error_t, decltype(&polytrace_error_free)> owned(err,
                                                                            polytrace_error_free);
  throw Error(polytrace_error_kind(err), polytrace_error_message(err));
}

template <typename T, void (*Free)(T *)>
struct Deleter {
  void operator()(T *p) const { Free(p); }
};
using Provider = std::unique_ptr<polytrace_provider_t,
                                 Deleter<polytrace_provider_t, polytrace_provider_free>>;
using Tracer = std::unique_ptr<polytrace_tracer_t, Deleter<polytrace_tracer_t, polytrace_tracer_free>>;
using Context =
    std::unique_ptr<polytrace_context_t, Deleter<polytrace_context_t, polytrace_context_free>>;

// A span that ends (if still open) and frees itself at scope exit.
class Span {
 public:
  Span(const polytrace_tracer_t *tracer, std::string_view name,
       const polytrace_span_options_t *options = nullptr) {
    check(polytrace_span_start(tracer, name.data(), name.size(), options, &handle_));
  }
  Span(const Span &) = delete;
  Span &operator=(const Span &) = delete;
  ~Span() {
    if (!ended_) {
      polytrace_error_free(polytrace_span_end(handle_, 0));
    }
    polytrace_span_free(handle_);
  }
  Span &set(std::string_view key, std::string_view value) {
    check(polytrace_span_set_attribute_string(handle_, key.data(), key.size(), value.data(),
                                              value.size()));
    return *this;
  }
  Span &set(std::string_view key, int64_t value) {
    check(polytrace_span_set_attribute_int64(handle_, key.data(), key.size(), value));
    return *this;
  }
  Span &set(std::string_view key, double value) {
    check(polytrace_span_set_attribute_double(handle_, key.data(), key.size(), value));
    return *this;
  }
  Span &set(std::string_view key, bool value) {
    check(polytrace_span_set_attribute_bool(handle_, key.data(), key.size(), value));
    return *this;
  }
  void fail(std::string_view type, std::string_view message) {
    check(polytrace_span_record_exception(handle_, type.data(), type.size(), message.data(),
                                          message.size(), nullptr, 0, nullptr, 0));
    check(polytrace_span_set_status(handle_, POLYTRACE_STATUS_ERROR, message.data(),
                                    message.size()));
  }
  void end() {
    check(polytrace_span_end(handle_, 0));
    ended_ = true;
  }
  polytrace_span_context_t context() const {
    polytrace_span_context_t c{};
    check(polytrace_span_get_context(handle_, &c));
    return c;
  }
  const polytrace_span_t *get() const { return handle_; }

 private:
  polytrace_span_t *handle_ = nullptr;
  bool ended_ = false;
};

polytrace_str_t str(std::string_view s) { return polytrace_str_t{s.data(), s.size()}; }

}  // namespace

int main() {
  try {
    const char *env_name = std::getenv("OTEL_SERVICE_NAME");
    std::string service = env_name && *env_name ? env_name : "quickstart-cpp";
    polytrace_kv_t options[] = {{str("service_name"), str(service)}};
    polytrace_provider_t *raw_provider = nullptr;
    check(polytrace_provider_new(options, 1, &raw_provider));
    Provider provider(raw_provider);

    polytrace_tracer_t *raw_tracer = nullptr;
    check(polytrace_tracer_new(provider.get(), "polytrace.quickstart.cpp", POLYTRACE_NUL_TERMINATED,
                               nullptr, 0, &raw_tracer));
    Tracer tracer(raw_tracer);

    polytrace_span_context_t root_context{};
    {
      polytrace_span_options_t server{};
      server.kind = POLYTRACE_SPAN_KIND_SERVER;
      Span root(tracer.get(), "render-report", &server);
      root.set("report.rows", int64_t{3}).set("report.cached", false).set("report.ratio", 0.75);
      root_context = root.context();

      polytrace_span_options_t child{};
      child.parent = root.get();
      {
        Span sum(tracer.get(), "sum-rows", &child);
        std::vector<int64_t> rows{4, 8, 15};
        int64_t total = 0;
        for (int64_t r : rows) total += r;
        sum.set("rows.total", total);
      }
      {
        Span parse(tracer.get(), "parse-template", &child);
        try {
          (void)std::stoi("not a number");
        } catch (const std::exception &e) {
          parse.fail("std::invalid_argument", e.what());
        }
      }
      // Through W3C headers to a downstream span.
      polytrace_kv_t headers[POLYTRACE_INJECT_MAX_HEADERS];
      char buf[512];
      size_t n = 0;
      check(polytrace_provider_inject(provider.get(), root.get(), nullptr, headers,
                                      POLYTRACE_INJECT_MAX_HEADERS, buf, sizeof buf, &n));
      polytrace_context_t *raw_ctx = nullptr;
      check(polytrace_provider_extract(provider.get(), headers, n, &raw_ctx));
      Context incoming(raw_ctx);
      polytrace_span_options_t remote{};
      remote.remote_parent = incoming.get();
      remote.kind = POLYTRACE_SPAN_KIND_CONSUMER;
      Span down(tracer.get(), "downstream", &remote);
      down.set("messaging.system", std::string_view("inproc"));
    }  // spans end and free here, children first

    check(polytrace_provider_force_flush(provider.get(), 10000));
    check(polytrace_provider_shutdown(provider.get(), 5000));
    polytrace_stats_t stats{};
    check(polytrace_provider_stats(provider.get(), &stats));
    std::printf("trace_id=%s\n", root_context.trace_id_hex);
    std::fprintf(stderr, "exported %llu of %llu spans\n",
                 static_cast<unsigned long long>(stats.spans_exported),
                 static_cast<unsigned long long>(stats.spans_ended));
    return stats.spans_exported == 4 ? 0 : 1;
  } catch (const Error &e) {
    std::fprintf(stderr, "polytrace error (%s): %s\n", polytrace_error_kind_name(e.kind), e.what());
    return 1;
  }
}
