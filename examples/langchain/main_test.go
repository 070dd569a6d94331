package main

import (
	"os"
	"strings"
	"testing"
)

func TestLangchainExample(t *testing.T) {
	t.Setenv("COCO_SLM_MODEL", "") // offline
	out, err := os.Create(t.TempDir() + "/out.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := run(out, "../../testdata/quickstart-trace.jsonl"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"A: 05/01/2021", "A: 5:15 pm", "A: 02/27/2017", "callback: llm call to gpt-4o", "route llm"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("output lacks %q:\n%s", want, b)
		}
	}
}
