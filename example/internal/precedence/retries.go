// Package precedence is the precedence table of docs/design.md as data:
// rows that set the layers of dubbo-go's settings, each with the calls it
// decides and what each must do. Retries is the column of retries
// ("Precedence"), Timeouts the column of timeouts ("Timeouts").
//
// The direct-URL tests (internal/e2e) and the ZooKeeper tests
// (internal/registry) make every row on the services of
// testdata/proto/e2e/v1 (Bind), and the walkthrough (example/walkthrough)
// makes the calls marked for the demo on GreetService (DemoRows): one
// table, three places that run it.
package precedence

import (
	"fmt"
	"strings"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
)

// A Method is a unary method of e2e/v1, by its service and its name.
type Method struct{ Service, Name string }

func (m Method) String() string { return m.Service + "." + m.Name }

// The methods of e2e/v1 that the rows of Retries call, and what their
// .proto declares.
var (
	Declared        = Method{"LayerService", "Declared"}   // (retry.v1.method).retries = 3
	Never           = Method{"LayerService", "Never"}      // (retry.v1.method).retries = 0
	Undeclared      = Method{"LayerService", "Undeclared"} // nothing, beside methods that do
	GuardedRead     = Method{"GuardedService", "Read"}     // the service's retries: 2, idempotent_only; NO_SIDE_EFFECTS
	GuardedWrite    = Method{"GuardedService", "Write"}    // the same, on a method that is not idempotent: 0
	FileInherit     = Method{"FileDefaultService", "Inherit"}
	PlainDeclared   = Method{"PlainService", "Declared"}   // nothing in the whole service
	PlainUndeclared = Method{"PlainService", "Undeclared"} // likewise
)

// A Scenario is one row of the table: the settings of a client and of the
// services created from it, and the calls that show what they decide. It
// creates one service of each interface, at most (through ZooKeeper, a
// second reference to an interface in one process finds no provider).
type Scenario struct {
	Name string
	// Settings are the client's, then, in order, those of the services:
	// each given to every service, or to the one it is On.
	Settings []Setting
	// Bare creates the services as protoc-gen-go-triple's code does, with
	// cli.DialWithInfo: without the .proto's defaults.
	Bare bool
	// Calls are made each once, and fail every attempt: each must make
	// Retries + 1 attempts. The services are created in the order the
	// calls first name them.
	Calls []Call
}

// A Call is a call of a scenario.
type Call struct {
	Method Method
	// Settings are the call's own (WithCallRetries).
	Settings []Setting
	// Retries is what the layers give the call.
	Retries uint32
	// Demo, if set, makes the walkthrough show the call (see DemoRows).
	Demo *Demo
}

// Name names the call within its scenario.
func (c Call) Name() string {
	if len(c.Settings) == 0 {
		return c.Method.String()
	}
	return c.Method.String() + ", " + names(c.Settings)
}

// A Demo says how the walkthrough shows a call: the layer that decides
// it, and what sets that layer, where {proto}, {Service} and {Declared}
// stand for the .proto file, the service and the method that the
// walkthrough calls (Target).
type Demo struct {
	Layer string
	SetBy string
}

