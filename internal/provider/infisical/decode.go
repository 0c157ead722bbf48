package infisical

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// maxSizedBody bounds the Content-Length that decodeAnswer trusts to size
// its buffer: a larger (or unknown) length is decoded from the stream, as
// before.
const maxSizedBody = 64 << 20

// decodeAnswer decodes the JSON value of a successful answer into out,
// exactly as json.NewDecoder(resp.Body).Decode(out) would: same value, same
// error. With a Content-Length it reads the body into one buffer of that
// size first: a recursive listing of 1,000 handoffs is megabytes, and the
// decoder's doubling buffer (copies and fresh pages at every step) was a
// tenth of a no-change plan's CPU. A body that is not one complete JSON
// value (short, followed by more, or a read error) is handed to the
// decoder as the stream gave it, so that it says what it always said.
func decodeAnswer(resp *http.Response, out any) error {
	n := resp.ContentLength
	if n < 0 || n > maxSizedBody {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	buf := make([]byte, n)
	read := 0
	var err error
	for read < len(buf) && err == nil {
		var k int
		k, err = resp.Body.Read(buf[read:])
		read += k
	}
	buf = buf[:read]
	if int64(read) == n && (err == nil || err == io.EOF) {
		// The whole body: net/http ends it at its Content-Length.
		if page, ok := out.(*secretsPage); ok && page.Secrets == nil && decodePageFast(buf, page) {
			return nil
		}
		uerr := json.Unmarshal(buf, out)
		var syn *json.SyntaxError
		if !errors.As(uerr, &syn) {
			// Unmarshal checks the whole input before it decodes: a
			// syntax error leaves out untouched, any other error is the
			// decoder's own (the same decoding of the same value).
			return uerr
		}
		return json.NewDecoder(bytes.NewReader(buf)).Decode(out)
	}
	// Short or failed: the decoder meets what the stream gave, then its
	// error, as it did reading the body itself.
	return json.NewDecoder(io.MultiReader(bytes.NewReader(buf), errReader{err})).Decode(out)
}

// errReader is a reader that fails with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
