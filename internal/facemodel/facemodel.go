// Package facemodel holds the in-browser face library (Human 3.3.6 with its
// models and TensorFlow.js WebAssembly, vendored from npm by `npm run
// vendor`) once, for both the app (/app/vendor/human/…) and the staff
// console (/static/<hash>/vendor/human/…), which run the same model on a
// check-in selfie and on its recomputation (issue 17 §2, §4). Nothing is
// fetched at run time: the server runs offline.
package facemodel

import (
	"embed"
	"io/fs"
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
