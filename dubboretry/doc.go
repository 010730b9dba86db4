// Package dubboretry enforces the retry policies that .proto files declare
// (docs/design.md, "Retry policies") for dubbo-go v3.3.2 Triple services:
// which failures are retried (retry_on), how far apart (backoff, with full
// jitter), and how many retries a service may add to its load (budget).
//
// The code protoc-gen-go-retry generates passes the .proto's policy of a
// service to [Defaults] in its NewXxxService. Callers override it with the
// With… options of this package, given to the same constructor beside
// dubbo-go's client.WithRetries and client.WithMethod:
//
//	svc, err := shopv1.NewCartService(cli,
//		client.WithRetries(2),
//		dubboretry.WithRetryOn(triple_protocol.CodeUnavailable),
//		dubboretry.WithMethodBackoff("GetCart", 20*time.Millisecond, time.Second, 2),
//		dubboretry.WithBudget(0.1, 10),
//	)
//
// and turn retries off for one call with dubbo-go's client.WithCallRetries(0).
//
// # Semantics
//
// retry_on: a failure whose Triple code is not listed ends the call after
// that attempt, with that attempt's error. No list: every failure that is
// not a business error is retried, as dubbo-go does. A business error (a
// handler's plain error) is never retried. An error that carries no Triple
// code was raised by dubbo-go on the consumer without an answer from a
// provider (a destroyed invoker, a closed client, a provider that announced
// its shutdown): the request reached no handler, and it is retried, on
// another provider, whatever the list says, as failover does.
//
// backoff: the delay before retry n (n = 1, 2, ...) is drawn uniformly from
// [0, min(max, initial × multiplier^(n-1))] ([Backoff.Ceiling],
// [Backoff.Delay]). A delay waits on a timer and on the caller's context:
// when the context ends first, the call ends then, with the last attempt's
// error (not the context's), and makes no further attempt. Without a
// backoff, retries are immediate.
//
// budget: over a sliding window of 10 s (ten slices of 1 s), a service's
// retries may number at most ratio × its first attempts + 10 ×
// min_retries_per_second. Every call's first attempt is counted; a retry
// is made only if, with it, the retries in the window stay within that
// bound, and is counted then; a refused retry is not made, and the call
// ends with its last error. The budget is asked before the delay, so a
// refused call fails at once. The budget is per service per process (see
// below); deposits are lock-free, and a retry takes a short critical
// section, so two retries can never both take the last one allowed.
//
// Everything else is failover's: the retries (client.WithCallRetries >
// methods.M.retries > retries > 2), a retry going to a provider not yet
// tried, client.WithSticky, the load balancer.
//
// # A cluster, not a filter
//
// dubbo-go offers two places to change what a call does: filters
// (extension.SetFilter), which wrap each provider's invoker beneath the
// cluster, and clusters (extension.SetCluster), which own the loop over
// attempts. The policy is about the loop: whether there is a next attempt,
// when, and whether the budget allows it. A filter is asked for attempts
// one at a time and cannot end the loop; failover ends it only on success,
// on a business error, or when the retries run out. So, beneath failover:
//
//   - To end a call on a code retry_on does not list, a filter must either
//     turn the error into a business error (the caller then sees a code no
//     provider sent) or keep the error on the invocation and answer every
//     later attempt with it without calling the provider. The second keeps
//     the caller's error, but failover still runs the attempts it thinks it
//     makes: it re-lists the directory, selects a provider for each, and
//     with client.WithSticky moves the service's sticky provider to one that
//     was never called; its log reports retries that were not made.
//   - A budget that refuses a retry, or a deadline that falls inside a
//     delay, would end the call the same way, with the same side effects.
//   - The filter would need per-call state on the invocation to tell a
//     call's first attempt from its retries.
//
// So the package registers a cluster, [ClusterName], built from failover's
// parts (cluster/cluster/base: BaseClusterInvoker's DoSelect with the
// providers already invoked and the sticky invoker, CheckInvokers,
// GetLoadBalance; failover's retries rule and business-error test) with
// the policy in the loop. A cluster is chosen per service (the reference's
// cluster parameter), so a service without a policy keeps dubbo-go's
// failover cluster: nothing of this package runs on its calls.
//
// # How a policy reaches the cluster
//
// The options write reference parameters (global.ReferenceConfig.Params),
// which dubbo-go copies onto the URL the cluster joins: one parameter per
// layer, dubboretry.proto (layer 2, [Defaults]) and dubboretry.options
// (layer 3, the With… options), so that the order of the options does not
// matter between layers. They copy the parameters before writing them
// (client.WithParams hands dubbo-go the caller's own map; the generated
// constructors have already given the service its own copy of the
// client's reference config). The cluster reads them once, when it joins
// the service's directory, into an immutable table by method: a call costs
// one map lookup, one clock reading and one atomic add (the budget's
// deposit), and no allocation.
//
// Each field resolves on its own, for each method: layer-3 method
// (WithMethodRetryOn, WithMethodBackoff) > layer-3 service (WithRetryOn,
// WithBackoff) > layer 2 (the generator has resolved the .proto's method >
// service > file) > dubbo-go's rule. The budget: WithBudget or
// WithoutBudget > the .proto's. Within layer 3 the later option wins, as
// among dubbo-go's options.
//
// # The cluster of a service
//
// Every option of this package selects [ClusterName] for the service,
// unless the cluster is already one other than failover: a cluster that
// the caller chose (client.WithClusterFailFast, client.WithCluster, ...) or
// that the client or consumer config imposes (adaptive service) wins, and
// the policy is then not enforced, for it is failover's. Failover chosen
// explicitly (client.WithClusterFailOver) counts as no choice: an option of
// this package that runs after it selects the policy's cluster. The
// generated constructors pass [Defaults] after the caller's options, so
// that for a service with a .proto policy the order of client.WithCluster…
// and of this package's options does not matter.
//
// client.WithParams replaces the reference's whole parameter map (dubbo-go's
// behaviour): given after options of this package, it drops their
// settings. Give it before them.
//
// # Bad options
//
// A ReferenceOption cannot return an error, and dubbo-go gives options no
// way to fail the constructor. The options of this package validate their
// arguments when they are made (when WithBackoff(...) is evaluated, before
// NewXxxService runs) and panic with a message that names the option and
// the problem, as for a bad regexp.MustCompile: options are code, and the
// panic points at the line that wrote the bad one, at startup. The other
// choice, to record the error and fail every call of the service, would
// turn a typo into a service that fails in production, later and further
// from its cause. Values read from configuration can be checked first with
// [Backoff.Validate] and [Budget.Validate]. No call ever panics: a policy
// parameter the cluster cannot read (only a hand-written one can be) fails
// every call of the service with an error that names it.
//
// # Budget state
//
// A budget is per service per process: the references of a service (every
// NewXxxService of it, from any client of the process) that declare the
// same budget share one, held in a package-level map keyed by the service
// key (interface, group, version) and the budget's ratio and
// min_retries_per_second. References of one service that declare different
// budgets each enforce their own: keying by service alone would leave one
// of them enforcing the other's. The map grows by one entry per service
// and budget, never per call or per reference.
//
// # Where it departs from failover
//
//   - A unary call of a service with a policy makes no retry once its
//     context has ended (failover makes them all, each failing at once).
//   - It does not format each invoked provider's URL key, which failover
//     does on every attempt only to count providers in its failure log.
//   - Streams (client, server and bidi) keep failover's rule exactly: the
//     policy and the budget are for unary calls.
//
// Services that dubbo.Load creates from SetConsumerXxx do not get the
// .proto's policy (they are not created by the generated constructor),
// as they do not get its retries.
package dubboretry
