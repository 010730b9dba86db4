package layering

import "dubbo.apache.org/dubbo-go/v3/global"

// SetMethod sets a value of the method name on the reference config ref,
// unless the caller's configs of the method already set it (has says which
// do): on a copy of the caller's last config of the method, which dubbo-go
// reads for the rest, never on the caller's own; else on a config of its
// own, which keeps the service's sticky (a method config sets sticky too).
func SetMethod(ref *global.ReferenceConfig, name string, has func(*global.MethodConfig) bool, set func(*global.MethodConfig)) {
	last := -1
	for i, m := range ref.MethodsConfig {
		if m != nil && m.Name == name {
			if has(m) {
				return
			}
			last = i
		}
	}
	if last >= 0 {
		m := ref.MethodsConfig[last].Clone()
		set(m)
		ref.MethodsConfig[last] = m
		return
	}
	m := &global.MethodConfig{Name: name, Sticky: ref.Sticky}
	set(m)
	ref.MethodsConfig = append(ref.MethodsConfig, m)
}
