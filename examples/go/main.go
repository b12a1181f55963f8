// Command quickstart traces a small piece of real work from Go through polytrace's C ABI
// (cgo and bindings/c/include/polytrace.h, linked statically with libpolytrace.a): a server
// span with attributes of every type, a child that counts primes, a child whose JSON parsing
// fails (recorded as an exception and an error status), a downstream span reached through W3C
// headers, and a span recorded in one call. Configured by the OTEL_* variables.
//
//	cargo build --release -p polytrace-ffi
//	OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 go run .
//
// Prints trace_id=<hex>.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../../bindings/c/include
#cgo LDFLAGS: -L${SRCDIR}/../../target/release -l:libpolytrace.a -lgcc_s -lutil -lrt -lpthread -lm -ldl
#include <stdlib.h>
#include "polytrace.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"os"
	"unsafe"
)

// Error is a polytrace error: its kind name (InvalidArgument, InvalidConfig, Export, Timeout,
// AlreadyShutdown, Internal) and message.
type Error struct {
	Kind    string
	Message string
}

func (e *Error) Error() string { return e.Kind + ": " + e.Message }

// check turns a returned polytrace_error_t* into a Go error and frees it.
func check(e *C.polytrace_error_t) error {
	if e == nil {
		return nil
	}
	defer C.polytrace_error_free(e)
	return &Error{
		Kind:    C.GoString(C.polytrace_error_kind_name(C.polytrace_error_kind(e))),
		Message: C.GoString(C.polytrace_error_message(e)),
	}
}

