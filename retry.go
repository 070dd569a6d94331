package coco

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"
)

// RetryPolicy says how Coco retries a model call that failed in a way that
// may pass: a *ProviderError that is Retryable (429, 408, 5xx, an unreadable
// or empty response), a network timeout, or an empty response. Other errors
// (other 4xx, a spent budget, an unknown price, the caller's context ending)
// are never retried.
//
// Attempt n (from 1) waits a random duration in [0, min(MaxDelay,
// BaseDelay·2^(n-1))] before the next ("full jitter", which keeps many
// clients from retrying in step), or the provider's Retry-After if that is
// longer. A Retry-After above MaxRetryAfter, or a wait that would outlast the
// context's deadline, ends the retries at once. Every attempt is metered: the
// tokens a provider billed for a failed attempt are recorded.
type RetryPolicy struct {
	// MaxAttempts counts the first attempt: 1 means no retry. 0 means 3.
	MaxAttempts int
	// BaseDelay and MaxDelay bound the backoff; 0 means 250ms and 8s.
	BaseDelay, MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After Coco waits for; 0 means 60s.
	MaxRetryAfter time.Duration
	// Sleep waits d or until ctx ends; nil means a timer. Tests inject their
	// own clock here.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = 3
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = 250 * time.Millisecond
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = 8 * time.Second
	}
	if p.MaxRetryAfter == 0 {
		p.MaxRetryAfter = time.Minute
	}
	if p.Sleep == nil {
		p.Sleep = sleep
	}
	return p
}

func (p RetryPolicy) validate() error {
	if p.MaxAttempts < 0 || p.MaxAttempts > 100 {
		return fmt.Errorf("coco: RetryPolicy.MaxAttempts %d: want 0 to 100", p.MaxAttempts)
	}
	if p.BaseDelay < 0 || p.MaxDelay < 0 || p.MaxRetryAfter < 0 {
		return errors.New("coco: RetryPolicy: negative delay")
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryable reports whether err may pass on another attempt.
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *ProviderError
	if errors.As(err, &pe) {
		return pe.Retryable()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, ErrEmptyResponse)
}

// delay returns how long to wait after the failed attempt n (from 1), and
// false if the policy says to give up.
func (p RetryPolicy) delay(ctx context.Context, n int, err error) (time.Duration, bool) {
	ceiling := p.BaseDelay << min(n-1, 30)
	if ceiling <= 0 || ceiling > p.MaxDelay {
		ceiling = p.MaxDelay
	}
	d := time.Duration(rand.Int64N(int64(ceiling) + 1))
	var pe *ProviderError
	if errors.As(err, &pe) && pe.RetryAfter > 0 {
		if pe.RetryAfter > p.MaxRetryAfter {
			return 0, false
		}
		d = max(d, pe.RetryAfter)
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= d {
		return 0, false
	}
	return d, true
}

// WithRetry sets the retry policy of model calls (default: RetryPolicy{}, 3
// attempts with full-jitter backoff from 250ms). RetryPolicy{MaxAttempts: 1}
// turns retries off.
func WithRetry(p RetryPolicy) Option {
	return optionFunc(func(c *config) error {
		if err := p.validate(); err != nil {
			return err
		}
		c.retry = p
		return nil
	})
}