// Retries is the column of retries of the precedence table: the rows the
// walkthrough shows first, in its order (the layers from the lowest, each
// over the .proto), then the others.
var Retries = []Scenario{
	{
		Name:  "protoc-gen-go-triple's code",
		Bare:  true,
		Calls: []Call{{Method: Declared, Retries: 2, Demo: &Demo{"0", "dubbo-go's default, through protoc-gen-go-triple's code"}}, {Method: Never, Retries: 2}, {Method: GuardedWrite, Retries: 2}},
	},
	{
		// Layer 2 alone: the .proto, over dubbo-go's default of 2 retries;
		// and LayerService's default for Declared does not reach
		// PlainService.Declared.
		Name: "the .proto alone",
		Calls: []Call{
			{Method: Declared, Retries: 3, Demo: &Demo{"2", "{proto}: option (retry.v1.method).retries = 3"}},
			{Method: Never, Retries: 0},
			{Method: Undeclared, Retries: 2},
			{Method: GuardedRead, Retries: 2},
			{Method: GuardedWrite, Retries: 0},
			{Method: FileInherit, Retries: 1},
			{Method: PlainDeclared, Retries: 2},
			{Method: PlainUndeclared, Retries: 2},
		},
	},
	clientRetries(1, &Demo{"1", "client.WithClientRetries(1): under the .proto default"}),
	{
		// Layer 3 over layer 2: WithRetries given to the constructor sets
		// every method of its service, .proto defaults included.
		Name:     "WithRetries(1)",
		Settings: []Setting{WithRetries(1)},
		Calls: []Call{
			{Method: Declared, Retries: 1, Demo: &Demo{"3", "New{Service}(cli, client.WithRetries(1))"}},
			{Method: Never, Retries: 1},
			{Method: Undeclared, Retries: 1},
		},
	},
	{
		// Layer 3, one method: WithMethod beats WithRetries for its
		// method.
		Name:     "WithRetries(1), then WithMethod(Declared, 5)",
		Settings: []Setting{WithRetries(1), WithMethodRetries("Declared", 5)},
		Calls: []Call{
			{Method: Declared, Retries: 5, Demo: &Demo{"3", `... and client.WithMethod({Declared}, Retries: "5")`}},
			{Method: Never, Retries: 1},
			{Method: Undeclared, Retries: 1},
		},
	},
	{
		// Layer 4 over layer 2.
		Name: "WithCallRetries over the .proto",
		Calls: []Call{
			{Method: Declared, Settings: []Setting{WithCallRetries(0)}, Retries: 0, Demo: &Demo{"4", "client.WithCallRetries(0) on the call"}},
			{Method: Never, Settings: []Setting{WithCallRetries(4)}, Retries: 4},
			{Method: Undeclared, Settings: []Setting{WithCallRetries(1)}, Retries: 1},
		},
	},

	// Layer 1 under layer 2: the client's retries fill in only the methods
	// the .proto says nothing about; 0 too.
	clientRetries(5, nil),
	clientRetries(0, nil),
	{
		// Layer 3 over layers 2 and 1, a service at a time.
		Name:     "WithRetries(1) and WithRetries(0), over WithClientRetries(5)",
		Settings: []Setting{WithClientRetries(5), WithRetries(1).On("LayerService"), WithRetries(0).On("GuardedService")},
		Calls: []Call{
			{Method: Declared, Retries: 1},
			{Method: Never, Retries: 1},
			{Method: Undeclared, Retries: 1},
			{Method: GuardedRead, Retries: 0},
			{Method: GuardedWrite, Retries: 0},
		},
	},
	{
		// WithMethod beats WithRetries in either order; on a method whose
		// .proto says 0 too.
		Name:     "WithMethod(Declared, 5) and WithMethod(Never, 2), then WithRetries(1)",
		Settings: []Setting{WithMethodRetries("Declared", 5), WithMethodRetries("Never", 2), WithRetries(1)},
		Calls: []Call{
			{Method: Declared, Retries: 5},
			{Method: Never, Retries: 2},
			{Method: Undeclared, Retries: 1},
		},
	},
	{
		// A later WithMethod for the same method that sets no retries does
		// not undo the retries of an earlier one; without WithRetries,
		// WithMethod sets its method alone.
		Name:     "WithMethod(Declared, 5), then WithMethod(Declared, a timeout)",
		Settings: []Setting{WithMethodRetries("Declared", 5), WithMethodTimeout("Declared", 9*time.Second), WithMethodRetries("Never", 2)},
		Calls: []Call{
			{Method: Declared, Retries: 5},
			{Method: Never, Retries: 2},
			{Method: Undeclared, Retries: 2},
		},
	},
	{
		// A WithMethod that sets no retries leaves the .proto default in
		// force, over the client's.
		Name:     "WithMethod(Declared, a timeout), over WithClientRetries(5)",
		Settings: []Setting{WithClientRetries(5), WithMethodTimeout("Declared", 7*time.Second), WithMethodRetries("Never", 2)},
		Calls: []Call{
			{Method: Declared, Retries: 3},
			{Method: Never, Retries: 2},
			{Method: Undeclared, Retries: 5},
		},
	},
	{
		// Layer 4 over everything.
		Name:     "WithCallRetries over every layer",
		Settings: []Setting{WithClientRetries(5), WithRetries(1).On("LayerService"), WithMethodRetries("Declared", 5).On("LayerService")},
		Calls: []Call{
			{Method: Declared, Settings: []Setting{WithCallRetries(0)}, Retries: 0},
			{Method: Never, Settings: []Setting{WithCallRetries(3)}, Retries: 3},
			{Method: GuardedRead, Settings: []Setting{WithCallRetries(0)}, Retries: 0},
			{Method: GuardedWrite, Settings: []Setting{WithCallRetries(2)}, Retries: 2},
			{Method: PlainUndeclared, Settings: []Setting{WithCallRetries(0)}, Retries: 0},
		},
	},
	{
		// The options given to one service do not reach another service
		// created from the same client: the first...
		Name:     "no leak: the options of the first service",
		Settings: []Setting{WithRetries(5).On("LayerService"), WithMethodRetries("Undeclared", 4).On("LayerService")},
		Calls: []Call{
			{Method: Declared, Retries: 5},
			{Method: Undeclared, Retries: 4},
			{Method: PlainDeclared, Retries: 2},
			{Method: PlainUndeclared, Retries: 2},
		},
	},
	{
		// ... or the second.
		Name:     "no leak: the options of the second service",
		Settings: []Setting{WithRetries(4).On("PlainService")},
		Calls: []Call{
			{Method: Declared, Retries: 3},
			{Method: Undeclared, Retries: 2},
			{Method: Never, Retries: 0},
			{Method: PlainDeclared, Retries: 4},
		},
	},
}

