package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadAllSizedIsReadAll: whatever the size hint (right, short, long)
// and however the reader delivers, readAllSized returns what io.ReadAll
// returns.
func TestReadAllSizedIsReadAll(t *testing.T) {
	failure := errors.New("disk on fire")
	readers := map[string]func(string) io.Reader{
		"whole":    func(s string) io.Reader { return strings.NewReader(s) },
		"one-byte": func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
		"data-err": func(s string) io.Reader { return iotest.DataErrReader(strings.NewReader(s)) },
		"fails":    func(s string) io.Reader { return io.MultiReader(strings.NewReader(s), iotest.ErrReader(failure)) },
		"limited":  func(s string) io.Reader { return io.LimitReader(strings.NewReader(s), MaxFileSize+1) },
	}
	for _, n := range []int{0, 1, 511, 512, 513, 800, 4096, MaxFileSize, MaxFileSize + 1, MaxFileSize + 100} {
		src := strings.Repeat("x", n)
		for name, mk := range readers {
			want, wantErr := io.ReadAll(mk(src))
			for _, hint := range []int64{0, 1, int64(n), int64(n) + 1, int64(n) / 2, int64(n) * 2, 1 << 40} {
				got, gotErr := readAllSized(mk(src), hint)
				if !bytes.Equal(got, want) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
					t.Errorf("%s of %d bytes, hint %d: %d bytes, %v; want %d bytes, %v", name, n, hint, len(got), gotErr, len(want), wantErr)
				}
			}
		}
	}
}
