package dubboretry

import (
	"maps"
	"reflect"
	"slices"
	"strconv"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/global"
)

// Dial connects the client side of a service that protoc-gen-go-retry
// generated: its NewXxxService calls Dial with the service's ClientInfo, the
// policy its .proto declares and the caller's options, and gets the
// connection that protoc-gen-go-triple's code gets from cli.DialWithInfo.
//
// Dial layers the .proto's policy between the client's settings and the
// caller's (docs/design.md, "Precedence" and "Timeouts"):
//
//   - The service gets its own copy of the client's reference config, so
//     that neither its .proto policy nor the caller's options reach another
//     service of cli.
//   - Each method's retries are, highest first: the call's
//     (client.WithCallRetries), the caller's client.WithMethod for it, the
//     caller's client.WithRetries, the .proto, the client's
//     (client.WithClientRetries), dubbo-go's 2.
//   - Each attempt of a unary method is limited to, highest first: the
//     call's timeout (client.WithCallRequestTimeout), the caller's
//     client.WithMethod for it, the caller's client.WithRequestTimeout, the
//     .proto; with none of them, the client's, as dubbo-go applies it.
//   - retry_on, backoff and the budget: the caller's options of this
//     package (for one method, then for the service), then the .proto, then
//     dubbo-go's rule.
//
// The cluster of this package applies all of it, call by call. A caller's
// option that chooses a cluster other than failover
// (client.WithClusterFailFast, …) takes the service off it: dubbo-go's own
// behaviour then applies, and none of the .proto's policy.
//
// Dial returns an error, and creates nothing, if svc is not a policy this
// version of the package can apply; the generated code's compile-time
// handshake ([SupportPackageIsVersion1]) keeps that from happening.
func Dial(cli *client.Client, info *client.ClientInfo, svc *Service, opts ...client.ReferenceOption) (*client.Connection, error) {
	all, err := svc.options(opts)
	if err != nil {
		return nil, err
	}
	return cli.DialWithInfo(info.InterfaceName, info, all...)
}

// options returns the options Dial hands to dubbo-go: the caller's opts,
// between two of its own.
func (s *Service) options(opts []client.ReferenceOption) ([]client.ReferenceOption, error) {
	p := s.prepare()
	if p.err != nil {
		return nil, p.err
	}
	l := &layering{svc: s, proto: p.proto}
	all := make([]client.ReferenceOption, 0, len(opts)+2)
	all = append(all, l.isolate)
	all = append(all, opts...)
	return append(all, l.apply), nil
}

// layering is what Dial does around the caller's options: isolate runs
// first, apply last.
//
// apply runs after the caller's options because dubbo-go keeps the
// client's retries (client.WithClientRetries) and the service's
// (client.WithRetries) in one field of the reference config: only there can
// it tell whether the caller set one, if isolate has put the client's aside
// first. A .proto value beats the client's, not the caller's.
type layering struct {
	svc   *Service
	proto string // the .proto's retry_on, backoff and budget, for the cluster

	// The client's retries and timeout, put aside by isolate.
	clientRetries, clientTimeout string
	// params is the service's own Params map, made by isolate.
	params map[string]string
}

// isolate gives the service its own copy of the client's reference config:
// dubbo-go hands the same one to every service of a client, so without the
// copy an option given to one service, such as client.WithRetries, would
// reach every service created after it from that client.
//
// The copy shares what options replace rather than change: a clipped
// slice, which client.WithMethod's append copies, and the caller's method
// configs, which nothing here changes. Its Params map is its own, since
// client.WithParam writes into it.
func (l *layering) isolate(o *client.ReferenceOptions) {
	ref := *o.Reference
	ref.Params = maps.Clone(ref.Params)
	ref.MethodsConfig = slices.Clip(ref.MethodsConfig)
	ref.RegistryIDs = slices.Clip(ref.RegistryIDs)
	l.clientRetries, ref.Retries = ref.Retries, ""
	l.clientTimeout, ref.RequestTimeout = ref.RequestTimeout, ""
	l.params = ref.Params
	o.Reference = &ref
}

