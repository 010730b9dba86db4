package main

import (
	"testing"
)

// pkgHeader opens the .proto files of the collision tests: a service
// declared after it is on line 7.
const pkgHeader = "syntax = \"proto3\";\npackage pkg;\noption go_package = \"example.com/pkg\";\n\nmessage M {}\n\n"

// Generated names that meet are refused, at the later of the two
// declarations, naming the other: the Go would not compile.
func TestNameCollisions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{
			"client implementation and client interface",
			map[string]string{"a.proto": pkgHeader + "service A { rpc Get(M) returns (M); }\n\nservice AImpl { rpc Get(M) returns (M); }\n"},
			"a.proto:9:1: pkg.AImpl: its client interface AImpl is also the client implementation of service pkg.A (a.proto:7:1); rename one of them",
		},
		{
			"client constructor and client interface",
			map[string]string{"a.proto": pkgHeader + "service X {}\nservice NewX {}\n"},
			"a.proto:8:1: pkg.NewX: its client interface NewX is also the client constructor of service pkg.X (a.proto:7:1); rename one of them",
		},
		{
			"procedure constants",
			map[string]string{"a.proto": pkgHeader + "service Greet { rpc ServiceGreet(M) returns (M); }\nservice GreetService { rpc Greet(M) returns (M); }\n"},
			"a.proto:8:24: pkg.GreetService.Greet: its procedure constant GreetServiceGreetProcedure is also the procedure constant" +
				" of method pkg.Greet.ServiceGreet (a.proto:7:17); rename one of them",
		},
		{
			// A_B_CClient, and the other stream names with it: one error.
			"stream interfaces",
			map[string]string{"a.proto": pkgHeader + "service A { rpc B_C(stream M) returns (stream M); }\nservice A_B { rpc C(stream M) returns (stream M); }\n"},
			"a.proto:8:15: pkg.A_B.C: its client stream interface A_B_CClient is also the client stream interface of method pkg.A.B_C (a.proto:7:13); rename one of them",
		},
		{
			"two services of one Go name",
			// Their methods meet too, which says nothing more.
			map[string]string{"a.proto": pkgHeader + "service foo_bar { rpc Get(M) returns (M); }\nservice FooBar { rpc Get(M) returns (M); }\n"},
			"a.proto:8:1: pkg.FooBar: its client interface FooBar is also the client interface of service pkg.foo_bar (a.proto:7:1); rename one of them",
		},
		{
			// GreetServiceImpl's RetryPolicy returns the service's policy.
			"a method named RetryPolicy",
			map[string]string{"a.proto": pkgHeader + "service S {\n  rpc RetryPolicy(M) returns (M);\n}\n"},
			"a.proto:8:3: pkg.S.RetryPolicy: its Go method name RetryPolicy is also the retry policy method of service pkg.S (a.proto:7:1); rename one of them",
		},
		{
			"two methods of one Go name",
			map[string]string{"a.proto": pkgHeader + "service S {\n  rpc get_thing(M) returns (M);\n  rpc GetThing(M) returns (M);\n}\n"},
			"a.proto:9:3: pkg.S.GetThing: its Go method name GetThing is also the Go method name of method pkg.S.get_thing (a.proto:8:3); rename one of them",
		},
		{
			"message type and client stream interface",
			map[string]string{"a.proto": pkgHeader + "message A_BClient {}\nservice A { rpc B(stream M) returns (M); }\n"},
			"a.proto:8:13: pkg.A.B: its client stream interface A_BClient is also the Go type of message pkg.A_BClient (a.proto:7:1); rename one of them",
		},
		{
			"client info variable and nested message type",
			map[string]string{"a.proto": pkgHeader + "service X {}\nmessage X_ { message ClientInfo {} }\nmessage X_ClientInfo {}\n"},
			"a.proto:9:1: pkg.X_ClientInfo: its Go type X_ClientInfo is also the client info variable of service pkg.X (a.proto:7:1); rename one of them",
		},
		{
			"enum value",
			map[string]string{"a.proto": pkgHeader + "enum Mode { Mode_ZERO = 0; FAST = 1; }\nservice Mode_FAST {}\n"},
			"a.proto:8:1: pkg.Mode_FAST: its client interface Mode_FAST is also the constant of enum value pkg.Mode.FAST (a.proto:7:28); rename one of them",
		},
		{
			"extension variable",
			map[string]string{"a.proto": pkgHeader + "import \"google/protobuf/descriptor.proto\";\n" +
				"extend google.protobuf.MethodOptions { string foo = 5000; }\nservice E_Foo {}\n"},
			"a.proto:9:1: pkg.E_Foo: its client interface E_Foo is also the variable of extension pkg.foo (a.proto:8:8); rename one of them",
		},
		{
			"oneof wrapper type",
			map[string]string{"a.proto": pkgHeader + "message Msg { oneof o { string field = 1; } }\nservice Msg_Field {}\n"},
			"a.proto:8:1: pkg.Msg_Field: its client interface Msg_Field is also the oneof wrapper type of field pkg.Msg.field (a.proto:7:25); rename one of them",
		},
		{
			"default value",
			map[string]string{"a.proto": "syntax = \"proto2\";\npackage pkg;\noption go_package = \"example.com/pkg\";\n" +
				"message M { optional int32 n = 1 [default = 5]; }\nservice Default_M_N {}\n"},
			"a.proto:5:1: pkg.Default_M_N: its client interface Default_M_N is also the default value of field pkg.M.n (a.proto:4:13); rename one of them",
		},
		{
			"file descriptor variable",
			map[string]string{"API/S.PROTO": pkgHeader + "service File_API_S_PROTO {}\n"},
			"API/S.PROTO:7:1: pkg.File_API_S_PROTO: its client interface File_API_S_PROTO is also the descriptor variable of file API/S.PROTO" +
				" (API/S.PROTO:2:1); rename one of them",
		},
		{
			"two files of one Go package",
			map[string]string{
				"a.proto": pkgHeader + "service S { rpc Get(M) returns (M); }\n",
				"b.proto": "syntax = \"proto3\";\npackage q;\noption go_package = \"example.com/pkg\";\nmessage N {}\nservice S { rpc Get(N) returns (N); }\n",
			},
			"b.proto:5:1: q.S: its client interface S is also the client interface of service pkg.S (a.proto:7:1); rename one of them",
		},
		{
			"import public",
			map[string]string{
				"a.proto": "syntax = \"proto3\";\npackage a;\noption go_package = \"example.com/a\";\nimport public \"b.proto\";\n" +
					"service S { rpc Get(b.SImpl) returns (b.SImpl); }\n",
				"b.proto": "syntax = \"proto3\";\npackage b;\noption go_package = \"example.com/b\";\nmessage SImpl {}\n",
			},
			"a.proto:5:1: a.S: its client implementation SImpl is also the Go type of message b.SImpl, forwarded by import public \"b.proto\" (a.proto:4:1); rename one of them",
		},
		{
			"import name",
			map[string]string{
				"a.proto": "syntax = \"proto3\";\npackage pkg;\noption go_package = \"example.com/pkg\";\nimport \"c.proto\";\n" +
					"service Greet { rpc Get(c.Req) returns (c.Req); }\n",
				"c.proto": "syntax = \"proto3\";\npackage c;\noption go_package = \"example.com/Greet;greetpb\";\nmessage Req {}\n",
			},
			"a.proto:5:1: pkg.Greet: its client interface Greet is also the name under which a.triple.go imports \"example.com/Greet\"," +
				" for the request type of method pkg.Greet.Get (a.proto:5:17); rename the service, or change the last element of that import path",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, compile(t, tc.files, ""), tc.want)
		})
	}
}

