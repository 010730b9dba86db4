package dubboretry

import (
	"errors"
	"time"

	protocolbase "dubbo.apache.org/dubbo-go/v3/protocol/base"

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
	// hedging, when hedging.MaxAttempts > 0, hedges the method's calls;
	// with an adaptive delay, from latencies.
	hedging   Hedging
	latencies *latencies
}

// retryable reports whether a failed attempt's err may be retried by r.
//
// A business error never is. Otherwise an error that carries a Triple code
// is retried when the code is in retryOn (or retryOn is empty). An error
// that carries none came from dubbo-go on the consumer, before or instead
// of an exchange with the provider: it is retried only where it can heal on
// another provider or a moment later (transient), as gRPC retries a call
// that never left the client ("transparent retry"), whatever retryOn lists.
// Any other, such as an attachment of a type the Triple invoker refuses,
// would only fail again.
//
// failover, the rule of streams, retries every error but a business one,
// as dubbo-go does.
func (r *rule) retryable(err error) bool {
	if isBizError(err) {
		return false
	}
	if r == failover {
		return true
	}
	var te *triple_protocol.Error
	if !errors.As(err, &te) {
		return transient(err)
	}
	return r.retryOn == 0 || r.retryOn.has(te.Code())
}

// transient reports whether err, an error without a Triple code, is one
// that dubbo-go raises on the consumer for a provider that is going away:
// its invoker destroyed (a provider removed from the list as the call
// picked it), its client closed, or its graceful shutdown announced
// ("provider is closing", from the consumer's graceful-shutdown filter).
func transient(err error) bool {
	return errors.Is(err, protocolbase.ErrDestroyedInvoker) || errors.Is(err, protocolbase.ErrClientClosed) ||
		err.Error() == providerClosing
}

// providerClosing is the message of the error dubbo-go v3.3.2's
// graceful-shutdown filter returns for a provider that announced its
// shutdown; it has no type or value of its own to compare with.
const providerClosing = "provider is closing"

// isBizError is failover's test for a business error, which it never
// retries.
func isBizError(err error) bool {
	return triple_protocol.IsWireError(err) && triple_protocol.CodeOf(err) == triple_protocol.CodeBizError
}
