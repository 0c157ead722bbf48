package infisical

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// answerStream is a response body: data, then err (io.EOF: a clean end),
// read in pieces of at most chunk bytes (0: all at once).
type answerStream struct {
	data  string
	err   error
	chunk int
}

func (s answerStream) body() io.ReadCloser {
	var r io.Reader = io.MultiReader(strings.NewReader(s.data), errReader{s.err})
	if s.chunk == 1 {
		r = iotest.OneByteReader(r)
	} else if s.chunk > 1 {
		r = &chunked{r: r, n: s.chunk}
	}
	return io.NopCloser(r)
}

type chunked struct {
	r io.Reader
	n int
}

func (c *chunked) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

// decodeBoth decodes the stream (as net/http gives it: a body with a
// Content-Length ends there) with decodeAnswer (announcing length) and
// with the decoder reading the body, as before, into fresh values made by
// mk, and fails unless both say the same.
func decodeBoth(t *testing.T, s answerStream, length int64, mk func() any) {
	t.Helper()
	if length >= 0 && int64(len(s.data)) >= length {
		// net/http ends a body at its Content-Length.
		s.data, s.err = s.data[:length], io.EOF
	}
	want, got := mk(), mk()
	wantErr := json.NewDecoder(s.body()).Decode(want)
	gotErr := decodeAnswer(&http.Response{Body: s.body(), ContentLength: length}, got)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("%q (length %d, then %v, chunk %d): error %v, want %v", s.data, length, s.err, s.chunk, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q (length %d, then %v, chunk %d): decoded %#v, want %#v", s.data, length, s.err, s.chunk, got, want)
	}
}

var answerTargets = []func() any{
	func() any { return new(secretsPage) },
	func() any { return new(any) },
	func() any { return new(map[string]int) },
	func() any { return new(int) },
}

var answerBodies = []string{
	`{"secrets":[{"secretPath":"/a","secretKey":"K","secretValue":"{\"x\":1}","version":3,"updatedAt":"2026-01-02T03:04:05Z"}]}`,
	`{"secrets":[]}`,
	`{"secrets":null}` + "\n",
	`{"secrets":[{"version":"three"}]}`,
	`{"secrets":[{"version":1.5},{"secretKey":"K"}]}`,
	`{"secrets":[{"updatedAt":"not a time"}]}`,
	`{"secrets":[]} trailing`,
	`{"secrets":[]}{"secrets":[{"secretKey":"second"}]}`,
	`{"secrets":[`,
	`{"secrets":[}`,
	`123`,
	`123 `,
	`"str"`,
	`null`,
	``,
	`   `,
	`{"a":1,"b":2}`,
	"\ufeff{}",
	`{"a":1e400}`,
	// Listings the fast decoder takes, or declines to encoding/json.
	`{"secrets":[{"id":"i1","_id":"x","workspace":"w","type":"shared","tags":[{"slug":"t","n":-1.5e3}],"secretMetadata":null,"skipMultilineEncoding":false,"secretKey":"K","secretValue":"{\n  \"a\": \"b\\\/c\"\t\r\b\f}","version":12,"secretComment":"é ü","updatedAt":"2026-01-02T03:04:05.123+02:00","secretPath":"/x/y"}],"imports":[]}`,
	`{"imports":[{"secrets":[]}],"secrets":[{},{"secretKey":"A"}]}`,
	`{"secrets":[{"secretKey":"\u0041"}]}`,
	`{"secrets":[{"SecretKey":"A"}]}`,
	`{"Secrets":[{"secretKey":"A"}]}`,
	"{\"secrets\":[{\"secret\u212aey\":\"A\"}]}",
	"{\"secrets\":[{\"secret\xe2\x84\xaaey\":\"A\"}]}",
	`{"secrets":[{"secretKey":"A","secretKey":"B","version":1,"version":2}]}`,
	`{"secrets":[{"secretKey":"A"}],"secrets":[{"version":2}]}`,
	`{"secrets":[{"secretKey":null,"updatedAt":null}]}`,
	`{"secrets":[{"version":9223372036854775807},{"version":9223372036854775808}]}`,
	`{"secrets":[{"version":-0},{"version":1e2},{"version":01}]}`,
	`{"secrets":[{"version":-}]}`,
	"{\"secrets\":[{\"secretValue\":\"\xff\"}]}",
	"{\"secrets\":[{\"secretValue\":\"a\x01b\"}]}",
	`{"secrets":[{"secretValue":"a\qb"}]}`,
	`{"secrets":[{"updatedAt":"2026-13-02T03:04:05Z"}]}`,
	`{"secrets":[{"updatedAt":"2026-01-02T03:04:05\u005a"}]}`,
	`{"secrets":[{"x":[[[[{"y":[true,false,null,"s",0,-0.5,1E+2]}]]]]}]}`,
	`{"secrets":[{"x":tru}]}`,
	`{"secrets":[{"x":nul}]}`,
	`{"secrets":[1,"a"]}`,
	`{"secrets":{}}`,
	`{"secrets":[{"secretKey":"A"},]}`,
	`{"secrets":[{"secretKey":"A",}]}`,
	` { "secrets" : [ { "secretKey" : "A" } ] } `,
	`{}`,
	`[]`,
}

// TestDecodePageFastTakesListings: the fast decoder takes the listings the
// vault gives (else it would be no faster).
func TestDecodePageFastTakesListings(t *testing.T) {
	for _, body := range answerBodies[19:21] {
		var page secretsPage
		if !decodePageFast([]byte(body), &page) {
			t.Errorf("the fast decoder declines %s", body)
		}
	}
}

// TestDecodeAnswerSameAsDecoder: whatever the body, its announced length
// and the way it ends, decodeAnswer decodes what the decoder decoded and
// fails as it failed.
func TestDecodeAnswerSameAsDecoder(t *testing.T) {
	ends := []error{io.EOF, io.ErrUnexpectedEOF, errors.New("connection reset by peer")}
	for _, body := range answerBodies {
		for _, end := range ends {
			for _, chunk := range []int{0, 1, 7} {
				s := answerStream{data: body, err: end, chunk: chunk}
				for _, length := range []int64{int64(len(body)), int64(len(body)) + 5, -1, maxSizedBody + 1} {
					for _, mk := range answerTargets {
						decodeBoth(t, s, length, mk)
					}
				}
			}
		}
	}
}

func FuzzDecodeAnswer(f *testing.F) {
	for _, b := range answerBodies {
		f.Add(b, uint8(0), false, uint8(0))
	}
	f.Fuzz(func(t *testing.T, body string, cut uint8, fail bool, chunk uint8) {
		length := int64(len(body))
		if int(cut) <= len(body) {
			// The body stops short of what was announced.
			body = body[:len(body)-int(cut)]
		}
		end := io.EOF
		if fail {
			end = io.ErrUnexpectedEOF
		}
		s := answerStream{data: body, err: end, chunk: int(chunk % 9)}
		for _, mk := range answerTargets {
			decodeBoth(t, s, length, mk)
		}
	})
}