// A file of the package that is not generated in this run still has its
// .pb.go, and its .triple.go if it has services; protoc sends no source
// info for it.
func TestNameCollisionWithDependency(t *testing.T) {
	req := compile(t, map[string]string{
		"a.proto": pkgHeader + "import \"b.proto\";\nservice A { rpc Get(M) returns (M); }\n",
		"b.proto": "syntax = \"proto3\";\npackage pkg;\noption go_package = \"example.com/pkg\";\nmessage AImpl {}\nservice B {}\n",
		"c.proto": "syntax = \"proto3\";\npackage pkg;\noption go_package = \"example.com/pkg\";\nmessage BHandler {}\n",
	}, "")
	req.FileToGenerate = []string{"a.proto", "c.proto"}
	for _, f := range req.ProtoFile {
		if f.GetName() == "b.proto" {
			f.SourceCodeInfo = nil
		}
	}
	wantError(t, req,
		"b.proto: pkg.AImpl: its Go type AImpl is also the client implementation of service pkg.A (a.proto:8:1); rename one of them\n"+
			"c.proto:4:1: pkg.BHandler: its Go type BHandler is also the handler interface of service pkg.B (b.proto); rename one of them")
}

// Collisions are reported with the other errors of the run, in the order
// of their positions.
func TestNameCollisionsWithOtherErrors(t *testing.T) {
	src := pkgHeader + "import \"retry/v1/retry.proto\";\nservice A {\n  rpc Get(M) returns (M) { option (retry.v1.method).retries = 11; }\n}\n" +
		"service AImpl { rpc Get(M) returns (M); }\nservice NewA {}\n"
	wantError(t, compile(t, map[string]string{"a.proto": src}, ""),
		"a.proto:9:28: pkg.A.Get: (retry.v1.method).retries is 11, above max_retries=10 (raise the cap with the plugin parameter max_retries=N)\n"+
			"a.proto:11:1: pkg.AImpl: its client interface AImpl is also the client implementation of service pkg.A (a.proto:8:1); rename one of them\n"+
			"a.proto:12:1: pkg.NewA: its client interface NewA is also the client constructor of service pkg.A (a.proto:8:1); rename one of them\n"+
			"a.proto:12:1: pkg.NewA: its client implementation NewAImpl is also the client constructor of service pkg.AImpl (a.proto:11:1); rename one of them")
}

