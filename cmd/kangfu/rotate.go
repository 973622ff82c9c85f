package main

import (
	"context"
	"errors"
	"io"
)

func cmdRotateKey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("rotate-key: not built yet")
}
