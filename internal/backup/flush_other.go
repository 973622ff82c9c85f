//go:build !linux

package backup

import (
	"io/fs"
	"os"
	"path/filepath"
)

// flush makes everything under dirs durable: an fsync per file and folder
// where syncfs is not available.
func flush(dirs []string) error {
	for _, d := range dirs {
		err := filepath.WalkDir(d, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return f.Sync()
		})
		if err != nil {
			return err
		}
	}
	return nil
}
