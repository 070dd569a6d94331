package main

import "testing"

func TestQuickstartRuns(t *testing.T) {
	if err := run("../../testdata/quickstart-trace.jsonl"); err != nil {
		t.Fatal(err)
	}
	if err := run("does-not-exist.jsonl"); err == nil {
		t.Fatal("a missing trace must be an error")
	}
}
