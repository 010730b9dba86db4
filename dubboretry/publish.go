package dubboretry

import (
	"strconv"
	"sync"

	"dubbo.apache.org/dubbo-go/v3/common"
	"dubbo.apache.org/dubbo-go/v3/common/constant"
	"dubbo.apache.org/dubbo-go/v3/common/extension"
)

// Publish makes the providers of services publish the retries and timeouts
// their .proto declares, as the method values of the URLs they register
// (docs/design.md, "Publishing the .proto's defaults"): consumers that this
// plugin did not generate, which never see the .proto, then get them from
// the registry. A file generated with the plugin parameter
// publish_defaults=true calls it from its init.
//
// A provider's own settings win: a method's value is published unless the
// provider set the method's (server.WithMethod) or the service's
// (server.WithRetries, server.WithRequestTimeout… on the URL). The consumers
// that Dial creates for these services give the caller's
// client.WithRetries to each method with a .proto default, so that it
// still beats the published value in the URL dubbo-go merges.
func Publish(services ...*Service) {
	published.mu.Lock()
	defer published.mu.Unlock()
	if published.services == nil {
		published.services = make(map[string]*Service)
		extension.SetConfigPostProcessor("dubboretry-publish", publisher{})
	}
	for _, s := range services {
		published.services[s.Name] = s
	}
}

// published holds the services given to Publish, by their .proto name,
// which is the interface name dubbo-go registers them under.
var published struct {
	mu       sync.RWMutex
	services map[string]*Service
}

// isPublished reports whether s was given to Publish.
func (s *Service) isPublished() bool {
	published.mu.RLock()
	defer published.mu.RUnlock()
	return published.services[s.Name] == s
}

// publisher is the config post-processor that dubbo-go runs on the URL of
// every service a provider exports, before it registers the URL.
type publisher struct{}

// PostProcessServiceConfig publishes the .proto's values of the service of
// u, if it is one given to Publish.
func (publisher) PostProcessServiceConfig(u *common.URL) {
	published.mu.RLock()
	s := published.services[u.GetParam(constant.InterfaceKey, "")]
	published.mu.RUnlock()
	if s == nil {
		return
	}
	for _, m := range s.Methods {
		publish := func(key, value string) {
			if u.GetParam(key, "") == "" && u.GetParam("methods."+m.Name+"."+key, "") == "" {
				u.SetParam("methods."+m.Name+"."+key, value)
			}
		}
		if m.RetriesFrom != NotSet {
			publish(constant.RetriesKey, strconv.FormatUint(uint64(m.Retries), 10))
		}
		if m.TimeoutFrom != NotSet {
			publish(constant.TimeoutKey, m.Timeout.String())
		}
	}
}

// PostProcessReferenceConfig leaves a consumer's URL alone.
func (publisher) PostProcessReferenceConfig(*common.URL) {}