// str passes a Go string to C without copying: polytrace takes (pointer, length) and only
// borrows it for the call, which cgo allows for memory without Go pointers in it.
func str(s string) (*C.char, C.size_t) {
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

// KV is a key/value pair: an option or a header.
type KV struct{ Key, Value string }

// kvs copies pairs into C memory (arrays handed to C must not hold Go pointers).
func kvs(pairs []KV) (*C.polytrace_kv_t, func()) {
	if len(pairs) == 0 {
		return nil, func() {}
	}
	size := C.size_t(unsafe.Sizeof(C.polytrace_kv_t{})) * C.size_t(len(pairs))
	arr := (*C.polytrace_kv_t)(C.malloc(size))
	items := unsafe.Slice(arr, len(pairs))
	var cstrs []*C.char
	for i, p := range pairs {
		k, v := C.CString(p.Key), C.CString(p.Value)
		cstrs = append(cstrs, k, v)
		items[i].key = C.polytrace_str_t{ptr: k, len: C.size_t(len(p.Key))}
		items[i].value = C.polytrace_str_t{ptr: v, len: C.size_t(len(p.Value))}
	}
	return arr, func() {
		for _, s := range cstrs {
			C.free(unsafe.Pointer(s))
		}
		C.free(unsafe.Pointer(arr))
	}
}

// inject returns the propagation headers for span (and the baggage of ctx, which may be nil).
func inject(p *C.polytrace_provider_t, span *C.polytrace_span_t, ctx *C.polytrace_context_t) ([]KV, error) {
	headers := (*C.polytrace_kv_t)(C.malloc(C.size_t(unsafe.Sizeof(C.polytrace_kv_t{})) * C.POLYTRACE_INJECT_MAX_HEADERS))
	defer C.free(unsafe.Pointer(headers))
	buf := (*C.char)(C.malloc(C.POLYTRACE_INJECT_BUFFER_SIZE))
	defer C.free(unsafe.Pointer(buf))
	var n C.size_t
	if err := check(C.polytrace_provider_inject(p, span, ctx, headers, C.POLYTRACE_INJECT_MAX_HEADERS, buf, C.POLYTRACE_INJECT_BUFFER_SIZE, &n)); err != nil {
		return nil, err
	}
	out := make([]KV, 0, int(n))
	for _, h := range unsafe.Slice(headers, int(n)) {
		out = append(out, KV{C.GoStringN(h.key.ptr, C.int(h.key.len)), C.GoStringN(h.value.ptr, C.int(h.value.len))})
	}
	return out, nil
}

func startSpan(t *C.polytrace_tracer_t, name string, opts *C.polytrace_span_options_t) (*C.polytrace_span_t, error) {
	var s *C.polytrace_span_t
	p, n := str(name)
	return s, check(C.polytrace_span_start(t, p, n, opts, &s))
}

// endAndFree ends and frees a span, keeping the first error.
func endAndFree(s *C.polytrace_span_t, err *error) {
	if e := check(C.polytrace_span_end(s, 0)); e != nil && *err == nil {
		*err = e
	}
	C.polytrace_span_free(s)
}

func setString(s *C.polytrace_span_t, key, value string) error {
	kp, kn := str(key)
	vp, vn := str(value)
	return check(C.polytrace_span_set_attribute_string(s, kp, kn, vp, vn))
}

func setInt(s *C.polytrace_span_t, key string, value int64) error {
	kp, kn := str(key)
	return check(C.polytrace_span_set_attribute_int64(s, kp, kn, C.int64_t(value)))
}

func countPrimes(below int) int {
	composite := make([]bool, below)
	n := 0
	for i := 2; i < below; i++ {
		if !composite[i] {
			n++
			for j := i * i; j < below; j += i {
				composite[j] = true
			}
		}
	}
	return n
}

// Run traces the quickstart's work with a provider configured by options over OTEL_*, flushes
// it, and returns the trace id and the number of spans exported.
func Run(options []KV) (traceID string, exported uint64, err error) {
	opts, free := kvs(options)
	defer free()
	var provider *C.polytrace_provider_t
	if err = check(C.polytrace_provider_new(opts, C.size_t(len(options)), &provider)); err != nil {
		return "", 0, err
	}
	defer C.polytrace_provider_free(provider)
	var tracer *C.polytrace_tracer_t
	np, nn := str("polytrace.quickstart.go")
	if err = check(C.polytrace_tracer_new(provider, np, nn, nil, 0, &tracer)); err != nil {
		return "", 0, err
	}
	defer C.polytrace_tracer_free(tracer)

	traceID, err = trace(provider, tracer)
	if err != nil {
		return "", 0, err
	}
	if err = check(C.polytrace_provider_force_flush(provider, 10000)); err != nil {
		return "", 0, err
	}
	if err = check(C.polytrace_provider_shutdown(provider, 5000)); err != nil {
		return "", 0, err
	}
	var stats C.polytrace_stats_t
	if err = check(C.polytrace_provider_stats(provider, &stats)); err != nil {
		return "", 0, err
	}
	return traceID, uint64(stats.spans_exported), nil
}

func trace(provider *C.polytrace_provider_t, tracer *C.polytrace_tracer_t) (traceID string, err error) {
	rootOpts := C.polytrace_span_options_t{kind: C.POLYTRACE_SPAN_KIND_SERVER}
	root, err := startSpan(tracer, "handle-order", &rootOpts)
	if err != nil {
		return "", err
	}
	defer endAndFree(root, &err)
	var rc C.polytrace_span_context_t
	if err = check(C.polytrace_span_get_context(root, &rc)); err != nil {
		return "", err
	}
	traceID = C.GoString(&rc.trace_id_hex[0])
	kp, kn := str("order.express")
	if err = check(C.polytrace_span_set_attribute_bool(root, kp, kn, true)); err != nil {
		return "", err
	}
	kp, kn = str("order.total")
	if err = check(C.polytrace_span_set_attribute_double(root, kp, kn, 99.5)); err != nil {
		return "", err
	}
	if err = setString(root, "order.id", "A-1001"); err != nil {
		return "", err
	}

	// Child 1: real work that succeeds. The options struct lives in C memory because it holds a
	// handle (which cgo would otherwise treat as a Go pointer inside Go memory).
	childOpts := (*C.polytrace_span_options_t)(C.calloc(1, C.size_t(unsafe.Sizeof(C.polytrace_span_options_t{}))))
	defer C.free(unsafe.Pointer(childOpts))
	childOpts.parent = root
	primes, err := startSpan(tracer, "count-primes", childOpts)
	if err != nil {
		return "", err
	}
	n := countPrimes(20000)
	if err = setInt(primes, "primes.below", 20000); err == nil {
		err = setInt(primes, "primes.count", int64(n))
	}
	endAndFree(primes, &err)
	if err != nil {
		return "", err
	}

	// Child 2: real work that fails.
	parse, err := startSpan(tracer, "parse-config", childOpts)
	if err != nil {
		return "", err
	}
	var cfg map[string]any
	if perr := json.Unmarshal([]byte(`{"retries": 3,`), &cfg); perr != nil {
		tp, tn := str(fmt.Sprintf("%T", perr))
		mp, mn := str(perr.Error())
		err = check(C.polytrace_span_record_exception(parse, tp, tn, mp, mn, nil, 0, nil, 0))
		if err == nil {
			err = check(C.polytrace_span_set_status(parse, C.POLYTRACE_STATUS_ERROR, mp, mn))
		}
	}
	endAndFree(parse, &err)
	if err != nil {
		return "", err
	}

	// Through W3C headers to a downstream span, as another service would receive them.
	headers, err := inject(provider, root, nil)
	if err != nil {
		return "", err
	}
	carrier, freeCarrier := kvs(headers)
	defer freeCarrier()
	var incoming *C.polytrace_context_t
	if err = check(C.polytrace_provider_extract(provider, carrier, C.size_t(len(headers)), &incoming)); err != nil {
		return "", err
	}
	defer C.polytrace_context_free(incoming)
	downOpts := (*C.polytrace_span_options_t)(C.calloc(1, C.size_t(unsafe.Sizeof(C.polytrace_span_options_t{}))))
	defer C.free(unsafe.Pointer(downOpts))
	downOpts.remote_parent = incoming
	downOpts.kind = C.POLYTRACE_SPAN_KIND_CONSUMER
	down, err := startSpan(tracer, "downstream", downOpts)
	if err != nil {
		return "", err
	}
	err = setString(down, "messaging.system", "inproc")
	endAndFree(down, &err)
	if err != nil {
		return "", err
	}

	// A span whose timing was measured elsewhere, recorded in one call.
	fin := (*C.polytrace_finished_span_t)(C.calloc(1, C.size_t(unsafe.Sizeof(C.polytrace_finished_span_t{}))))
	defer C.free(unsafe.Pointer(fin))
	name := C.CString("cache-lookup")
	defer C.free(unsafe.Pointer(name))
	fin.name = C.polytrace_str_t{ptr: name, len: C.POLYTRACE_NUL_TERMINATED}
	fin.parent = root
	fin.kind = C.POLYTRACE_SPAN_KIND_CLIENT
	fin.status_code = C.POLYTRACE_STATUS_OK
	if err = check(C.polytrace_tracer_record_span(tracer, fin, nil)); err != nil {
		return "", err
	}
	return traceID, nil
}

func main() {
	service := os.Getenv("OTEL_SERVICE_NAME")
	if service == "" {
		service = "quickstart-go"
	}
	traceID, exported, err := Run([]KV{{"service_name", service}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "polytrace:", err)
		os.Exit(1)
	}
	fmt.Printf("trace_id=%s\n", traceID)
	fmt.Fprintf(os.Stderr, "exported %d spans\n", exported)
}