// clientRetries is the row of client.WithClientRetries(n): it fills in the
// methods without a .proto default, and only those. demo, if set, shows
// its call of Declared.
func clientRetries(n uint32, demo *Demo) Scenario {
	return Scenario{
		Name:     fmt.Sprintf("WithClientRetries(%d)", n),
		Settings: []Setting{WithClientRetries(int(n))},
		Calls: []Call{
			{Method: Declared, Retries: 3, Demo: demo},
			{Method: Never, Retries: 0},
			{Method: Undeclared, Retries: n},
			{Method: GuardedRead, Retries: 2},
			{Method: GuardedWrite, Retries: 0},
			{Method: FileInherit, Retries: 1},
			{Method: PlainUndeclared, Retries: n},
		},
	}
}

// A Target is the service the walkthrough makes the demo's calls on: its
// .proto file, its name, and the name of its method that stands for
// Declared, whose .proto declares retries = 3.
type Target struct {
	Proto, Service, Declared string
}

// A DemoRow is a call of Retries marked for the demo, made on a Target.
type DemoRow struct {
	Layer, SetBy string
	// Bare, Client, Service and Call are how to create the service and
	// make the call (see Scenario.Bare, and Bind).
	Bare    bool
	Client  []client.ClientOption
	Service []client.ReferenceOption
	Call    []client.CallOption
	// Retries is what the layers give the call.
	Retries uint32
}

// DemoRows returns the calls of Retries marked for the demo, in order,
// made on t. A demo call calls Declared, and its scenario sets nothing on
// another service or method, so that it means on t what it means on
// LayerService.
func DemoRows(t Target) []DemoRow {
	text := strings.NewReplacer("{proto}", t.Proto, "{Service}", t.Service, "{Declared}", t.Declared)
	rename := func(m string) string {
		if m != Declared.Name {
			panic("precedence: a demo row sets " + m + ", which the walkthrough's service does not have")
		}
		return t.Declared
	}
	var rows []DemoRow
	for _, s := range Retries {
		for _, c := range s.Calls {
			if c.Demo == nil {
				continue
			}
			if c.Method != Declared {
				panic("precedence: a demo row calls " + c.Method.String())
			}
			for _, x := range s.Settings {
				if x.service != "" && x.service != Declared.Service {
					panic("precedence: a demo row sets " + x.String())
				}
			}
			rows = append(rows, DemoRow{
				Layer:   c.Demo.Layer,
				SetBy:   text.Replace(c.Demo.SetBy),
				Bare:    s.Bare,
				Client:  clientOptions(s.Settings),
				Service: referenceOptions(s.Settings, Declared.Service, rename),
				Call:    callOptions(c.Settings),
				Retries: c.Retries,
			})
		}
	}
	return rows
}
