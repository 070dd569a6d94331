package coco

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// ObserveHTTP returns an http.RoundTripper, wrapping base (nil: the default
// transport), that lets FromLangchain see the HTTP status and Retry-After of a
// provider's failed responses. Many langchaingo clients drop both (Ollama's
// turns a 429 into a bare error string), and without them a failure cannot be
// told retryable or not. Give the provider an *http.Client using it:
//
//	client := &http.Client{Transport: coco.ObserveHTTP(nil)}
//	llm, err := ollama.New(ollama.WithModel("llama3.2:3b"), ollama.WithHTTPClient(client))
//
// The transport records nothing for requests that FromLangchain did not start
// and changes no request or response.
func ObserveHTTP(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return observingTransport{base}
}

type observingTransport struct{ base http.RoundTripper }

type observationKey struct{}

// observation is what the transport saw of the responses to one call.
type observation struct {
	mu         sync.Mutex
	status     int
	retryAfter time.Duration
}

func (t observingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if o, ok := req.Context().Value(observationKey{}).(*observation); ok && resp != nil && resp.StatusCode >= 300 {
		o.mu.Lock()
		o.status = resp.StatusCode
		o.retryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		o.mu.Unlock()
	}
	return resp, err
}

func observe(ctx context.Context) (context.Context, *observation) {
	o := &observation{}
	return context.WithValue(ctx, observationKey{}, o), o
}

func (o *observation) get() (int, time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.status, o.retryAfter
}

// ParseRetryAfter reads a Retry-After header value: delay-seconds or an HTTP
// date. It returns 0 for an empty, malformed or past value, and for a wait
// longer than about 11 days, which no provider means.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	const limit = 1e6 * time.Second
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s >= 0 && s < limit.Seconds() {
			return time.Duration(s * float64(time.Second))
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) && t.Sub(now) < limit {
		return t.Sub(now)
	}
	return 0
}
