// Package dubboretry is the runtime of the code protoc-gen-go-retry
// generates: it applies the retry policy a .proto declares to dubbo-go
// v3.3.2 Triple services (docs/design.md, "The generated code and the
// runtime"). A generated file declares each service's policy as data, a
// [Service], and its NewXxxService hands that policy, the service's
// ClientInfo and the caller's options to [Dial]. Everything else happens
// here: a fix is an upgrade of this module, not a regeneration.
//
// Callers override the .proto's policy with dubbo-go's options and those of
// this package, given to the constructor:
//
//	svc, err := shopv1.NewCartService(cli,
//		client.WithRetries(2),
//		client.WithRequestTimeout(300*time.Millisecond),
//		dubboretry.WithRetryOn(triple_protocol.CodeUnavailable),
//		dubboretry.WithMethodBackoff("GetCart", 20*time.Millisecond, time.Second, 2),
//		dubboretry.WithBudget(0.1, 10),
//	)
//
// and on a call with dubbo-go's client.WithCallRetries and
// client.WithCallRequestTimeout.
//
// # Layers
//
// Lowest first: dubbo-go's defaults, the client's options (layer 1), the
// .proto (layer 2), the options given to NewXxxService (layer 3) and those
// given to a call (layer 4). Dial resolves layers 1 to 3 of each method's
// retries and per-attempt timeout once, when the service is created, and
// the cluster of this package applies them, with retry_on, backoff and the
// budget, call by call. See [Dial] for each column.
//
// # Semantics
//
// timeout: each attempt of a unary call gets its own deadline, even when
// the caller's context has one, which then bounds the whole call. An
// attempt its limit cut fails with DEADLINE_EXCEEDED.
//
// retry_on: a failure whose Triple code is not listed ends the call after
// that attempt, with that attempt's error. No list: every failure that is
// not a business error is retried, as dubbo-go does. A business error (a
// handler's plain error) is never retried. An error that carries no Triple
// code was raised by dubbo-go on the consumer without an answer from a
// provider: where it can heal (a destroyed invoker, a closed client, a
// provider that announced its shutdown) it is retried, on another provider,
// whatever the list says; any other ends the call. An empty provider list
// is an attempt that failed with UNAVAILABLE, and is retried as such,
// charging no budget.
//
// backoff: the delay before retry n (n = 1, 2, ...) is drawn uniformly from
// [0, min(max, initial × multiplier^(n-1))] ([Backoff.Ceiling],
// [Backoff.Delay]). A delay that would end after the caller's deadline is
// not waited, and a delay the caller's context cuts short ends the call: it
// ends with the last attempt's error (not the context's), and makes no
// further attempt. Without a backoff, retries are immediate.
//
// budget: two limits on a service's retries and hedged copies, per process.
// The cap: a retry is made only if, counting it, the retries of the last
// 10 s number at most ratio × the first attempts of the last 11 s + 10 ×
// min_retries_per_second. The gate: once five retries in a row have failed,
// at most one retry every 10 s is made, until an attempt succeeds. A
// refused retry is not made, and the call ends with its last error. The
// budget is asked before the delay, so a refused call fails at once, and
// charged only for a retry that is sent. Deposits are lock-free, and a
// retry takes a short critical section, so two retries can never both take
// the last one allowed.
//
// hedging: copies of a call of a method the .proto declares safe to repeat
// go to distinct providers, the next when the copies before have not
// answered within the delay (fixed, or a percentile of the method's recent
// latencies in this process), or at once when one fails with a code the
// method retries; the first success wins, and the other copies are
// cancelled. Each copy after the first is a retry for the budget.
//
// Everything else is failover's: a retry going to a provider not yet
// tried, client.WithSticky, the load balancer, and the retries where no
// layer below the call sets them (the URL's methods.M.retries > retries >
// 2, a provider's included).
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
// the policy in the loop. It limits each attempt too: it knows the
// method's resolved limit, and which attempts its own limit cut.
//
// # How a policy reaches the cluster
//
// As reference parameters (global.ReferenceConfig.Params), which dubbo-go
// copies onto the URL the cluster joins. The With… options of this package
// (layer 3) write dubboretry.options, so that the order of the options does
// not matter between layers. Dial resolves it with every other layer below
// the call into a [Policy], writes what the cluster must apply as
// dubboretry.proto (each method's retry_on, backoff, hedging, and its
// retries and timeout where they must beat the URL's; the budget), and
// removes dubboretry.options; on a reference Dial did not create, the
// cluster resolves dubboretry.options itself. The cluster reads its
// parameters once, when it joins the service's directory, into an
// immutable table by method: a call costs one map lookup, one clock
// reading and one atomic add (the budget's deposit), and no allocation
// more than failover.
//
// Each field resolves on its own, for each method: layer-3 method
// (WithMethodRetryOn, WithMethodBackoff, WithMethodHedging) > layer-3
// service (WithRetryOn, WithBackoff, WithHedging) > layer 2 (the generator has resolved the .proto's method >
// service > file) > dubbo-go's rule. The budget: WithBudget or
// WithoutBudget > the .proto's. Within layer 3 the later option wins, as
// among dubbo-go's options.
//
// # The cluster of a service
//
// Dial selects [ClusterName] for every service it creates, and every option
// of this package selects it for the reference it is given to, unless the
// cluster is already one other than failover: a cluster that the caller
// chose (client.WithClusterFailFast, client.WithCluster, ...) or that the
// client or consumer config imposes (adaptive service) wins, and none of
// the policy is applied. Failover chosen explicitly
// (client.WithClusterFailOver) counts as no choice.
//
// An option of this package writes the reference it is given to alone:
// given to a reference this plugin did not generate (cli.DialWithInfo, as
// protoc-gen-go-triple's code calls it), it first gives the reference its
// own copy of the client's shared reference config.
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
// [Backoff.Validate], [Budget.Validate] and [Hedging.Validate]. No call ever panics: a policy
// parameter the cluster cannot read (only a hand-written one can be) fails
// every call of the service with an error that names it. A [Service] Dial
// cannot apply makes Dial return an error.
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
// # Metrics and logs
//
// The cluster records each unary call through the OpenTelemetry API: six
// instruments of the scope [MeterName] (attempts, their durations by
// status code, call durations, retries, retry delays, and the retries the
// budget refused), from the global MeterProvider or the one given with
// [WithMeterProvider]; with no provider set, at no allocation. Failed calls
// are summarised, per service, in at most one log line a second at Warn
// level, where dubbo-go writes an Error line with a stack trace for each.
//
// # Where it departs from failover
//
//   - A unary call makes no retry once its context has ended (failover
//     makes them all, each failing at once).
//   - It does not format each invoked provider's URL key, which failover
//     does on every attempt only to count providers in its failure log.
//   - Streams (client, server and bidi) keep failover's rule exactly: the
//     policy, the timeouts and the budget are for unary calls.
//
// Services that dubbo.Load creates from SetConsumerXxx do not get the
// .proto's policy: they are not created by the generated constructor.
package dubboretry
