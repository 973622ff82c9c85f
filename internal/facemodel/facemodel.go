// Package facemodel holds the in-browser face library (Human 3.3.6 with its
// models and TensorFlow.js WebAssembly, vendored from npm by `npm run
// vendor`) once, for both the app (/app/vendor/human/…) and the staff
// console (/static/<hash>/vendor/human/…), which run the same model on a
// check-in selfie and on its recomputation (issue 17 §2, §4). Nothing is
// fetched at run time: the server runs offline.
package facemodel

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"sync"
)

//go:embed human
var files embed.FS

// Core is facecore.js, the one script both front ends run the library
// with (load, analyse, compare), so the phone's score and the console's
// recomputation come from the same code.
//
//go:embed facecore.js
var Core []byte

// Dir is the folder both front ends serve the files under, relative to
// their static roots.
const Dir = "vendor/human/"

// FS returns the library's files, named relative to Dir (human.js,
// models/faceres.bin, wasm/…).
func FS() fs.FS {
	sub, err := fs.Sub(files, "human")
	if err != nil {
		panic(err)
	}
	return sub
}

// Listing is the library's files (relative to Dir) and one short hash of
// them all, names and contents: the console serves every file under it, so
// a new version of any file gets new URLs.
type Listing struct {
	Names []string
	Hash  string
}

// List returns the Listing, computed once per process (the files are
// embedded: they cannot change while it runs).
var List = sync.OnceValues(func() (Listing, error) {
	var l Listing
	sum := sha256.New() // WalkDir goes in lexical order: the same files give the same hash
	err := fs.WalkDir(FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(FS(), p)
		if err != nil {
			return err
		}
		s := sha256.Sum256(b)
		sum.Write([]byte(p))
		sum.Write(s[:])
		l.Names = append(l.Names, p)
		return nil
	})
	l.Hash = hex.EncodeToString(sum.Sum(nil)[:4])
	return l, err
})
