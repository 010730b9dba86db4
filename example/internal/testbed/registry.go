package testbed

import (
	"time"

	dubbo "dubbo.apache.org/dubbo-go/v3"
	"dubbo.apache.org/dubbo-go/v3/metadata"
	"dubbo.apache.org/dubbo-go/v3/registry"
)

// A Registry says which ZooKeeper a process registers in, or finds its
// providers in, and how.
type Registry struct {
	Addr  string // ZooKeeper's client address
	Group string // the root node: every test registers in a group of its own
	// Interface selects interface-level registration
	// (registry.WithRegisterInterface); without it dubbo-go v3.3.2 uses its
	// default, application-level service discovery.
	Interface bool `json:",omitempty"`
}

// Instance returns the options of a dubbo-go instance, of the application
// app, that uses r.
//
// The instance keeps its metadata in ZooKeeper (dubbo.WithRemoteMetadata):
// with the default, local metadata, dubbo-go serves a MetadataService on a
// random port of every interface (it gives that service no IP), which the
// tests must not. And the metadata goes to a group of its own: dubbo-go's
// ZooKeeper metadata report keeps an application's metadata at
// /<group>/<app>/<revision>, next to the instances that service discovery
// keeps at /<group>/<app>/<ip:port>, and a consumer that finds the metadata
// there takes it for an instance and crashes (a nil instance in
// ServiceInstancesChangedListenerImpl.OnEvent).
func (r Registry) Instance(app string) []dubbo.InstanceOption {
	opts := []registry.Option{
		registry.WithZookeeper(),
		registry.WithAddress(r.Addr),
		registry.WithGroup(r.Group),
		registry.WithTimeout(5 * time.Second),
		registry.WithoutUseAsMetaReport(),
	}
	if r.Interface {
		opts = append(opts, registry.WithRegisterInterface())
	}
	return []dubbo.InstanceOption{
		dubbo.WithName(app),
		dubbo.WithRegistry(opts...),
		dubbo.WithMetadataReport(
			metadata.WithZookeeper(),
			metadata.WithAddress(r.Addr),
			metadata.WithGroup(r.MetadataGroup()),
		),
		dubbo.WithRemoteMetadata(),
	}
}

// MetadataGroup is the root node of the metadata of r's applications.
func (r Registry) MetadataGroup() string { return r.Group + "-metadata" }