// Names that come close without meeting generate. A unary method has no
// stream types.
func TestNamesThatDoNotCollide(t *testing.T) {
	src := pkgHeader + "service Greet { rpc Service(M) returns (M); }\nservice GreetService { rpc Greet(M) returns (M); }\n" +
		"message GreetImplementation {}\nmessage Greet_Client {}\nmessage NewGreetServiceImpl {}\n" +
		"service S { rpc A_B(stream M) returns (M); rpc AB(M) returns (M); }\nmessage S_ABServer {}\n" +
		"enum E { E_ZERO = 0; }\nservice E_Zero {}\n"
	req := compile(t, map[string]string{"a.proto": src}, "")
	if resp := generate(req); resp.Error != nil || len(resp.File) != 1 {
		t.Errorf("error %q, %d files; want no error, 1 file", resp.GetError(), len(resp.File))
	}
}

// Two files whose descriptor variables meet (a/b.proto and a_b.proto both
// give File_a_b_proto) generate: that is protoc-gen-go's business, and the
// generated files declare nothing named after the file.
func TestFilesNamedAlike(t *testing.T) {
	req := compile(t, map[string]string{
		"a/b.proto": pkgHeader + "service S {}\n",
		"a_b.proto": "syntax = \"proto3\";\npackage pkg2;\noption go_package = \"example.com/pkg\";\nservice T {}\n",
	}, "")
	if resp := generate(req); resp.Error != nil || len(resp.File) != 2 {
		t.Errorf("error %q, %d files; want no error, 2 files", resp.GetError(), len(resp.File))
	}
}
