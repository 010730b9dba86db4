package dubboretry

// SupportPackageIsVersion1 is referenced by every file that
// protoc-gen-go-retry v0.3 generates, in a constant declaration:
//
//	const _ = dubboretry.SupportPackageIsVersion1
//
// It ties the generated file to the versions of this package that can run
// it, and turns a mismatch into a compile error rather than a failure at
// run time. A release of this package that changes what generated code may
// hand it adds SupportPackageIsVersion2, and keeps the constants of the
// generated code it still supports.
const SupportPackageIsVersion1 = true
