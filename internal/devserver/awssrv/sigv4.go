package awssrv

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	sigAlgorithm = "AWS4-HMAC-SHA256"
	amzDateFmt   = "20060102T150405Z"
	// signatureWindow is how far a request's X-Amz-Date may be from the
	// server's clock. AWS answers "Signature expired" outside it; the SDKs
	// read the Date header of that answer and correct their clock.
	signatureWindow = 5 * time.Minute
)

// authHeader is a parsed SigV4 Authorization header.
type authHeader struct {
	accessKeyID   string
	scope         []string // date, region, service, terminator
	signedHeaders []string
	signature     string
}

var errAuthFormat = errors.New("authorization header format")

// parseAuthorization reads "AWS4-HMAC-SHA256 Credential=AKID/20260621/
// us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=…".
// A missing part is reported in IAM's IncompleteSignature words.
func parseAuthorization(h string) (authHeader, error) {
	var a authHeader
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg != sigAlgorithm {
		return a, errAuthFormat
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "Credential":
			cred := strings.Split(v, "/")
			a.accessKeyID = cred[0]
			a.scope = cred[1:]
		case "SignedHeaders":
			if v != "" {
				a.signedHeaders = strings.Split(v, ";")
			}
		case "Signature":
			a.signature = v
		}
	}
	return a, nil
}

