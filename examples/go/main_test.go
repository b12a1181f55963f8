package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// receiver runs `polytrace receive` on loopback and returns its gRPC address, output file and
// a stop function. The binary is $POLYTRACE_BIN, else target/release/polytrace.
func receiver(t *testing.T) (grpc, http, out string, stop func()) {
	t.Helper()
	bin := os.Getenv("POLYTRACE_BIN")
	if bin == "" {
		target := os.Getenv("CARGO_TARGET_DIR")
		if target == "" {
			target = filepath.Join("..", "..", "target")
		}
		bin = filepath.Join(target, "release", "polytrace")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("receiver binary %s missing (cargo build --release -p polytrace-cli): %v", bin, err)
	}
	out = filepath.Join(t.TempDir(), "traces.jsonl")
	cmd := exec.Command(bin, "receive", "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0", "--out", out)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := regexp.MustCompile(`^listening grpc=(\S+) http=(\S+)`)
	lines := bufio.NewScanner(stderr)
	found := make(chan []string, 1)
	go func() {
		for lines.Scan() {
			if m := listening.FindStringSubmatch(lines.Text()); m != nil {
				found <- m
			}
		}
	}()
	select {
	case m := <-found:
		grpc, http = m[1], m[2]
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("receiver did not start")
	}
	return grpc, http, out, func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
}

// spans reads the receiver's OTLP/JSON lines and returns name -> (traceId, parentSpanId) for the
// spans of service.
func spans(t *testing.T, path, service string) map[string][2]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type kv struct {
		Key   string `json:"key"`
		Value struct {
			StringValue string `json:"stringValue"`
		} `json:"value"`
	}
	var req struct {
		ResourceSpans []struct {
			Resource struct {
				Attributes []kv `json:"attributes"`
			} `json:"resource"`
			ScopeSpans []struct {
				Spans []struct {
					Name         string `json:"name"`
					TraceID      string `json:"traceId"`
					ParentSpanID string `json:"parentSpanId"`
				} `json:"spans"`
			} `json:"scopeSpans"`
		} `json:"resourceSpans"`
	}
	got := map[string][2]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		if err := json.Unmarshal([]byte(line), &req); err != nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		for _, rs := range req.ResourceSpans {
			name := ""
			for _, a := range rs.Resource.Attributes {
				if a.Key == "service.name" {
					name = a.Value.StringValue
				}
			}
			if name != service {
				continue
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					got[s.Name] = [2]string{strings.ToLower(s.TraceID), s.ParentSpanID}
				}
			}
		}
	}
	return got
}

func TestQuickstartExportsTraceToReceiver(t *testing.T) {
	grpc, _, out, stop := receiver(t)
	traceID, exported, err := Run([]KV{
		{"service_name", "quickstart-go-test"},
		{"endpoint", "http://" + grpc},
		{"protocol", "grpc"},
		{"exporter", "otlp"},
	})
	stop()
	if err != nil {
		t.Fatal(err)
	}
	if exported != 5 {
		t.Errorf("exported %d spans, want 5", exported)
	}
	got := spans(t, out, "quickstart-go-test")
	for _, name := range []string{"handle-order", "count-primes", "parse-config", "downstream", "cache-lookup"} {
		s, ok := got[name]
		if !ok {
			t.Errorf("span %q not received (got %v)", name, got)
			continue
		}
		if s[0] != traceID {
			t.Errorf("span %q in trace %s, want %s", name, s[0], traceID)
		}
		if name != "handle-order" && s[1] == "" {
			t.Errorf("span %q has no parent", name)
		}
	}
}

func TestErrorsComeBackAsGoErrors(t *testing.T) {
	_, _, err := Run([]KV{{"no_such_option", "1"}})
	e, ok := err.(*Error)
	if !ok || e.Kind != "InvalidConfig" || !strings.Contains(e.Message, "no_such_option") {
		t.Fatalf("got %#v", err)
	}
}
