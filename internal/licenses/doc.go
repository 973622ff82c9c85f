// Package licenses holds the check that LICENSES.md, at the repository's
// root, lists every third-party Go module compiled into Kangfu, its tests
// or its tools, and every npm package vendored into the binary, each with
// its licence (issue 15, "dependency licences listed").
//
// The list is generated from the module cache (each module's LICENSE file,
// recognised by its text) and package-lock.json:
//
//	go test ./internal/licenses/ -update
//
// and TestLicensesFileIsCurrent fails when it is stale: a module added,
// upgraded or dropped, or one whose licence is not recognised (read it,
// then teach classify the licence if it is acceptable).
package licenses