// authenticate verifies the request's SigV4 signature with the SDK's own
// signer and sets c.caller. The checks run in AWS's order: header format,
// the key (InvalidClientTokenId), the session token and its expiry
// (ExpiredToken), the time window, then the signature itself.
func (s *Server) authenticate(c *call) *apiError {
	r := c.r
	h := r.Header.Get("Authorization")
	if h == "" {
		return errMissingAuth()
	}
	alg, _, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != sigAlgorithm {
		if strings.HasPrefix(alg, "AWS4-") {
			return errIncompleteSignature(fmt.Sprintf("Unsupported AWS 'algorithm': '%s'", alg))
		}
		return errIncompleteSignature("Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter.")
	}
	a, _ := parseAuthorization(h)
	var missing []string
	if a.accessKeyID == "" {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if a.signature == "" {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if len(a.signedHeaders) == 0 {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" && r.Header.Get("Date") == "" {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return errIncompleteSignature(strings.Join(missing, " "))
	}
	if len(a.scope) != 4 {
		return errIncompleteSignature("Credential should be scoped to a valid region, not ''. Credential should be scoped to correct service. Credential should be scoped with a valid terminator: 'aws4_request'.")
	}
	if a.scope[3] != "aws4_request" {
		return errIncompleteSignature(fmt.Sprintf("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", a.scope[3]))
	}
	var signingTime time.Time
	var err error
	if amzDate != "" {
		signingTime, err = time.Parse(amzDateFmt, amzDate)
	} else {
		signingTime, err = http.ParseTime(r.Header.Get("Date"))
	}
	if err != nil {
		return errIncompleteSignature("Date must be in ISO-8601 'basic format'. Got '" + amzDate + "'. See http://en.wikipedia.org/wiki/ISO_8601")
	}
	if d := signingTime.UTC().Format("20060102"); a.scope[0] != d {
		return errSignature(fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", a.scope[0], d, amzDate))
	}
	region, service := a.scope[1], a.scope[2]
	if service != c.service {
		return errSignature(fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", c.service))
	}
	// IAM is a global service signed for us-east-1 in the aws partition.
	if service == "iam" && region != "us-east-1" {
		return errSignature(fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. ", region))
	}
	c.region = region

	s.mu.RLock()
	caller, secret, token := s.st.lookupKey(a.accessKeyID)
	s.mu.RUnlock()
	if caller == nil {
		return errInvalidClientTokenID()
	}
	gotToken := r.Header.Get("X-Amz-Security-Token")
	if caller.sess != nil {
		if subtle.ConstantTimeCompare([]byte(gotToken), []byte(token)) != 1 {
			return errInvalidClientTokenID()
		}
		if !c.now.Before(caller.sess.Expiration) {
			return errExpiredToken()
		}
	} else if gotToken != "" {
		return errInvalidClientTokenID()
	}

	if d := c.now.Sub(signingTime); d > signatureWindow {
		return errSignature(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)",
			signingTime.UTC().Format(amzDateFmt), c.now.Add(-signatureWindow).Format(amzDateFmt), c.now.Format(amzDateFmt)))
	} else if -d > signatureWindow {
		return errSignature(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 5 min.)",
			signingTime.UTC().Format(amzDateFmt), c.now.Add(signatureWindow).Format(amzDateFmt), c.now.Format(amzDateFmt)))
	}

	sum := sha256.Sum256(c.info.body)
	payloadHash := hex.EncodeToString(sum[:])
	if ph := r.Header.Get("X-Amz-Content-Sha256"); ph != "" && ph != payloadHash {
		return errSignature(signatureMismatch)
	}
	want, wantSigned, err := resign(r, a, secret, payloadHash, signingTime)
	if err != nil {
		return errSignature(signatureMismatch)
	}
	if strings.Join(a.signedHeaders, ";") != wantSigned ||
		subtle.ConstantTimeCompare([]byte(a.signature), []byte(want)) != 1 {
		return errSignature(signatureMismatch + expected(r, a, payloadHash, signingTime))
	}
	c.caller = caller
	return nil
}

// resign signs a copy of the request holding only the headers the client
// signed, with the SDK's SigV4 signer, and returns the signature and the
// signed-header list it computed.
func resign(r *http.Request, a authHeader, secret, payloadHash string, signingTime time.Time) (string, string, error) {
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	req, err := http.NewRequest(r.Method, u.String(), nil)
	if err != nil {
		return "", "", err
	}
	req.URL.Path, req.URL.RawPath = r.URL.Path, r.URL.RawPath
	req.Host = r.Host
	req.Header = http.Header{}
	signed := map[string]bool{}
	for _, h := range a.signedHeaders {
		signed[h] = true
		if h == "host" || h == "content-length" {
			continue
		}
		if vals, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
			req.Header[http.CanonicalHeaderKey(h)] = vals
		}
	}
	if signed["content-length"] {
		req.ContentLength = r.ContentLength
	}
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: a.accessKeyID, SecretAccessKey: secret}
	if err := signer.SignHTTP(context.Background(), creds, req, payloadHash, a.scope[2], a.scope[1], signingTime); err != nil {
		return "", "", err
	}
	got, _ := parseAuthorization(req.Header.Get("Authorization"))
	hs := append([]string(nil), got.signedHeaders...)
	sort.Strings(hs)
	return got.signature, strings.Join(hs, ";"), nil
}

// expected is what AWS appends to a signature mismatch: the canonical
// request and the string to sign it expected. The canonical request holds
// every signed header's value, X-Amz-Security-Token included: a session
// token, which a client must never repeat (the SDK signs it).
func expected(r *http.Request, a authHeader, payloadHash string, signingTime time.Time) string {
	var canon strings.Builder
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	fmt.Fprintf(&canon, "%s\n%s\n%s\n", r.Method, path, r.URL.Query().Encode())
	for _, h := range a.signedHeaders {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		fmt.Fprintf(&canon, "%s:%s\n", h, strings.Join(strings.Fields(v), " "))
	}
	fmt.Fprintf(&canon, "\n%s\n%s", strings.Join(a.signedHeaders, ";"), payloadHash)
	sum := sha256.Sum256([]byte(canon.String()))
	return fmt.Sprintf("\n\nThe Canonical String for this request should have been\n'%s'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n%s\n%s\n%s'\n",
		canon.String(), signingTime.UTC().Format(amzDateFmt), strings.Join(a.scope, "/"), hex.EncodeToString(sum[:]))
}
