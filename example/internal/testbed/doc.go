// Package testbed is what the example's tests, benchmarks and walkthrough
// run on 127.0.0.1: Triple servers, in the process and as provider
// processes, with the handlers that count attempts; child processes; and
// ZooKeeper.
//
//   - port.go: a free port of 127.0.0.1, and waiting until something
//     accepts connections there, or is otherwise ready.
//   - child.go: the running binary run again as a child process (a
//     provider, a consumer) with the root module's internal/childproc,
//     which Main turns into the role its environment names, and which
//     talks to its parent in JSON lines; StartChild, for a test, with
//     the child's data races and logs.
//   - serve.go: a Triple server on a free port of 127.0.0.1 (Serve), and
//     the one a test package runs for its own tests (RunTests, Client).
//   - handlers.go, script.go, log.go: the handlers of the golden services
//     the tests call (testdata/proto/e2e/v1, publish/v1), which log every
//     attempt and fail as the request, its script or the provider's mode
//     asks; services.go registers them by name.
//   - provider.go: provider processes of those services, found directly
//     or through ZooKeeper (registry.go), which serve the attempts they
//     have seen, and the addresses they listen on (listening.go, from
//     childproc.Listening), over HTTP.
//   - zookeeper.go: a standalone ZooKeeper server.
//   - try.go: Try(f()).Must(t).
//
// Every server binds and registers 127.0.0.1 only: protocol.WithIp, and
// DUBBO_IP_TO_REGISTRY=127.0.0.1, which Main sets for the process and every
// child it starts.
package testbed
