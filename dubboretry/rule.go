package dubboretry

import (
	"errors"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
)

// codeSet is a set of Triple codes: bit c stands for code c.
type codeSet uint32

func (s codeSet) has(c triple_protocol.Code) bool {
	return c < 32 && s&(1<<c) != 0
}

func (s codeSet) with(c triple_protocol.Code) codeSet { return s | 1<<c }

func setOf(codes []triple_protocol.Code) codeSet {
	var s codeSet
	for _, c := range codes {
		s = s.with(c)
	}
	return s
}

// codes returns the codes of s, lowest first.
func (s codeSet) codes() []triple_protocol.Code {
	var out []triple_protocol.Code
	for c := triple_protocol.CodeCanceled; c <= triple_protocol.CodeUnauthenticated; c++ {
		if s.has(c) {
			out = append(out, c)
		}
	}
	return out
}

// rule is what one method's calls do, resolved from the layers once per
// service: which failures to retry, and how far apart.
type rule struct {
	// retryOn is the set of codes retried; empty: every failure that is not
	// a business error (dubbo-go's rule).
	retryOn codeSet
	// backoff spaces the retries when backoff.Initial > 0; otherwise they
	// are immediate. Its Max and Multiplier are filled in.
	backoff Backoff
	// retries, when retriesSet, are the method's retries below the call
	// (layers 1 to 3, as Dial resolved them), which beat what the URL says.
	// Otherwise the URL's decide, as in failover.
	retriesSet bool
	retries    int
	// timeout, when above 0, limits each attempt, below the call's own.
	timeout time.Duration
}

// retryable reports whether a failed attempt's err may be retried by r.
//
// A business error never is. Otherwise an error that carries a Triple code
// is retried when the code is in retryOn (or retryOn is empty). An error
// that carries none came from dubbo-go on the consumer, before or instead
// of an exchange with the provider (a destroyed invoker, a closed client, a
// provider that announced its shutdown): the request did not reach a
// provider's handler, so it is retried as failover does, whatever retryOn
// lists (gRPC's "transparent retry" of a call that never left the client).
func (r *rule) retryable(err error) bool {
	if isBizError(err) {
		return false
	}
	if r.retryOn == 0 {
		return true
	}
	var te *triple_protocol.Error
	if !errors.As(err, &te) {
		return true
	}
	return r.retryOn.has(te.Code())
}

// isBizError is failover's test for a business error, which it never
// retries.
func isBizError(err error) bool {
	return triple_protocol.IsWireError(err) && triple_protocol.CodeOf(err) == triple_protocol.CodeBizError
}
