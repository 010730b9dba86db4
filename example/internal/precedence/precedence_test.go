package precedence

import (
	"slices"
	"testing"
)

// The registry tests find a row by its name, and every test counts the
// attempts of a call by a request id made of the row's and the call's
// names: each must be unique.
func TestNamesAreUnique(t *testing.T) {
	rows := make(map[string]bool)
	unique := func(name string) {
		if rows[name] {
			t.Errorf("two rows are called %q", name)
		}
		rows[name] = true
	}
	for _, s := range Retries {
		unique(s.Name)
		calls := make(map[string]bool)
		for _, c := range s.Calls {
			if calls[c.Name()] {
				t.Errorf("%s: two calls are called %q", s.Name, c.Name())
			}
			calls[c.Name()] = true
		}
	}
	for _, r := range Timeouts {
		unique(r.Name)
		calls := make(map[string]bool)
		for _, c := range r.Calls {
			if calls[c.Name] {
				t.Errorf("%s: two calls are called %q", r.Name, c.Name)
			}
			calls[c.Name] = true
		}
	}
}

// The walkthrough shows the layers from the lowest, each over the .proto,
// with the texts of the README.
func TestDemoRows(t *testing.T) {
	rows := DemoRows(Target{Proto: "greet.proto", Service: "GreetService", Declared: "GreetRetry"})
	var got []string
	for _, r := range rows {
		got = append(got, r.Layer+" "+r.SetBy)
	}
	want := []string{
		"0 dubbo-go's default, through protoc-gen-go-triple's code",
		"2 greet.proto: option (retry.v1.method).retries = 3",
		"1 client.WithClientRetries(1): under the .proto default",
		"3 NewGreetService(cli, client.WithRetries(1))",
		`3 ... and client.WithMethod(GreetRetry, Retries: "5")`,
		"4 client.WithCallRetries(0) on the call",
	}
	if !slices.Equal(got, want) {
		t.Errorf("the demo's rows:\n%q\nwant\n%q", got, want)
	}
}

func TestSettingNames(t *testing.T) {
	for _, c := range []struct {
		s    Setting
		want string
	}{
		{WithClientRetries(5), "client.WithClientRetries(5)"},
		{WithClientRequestTimeout(Short), "client.WithClientRequestTimeout(300ms)"},
		{WithRetries(1).On("LayerService"), "client.WithRetries(1) on LayerService"},
		{WithRequestTimeout(Long), "client.WithRequestTimeout(5s)"},
		{WithMethodRetries("Declared", 5), `client.WithMethod(Declared, Retries: "5")`},
		{WithMethodTimeout("Limited", Long), `client.WithMethod(Limited, RequestTimeout: "5s")`},
		{WithCallRetries(0), "client.WithCallRetries(0)"},
		{WithCallRequestTimeout(Short), "client.WithCallRequestTimeout(300ms)"},
	} {
		if got := c.s.String(); got != c.want {
			t.Errorf("%s, want %s", got, c.want)
		}
	}
}
