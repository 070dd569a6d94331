package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestQuickstartRuns(t *testing.T) {
	t.Setenv("COCO_SLM_MODEL", "") // not live
	if err := run("../../testdata/quickstart-trace.jsonl"); err != nil {
		t.Fatal(err)
	}
	if err := run("does-not-exist.jsonl"); err == nil {
		t.Fatal("a missing trace must be an error")
	}
}

// TestQuickstartLive checks the environment wiring against a local server
// speaking the OpenAI chat completions protocol.
func TestQuickstartLive(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"A: 42"},"finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":3,"total_tokens":23}}`)
	}))
	defer srv.Close()
	t.Setenv("COCO_BASE_URL", srv.URL+"/v1")
	t.Setenv("COCO_API_KEY", "k")
	t.Setenv("COCO_SLM_MODEL", "llama3.2:3b")
	t.Setenv("COCO_LLM_MODEL", "gpt-4o")
	if err := run("../../testdata/quickstart-trace.jsonl"); err != nil {
		t.Fatal(err)
	}
	// 6 tasks x 5 SLM samples, one a call (the server ignores n); the
	// samples agree, so no LLM call.
	if got := calls.Load(); got != 30 {
		t.Fatalf("%d calls reached the endpoint, want 30", got)
	}
}
