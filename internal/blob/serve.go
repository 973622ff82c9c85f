package blob

import (
	"io"
	"log/slog"
	"net/http"
	"strconv"
)

// HoldBack is how many bytes of a blob Serve keeps back until the content
// checked out against its key: one sealed chunk.
const HoldBack = sealChunk

// holdBack writes all but the last n bytes it was given; Flush writes the rest.
type holdBack struct {
	w    io.Writer
	n    int
	buf  []byte
	sent int64
}

func (h *holdBack) Write(p []byte) (int, error) {
	h.buf = append(h.buf, p...)
	if over := len(h.buf) - h.n; over > 0 {
		k, err := h.w.Write(h.buf[:over])
		h.sent += int64(k)
		// Keep the tail in place; the buffer never grows past n + len(p).
		h.buf = h.buf[:copy(h.buf, h.buf[k:])]
		if err != nil {
			return len(p), err
		}
	}
	return len(p), nil
}

func (h *holdBack) Flush() error {
	k, err := h.w.Write(h.buf)
	h.sent += int64(k)
	h.buf = h.buf[:0]
	return err
}

// Copy streams rc (from Storage.Open) to w in constant memory, holding back
// the last HoldBack bytes until rc reached its end and the content matched
// its key: what w received is the whole verified content, or misses at least
// its end. It closes rc. sent is how many bytes reached w.
func Copy(w io.Writer, rc io.ReadCloser) (sent int64, err error) {
	defer rc.Close()
	h := &holdBack{w: w, n: HoldBack, buf: make([]byte, 0, HoldBack+32<<10)}
	if _, err := io.CopyBuffer(h, onlyReader{rc}, make([]byte, 32<<10)); err != nil {
		return h.sent, err
	}
	err = h.Flush()
	return h.sent, err
}

// onlyReader hides any WriterTo of the reader, so CopyBuffer uses its buffer.
type onlyReader struct{ io.Reader }

// Serve answers an HTTP request with the stream rc of size bytes (from
// Storage.Open): Content-Length, then the content through Copy. Headers
// such as Content-Type are the caller's, set before. If the content fails
// before any byte was sent the error is returned and the caller answers
// it; after that the response is aborted (http.ErrAbortHandler), so the
// client sees a body shorter than Content-Length, never a whole corrupt file.
func Serve(w http.ResponseWriter, r *http.Request, rc io.ReadCloser, size int64) error {
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	sent, err := Copy(w, rc)
	if err == nil {
		return nil
	}
	if sent == 0 {
		for _, h := range []string{"Content-Length", "Content-Disposition", "Content-Type"} {
			w.Header().Del(h)
		}
		return err
	}
	slog.ErrorContext(r.Context(), "blob: download aborted part way", "sent", sent, "size", size, "err", err)
	panic(http.ErrAbortHandler)
}
