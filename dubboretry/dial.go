package dubboretry

import (
	"maps"
	"reflect"
	"slices"

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
func Dial(cli *client.Client, info *client.ClientInfo, svc *Service, opts ...client.ReferenceOption) (*client.Connection, *Policy, error) {
	l, all, err := svc.options(opts)
	if err != nil {
		return nil, nil, err
	}
	conn, err := cli.DialWithInfo(info.InterfaceName, info, all...)
	if err != nil {
		return nil, nil, err
	}
	return conn, l.policy, nil
}

// options returns the options Dial hands to dubbo-go: the caller's opts,
// between two of its own, which l runs.
func (s *Service) options(opts []client.ReferenceOption) (*layering, []client.ReferenceOption, error) {
	if p := s.prepare(); p.err != nil {
		return nil, nil, p.err
	}
	l := &layering{svc: s}
	all := make([]client.ReferenceOption, 0, len(opts)+2)
	all = append(all, l.isolate)
	all = append(all, opts...)
	return l, append(all, l.apply), nil
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
	svc    *Service
	policy *Policy // what apply resolved

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

// apply resolves the service's policy over every layer below the call
// (resolvePolicy), and hands the cluster what it must apply in one reference
// parameter. The reference's method configs stay the caller's: the
// cluster applies what apply resolves, which costs neither the creation of
// the service nor its calls the URL parameters dubbo-go makes of each
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
	if !sameMap(ref.Params, l.params) {
		// The caller's client.WithParams made the map the caller's own.
		ref.Params = maps.Clone(ref.Params)
	}
	opts, err := decodeLayer(ref.Params[paramOptions])
	if err != nil {
		// Only a hand-written parameter can get here: the cluster fails
		// every call of the service with the error.
		opts = noLayer
	} else {
		// The caller's options of this package are resolved into the
		// policy: they go no further.
		delete(ref.Params, paramOptions)
	}
	l.policy = l.resolvePolicy(o, opts, serviceRetries, serviceTimeout)
	usePolicy(ref, paramProto, l.policy.encode(l.svc, l.svc.isPublished()))
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
