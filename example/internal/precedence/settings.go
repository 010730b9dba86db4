package precedence

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/global"
)

// A Setting is an option of one layer of dubbo-go's settings, as data, so
// that a row can be made on any service, and named: the client's (layer
// 1), a service's (layer 3: client.WithRetries, client.WithMethod...) or a
// call's (layer 4).
type Setting struct {
	layer int
	// service is the service a setting of layer 3 is given to, "" for
	// every service the row creates.
	service string
	// method is the method of a client.WithMethod.
	method string
	// retries, if set, and timeout, if not 0, are what it sets.
	retries *int
	timeout time.Duration
}

// WithClientRetries is client.WithClientRetries(n).
func WithClientRetries(n int) Setting { return Setting{layer: 1, retries: &n} }

// WithClientRequestTimeout is client.WithClientRequestTimeout(d).
func WithClientRequestTimeout(d time.Duration) Setting { return Setting{layer: 1, timeout: d} }

// WithRetries is client.WithRetries(n), given to the service's constructor.
func WithRetries(n int) Setting { return Setting{layer: 3, retries: &n} }

// WithRequestTimeout is client.WithRequestTimeout(d), given to the service's
// constructor.
func WithRequestTimeout(d time.Duration) Setting { return Setting{layer: 3, timeout: d} }

// WithMethodRetries is client.WithMethod for method with Retries n, given to
// the service's constructor.
func WithMethodRetries(method string, n int) Setting {
	return Setting{layer: 3, method: method, retries: &n}
}

// WithMethodTimeout is client.WithMethod for method with RequestTimeout d (and
// no retries), given to the service's constructor.
func WithMethodTimeout(method string, d time.Duration) Setting {
	return Setting{layer: 3, method: method, timeout: d}
}

// WithCallRetries is client.WithCallRetries(n), given to the call.
func WithCallRetries(n int) Setting { return Setting{layer: 4, retries: &n} }

// WithCallRequestTimeout is client.WithCallRequestTimeout(d), given to the call.
func WithCallRequestTimeout(d time.Duration) Setting { return Setting{layer: 4, timeout: d} }

// On returns s, a setting of a service, given to the service called
// service alone.
func (s Setting) On(service string) Setting {
	if s.layer != 3 {
		panic("precedence: On for a setting that is not a service's: " + s.String())
	}
	s.service = service
	return s
}

// String names s as the Go that makes it.
func (s Setting) String() string {
	var name string
	switch {
	case s.method != "" && s.retries != nil:
		name = fmt.Sprintf("client.WithMethod(%s, Retries: %q)", s.method, strconv.Itoa(*s.retries))
	case s.method != "":
		name = fmt.Sprintf("client.WithMethod(%s, RequestTimeout: %q)", s.method, s.timeout.String())
	default:
		prefix := map[int]string{1: "Client", 3: "", 4: "Call"}[s.layer]
		if s.retries != nil {
			name = fmt.Sprintf("client.With%sRetries(%d)", prefix, *s.retries)
		} else {
			name = fmt.Sprintf("client.With%sRequestTimeout(%v)", prefix, s.timeout)
		}
	}
	if s.service != "" {
		name += " on " + s.service
	}
	return name
}

// names names settings, in order.
func names(settings []Setting) string {
	s := make([]string, len(settings))
	for i, x := range settings {
		s[i] = x.String()
	}
	return strings.Join(s, ", ")
}

// clientOptions returns the client options of settings.
func clientOptions(settings []Setting) []client.ClientOption {
	return options(settings, 1, client.WithClientRetries, client.WithClientRequestTimeout)
}

// callOptions returns the call options of settings.
func callOptions(settings []Setting) []client.CallOption {
	return options(settings, 4, client.WithCallRetries, client.WithCallRequestTimeout)
}

// options returns the options, made by retries and timeout, of the
// settings of layer.
func options[O any](settings []Setting, layer int, retries func(int) O, timeout func(time.Duration) O) []O {
	var opts []O
	for _, s := range settings {
		switch {
		case s.layer != layer:
		case s.retries != nil:
			opts = append(opts, retries(*s.retries))
		default:
			opts = append(opts, timeout(s.timeout))
		}
	}
	return opts
}

// referenceOptions returns the options, in order, that settings give the
// service called service, with each method named through rename.
func referenceOptions(settings []Setting, service string, rename func(string) string) []client.ReferenceOption {
	var opts []client.ReferenceOption
	for _, s := range settings {
		switch {
		case s.layer != 3 || s.service != "" && s.service != service:
		case s.method != "":
			cfg := &global.MethodConfig{Name: rename(s.method)}
			if s.retries != nil {
				cfg.Retries = strconv.Itoa(*s.retries)
			}
			if s.timeout != 0 {
				cfg.RequestTimeout = s.timeout.String()
			}
			opts = append(opts, client.WithMethod(cfg))
		case s.retries != nil:
			opts = append(opts, client.WithRetries(*s.retries))
		default:
			opts = append(opts, client.WithRequestTimeout(s.timeout))
		}
	}
	return opts
}

// sameName is the rename of a row made on e2e/v1's own services.
func sameName(name string) string { return name }
