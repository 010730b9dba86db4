package layering

import (
	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/global"
)

// RetryOptions returns the options a constructor of this file hands to
// dubbo-go: the caller's opts, between two of its own.
//
// The first gives the service its own copy of the client's reference config.
// dubbo-go hands the same one to every service of a client, so without the
// copy an option given to one service, such as client.WithRetries, would leak
// into every service created after it from that client.
//
// The second applies defaults, the methods' retry defaults from the .proto,
// where the caller set nothing above them. It runs after opts because dubbo-go
// keeps the client's retries (client.WithClientRetries) and the service's
// (client.WithRetries) in one field: only there can it tell whether the caller
// set one. A .proto default beats the client's retries, not the caller's.
func RetryOptions(defaults []global.MethodConfig, opts []client.ReferenceOption) []client.ReferenceOption {
	var clientRetries string
	isolate := func(o *client.ReferenceOptions) {
		o.Reference = o.Reference.Clone()
		clientRetries, o.Reference.Retries = o.Reference.Retries, ""
	}
	applyDefaults := func(o *client.ReferenceOptions) {
		ref := o.Reference
		serviceRetries := ref.Retries != ""
		if !serviceRetries {
			ref.Retries = clientRetries
		}
		for _, d := range defaults {
			// The caller's configs of the method: the last one, which dubbo-go
			// reads, and the last one that sets retries.
			last, lastRetries := -1, -1
			for i, m := range ref.MethodsConfig {
				if m != nil && m.Name == d.Name {
					last = i
					if m.Retries != "" {
						lastRetries = i
					}
				}
			}
			switch {
			case lastRetries >= 0:
				// client.WithMethod set the method's retries: they win, even if a
				// later WithMethod for the method set other things only.
				if lastRetries != last {
					m := ref.MethodsConfig[last].Clone()
					m.Retries = ref.MethodsConfig[lastRetries].Retries
					ref.MethodsConfig[last] = m
				}
			case serviceRetries:
				// client.WithRetries set the retries of the whole service: they win.
			case last >= 0:
				// client.WithMethod named the method but set no retries: the .proto
				// default applies, on a copy of the caller's config.
				m := ref.MethodsConfig[last].Clone()
				m.Retries = d.Retries
				ref.MethodsConfig[last] = m
			default:
				// A method config sets the method's sticky too: keep the service's.
				m := d
				m.Sticky = ref.Sticky
				ref.MethodsConfig = append(ref.MethodsConfig, &m)
			}
		}
	}
	return append(append([]client.ReferenceOption{isolate}, opts...), applyDefaults)
}
