package layering

import (
	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/common"
	"dubbo.apache.org/dubbo-go/v3/common/constant"
	"dubbo.apache.org/dubbo-go/v3/global"
)

// PublishedDefaults are the .proto's retries and timeouts of the methods of
// a file's services, by interface name. Generated with publish_defaults, a
// file registers them as a config post-processor, which dubbo-go runs on the
// URL of every service a provider exports before it registers the URL: a
// provider of one of these services publishes the .proto's defaults as the
// method-level values of its URL, which consumers merge into theirs.
type PublishedDefaults map[string][]global.MethodConfig

// PostProcessServiceConfig publishes the defaults of the service of u, if
// it is one of p's, where the provider set nothing above them: a method's
// own retries (server.WithMethod) or the service's (server.WithRetries),
// and likewise for timeouts.
func (p PublishedDefaults) PostProcessServiceConfig(u *common.URL) {
	methods, ok := p[u.GetParam(constant.InterfaceKey, "")]
	if !ok {
		return
	}
	for _, m := range methods {
		publish := func(key, value string) {
			if value != "" && u.GetParam(key, "") == "" && u.GetParam("methods."+m.Name+"."+key, "") == "" {
				u.SetParam("methods."+m.Name+"."+key, value)
			}
		}
		publish(constant.RetriesKey, m.Retries)
		publish(constant.TimeoutKey, m.RequestTimeout)
	}
}

// PostProcessReferenceConfig leaves a consumer's URL alone.
func (PublishedDefaults) PostProcessReferenceConfig(*common.URL) {}

// ServiceRetriesOptions returns the caller's opts of a constructor followed
// by one of its own, for a service whose providers publish the .proto's
// retries. It gives the caller's client.WithRetries to each method with a
// .proto default that the caller's client.WithMethod does not set: a
// provider's method-level retries would beat the consumer's service-level
// ones in the merged URL (Dubbo's rule: method beats interface), where the
// .proto's must not beat the caller's. RetryOptions, which wraps the
// result, then finds the method's retries set by the caller.
func ServiceRetriesOptions(defaults []global.MethodConfig, opts []client.ReferenceOption) []client.ReferenceOption {
	keepServiceRetries := func(o *client.ReferenceOptions) {
		ref := o.Reference
		if ref.Retries == "" {
			return
		}
		for _, d := range defaults {
			// A client.WithMethod that sets the method's retries wins:
			// RetryOptions keeps them.
			SetMethod(ref, d.Name,
				func(m *global.MethodConfig) bool { return m.Retries != "" },
				func(m *global.MethodConfig) { m.Retries = ref.Retries })
		}
	}
	return append(opts[:len(opts):len(opts)], keepServiceRetries)
}