// apply resolves, for each unary method, its retries and its timeout
// below the call, and hands them to the cluster with the .proto's retry_on,
// backoff and budget. The reference's method configs stay the caller's:
// the cluster applies what apply resolves, which costs neither the creation
// of the service nor its calls the URL parameters dubbo-go makes of each
// method config.
func (l *layering) apply(o *client.ReferenceOptions) {
	ref := o.Reference
	serviceRetries, serviceTimeout := ref.Retries, ref.RequestTimeout
	if ref.Retries == "" {
		ref.Retries = l.clientRetries
	}
	if ref.RequestTimeout == "" {
		ref.RequestTimeout = l.clientTimeout
	}
	published := l.svc.isPublished()
	var v items
	v.Grow(len(l.proto) + 32*len(l.svc.Methods))
	v.WriteString(l.proto)
	for i := range l.svc.Methods {
		m := &l.svc.Methods[i]
		if m.Streaming {
			continue
		}
		caller := callerMethod(ref, m.Name)
		if n, ok := methodRetries(m, caller, serviceRetries, published); ok {
			v.add(m.Name, kindRetries, strconv.Itoa(n))
		}
		if d := methodTimeout(m, caller, serviceTimeout); d > 0 {
			v.add(m.Name, kindTimeout, formatDuration(d))
		}
	}
	if !sameMap(ref.Params, l.params) {
		// The caller's client.WithParams made the map the caller's own.
		ref.Params = maps.Clone(ref.Params)
	}
	usePolicy(ref, paramProto, v.String())
}

// sameMap reports whether a and b are the same map.
func sameMap(a, b map[string]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// callerConfigs is what the caller's method configs of one method set: the
// retries of the last one that sets them, and likewise the timeout.
type callerConfigs struct {
	retries, timeout string
}

// callerMethod returns what the caller's client.WithMethod configs of the
// method name set. dubbo-go reads the last config of a method: its retries
// even when empty, its timeout only when set. A later client.WithMethod that
// sets other things only must not undo an earlier one's retries, so the last
// that sets them wins here.
func callerMethod(ref *global.ReferenceConfig, name string) callerConfigs {
	var c callerConfigs
	for _, m := range ref.MethodsConfig {
		if m == nil || m.Name != name {
			continue
		}
		if m.Retries != "" {
			c.retries = m.Retries
		}
		if m.RequestTimeout != "" {
			c.timeout = m.RequestTimeout
		}
	}
	return c
}

// methodRetries returns the retries of method m below the call, if they must
// beat what the URL says: the caller's client.WithMethod for it, else, where
// the .proto declares its retries, the caller's client.WithRetries or else
// the .proto's. Otherwise the URL's retries decide, as in failover: the
// caller's client.WithRetries, else the client's, else a provider's, else 2.
//
// A .proto default is a method value of the consumer, so it beats a
// provider's retries, as a client.WithMethod does (Dubbo's rule: a method's
// value beats the interface's, and the consumer's the provider's). When the
// service's providers publish the .proto's retries as method values
// (published), the caller's client.WithRetries beats them too
// (docs/design.md, "Publishing the .proto's defaults").
func methodRetries(m *Method, caller callerConfigs, serviceRetries string, published bool) (int, bool) {
	var v string
	switch {
	case caller.retries != "":
		v = caller.retries
	case m.RetriesFrom == NotSet:
		return 0, false
	case serviceRetries != "" && !published:
		return 0, false
	case serviceRetries != "":
		v = serviceRetries
	default:
		return int(m.Retries), true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		// Not a number: dubbo-go reads it as none, and so does the cluster.
		return 0, false
	}
	return n, true
}

// methodTimeout returns the limit of each attempt of method m below the
// call: the caller's client.WithMethod for it, else the caller's
// client.WithRequestTimeout, else the .proto's; 0 for none.
func methodTimeout(m *Method, caller callerConfigs, serviceTimeout string) time.Duration {
	for _, v := range []string{caller.timeout, serviceTimeout} {
		if v == "" {
			continue
		}
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			return d
		}
	}
	if m.TimeoutFrom != NotSet {
		return m.Timeout
	}
	return 0
}
