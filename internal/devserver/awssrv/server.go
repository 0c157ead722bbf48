package awssrv

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// Services served and their API versions and XML namespaces.
const (
	stsVersion = "2011-06-15"
	iamVersion = "2010-05-08"
	stsXMLNS   = "https://sts.amazonaws.com/doc/2011-06-15/"
	iamXMLNS   = "https://iam.amazonaws.com/doc/2010-05-08/"
	ssmTarget  = "AmazonSSM."
)

// maxBody caps request bodies: IAM's largest document (a managed policy
// version, 131,072 characters) URL-encoded fits well within it.
const maxBody = 1 << 20

// Server is the local AWS endpoint for STS, IAM and SSM. It is an
// http.Handler, safe for concurrent use; build it with New.
type Server struct {
	kit    *devkit.Kit
	router *devkit.Router

	mu sync.RWMutex
	st *state

	throttleOn atomic.Bool
	limiter    limiter

	logMu     sync.Mutex
	decisions []Decision

	// readHook, when set (tests), is told every request member a handler
	// reads, so the contract test can check each against the input shape.
	readHook func(service, op, member string)
}

// New builds a server holding fx. kit supplies the clock, counters and
// faults (a nil kit gets a fresh one). Access keys the fixture leaves empty
// are generated.
func New(kit *devkit.Kit, fx Fixture) (*Server, error) {
	if kit == nil {
		kit = devkit.NewKit()
	}
	if err := fx.validate(); err != nil {
		return nil, err
	}
	s := &Server{kit: kit}
	s.throttleOn.Store(!fx.Settings.NoThrottling)
	st, err := buildState(fx, kit.Clock.Now())
	if err != nil {
		return nil, err
	}
	s.st = st
	s.router = devkit.NewRouter(kit, s.fail)
	s.routes()
	s.router.NotFound(s.unknownOperation)
	return s, nil
}

// SetThrottling turns the per-account request rate limits on or off.
func (s *Server) SetThrottling(on bool) {
	s.throttleOn.Store(on)
	s.limiter.reset()
}

// opKey is the context key under which ServeHTTP leaves the request as it
// arrived (path "/", original body) for the route handlers.
type opKey struct{}

type opInfo struct {
	proto   protocol
	service string // "sts", "iam", "ssm"
	op      string
	form    url.Values // Query protocol parameters
	body    []byte
	orig    *http.Request
}

var opNameRe = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)

// ServeHTTP serves STS, IAM and SSM at "/" (and devkit's /_dev/ endpoints).
// It reads the operation from the request (X-Amz-Target for SSM, the Action
// parameter for STS and IAM, whose service the signature's credential scope
// names) and hands it to the kit's router as "POST /<service>/<Operation>",
// so counters and faults are per operation: AWS itself has only one path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_dev/") {
		s.router.ServeHTTP(w, r)
		return
	}
	info := &opInfo{orig: r}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		proto := queryProtocol
		if r.Header.Get("X-Amz-Target") != "" {
			proto = jsonProtocol
		}
		if errors.As(err, &mbe) {
			writeError(w, proto, stsXMLNS, newRequestID(), errValidationMsg("Request body is too large"))
			return
		}
		writeError(w, proto, stsXMLNS, newRequestID(), errInternal())
		return
	}
	info.body = body
	scope := credentialScopeService(r)
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		info.proto, info.service = jsonProtocol, "ssm"
		if op, ok := strings.CutPrefix(target, ssmTarget); ok {
			info.op = op
		}
	} else {
		info.proto = queryProtocol
		form, ferr := queryParams(r, body)
		if ferr != nil {
			info.form = url.Values{}
		} else {
			info.form = form
		}
		info.op = info.form.Get("Action")
		switch {
		case scope == "sts" || scope == "iam":
			info.service = scope
		case stsOps[info.op]:
			info.service = "sts"
		case iamOps[info.op]:
			info.service = "iam"
		default:
			info.service = "sts"
		}
	}
	path := "/" + info.service + "/"
	if opNameRe.MatchString(info.op) {
		path += info.op
	}
	r2 := r.Clone(context.WithValue(r.Context(), opKey{}, info))
	r2.URL.Path, r2.URL.RawPath = path, ""
	r2.Method = http.MethodPost
	r2.Body = io.NopCloser(bytes.NewReader(body))
	s.router.ServeHTTP(w, r2)
}

var (
	stsOps = map[string]bool{"AssumeRole": true, "GetCallerIdentity": true}
	iamOps = map[string]bool{"CreateRole": true, "GetRole": true, "DeleteRole": true, "TagRole": true,
		"PutRolePolicy": true, "GetRolePolicy": true, "ListRolePolicies": true, "DeleteRolePolicy": true}
)

// queryParams reads the Query protocol's parameters: the form body of a
// POST, or the URL query of a GET.
func queryParams(r *http.Request, body []byte) (url.Values, error) {
	if r.Method == http.MethodGet {
		return r.URL.Query(), nil
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" && !(mt == "" && len(body) > 0) {
		return r.URL.Query(), nil
	}
	return url.ParseQuery(string(body))
}

// credentialScopeService returns the service named in the Authorization
// header's credential scope, or "".
func credentialScopeService(r *http.Request) string {
	a, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil || len(a.scope) != 4 {
		return ""
	}
	return a.scope[2]
}

func (s *Server) routes() {
	s.handle("sts", "AssumeRole", s.assumeRole)
	s.handle("sts", "GetCallerIdentity", s.getCallerIdentity)
	s.handle("iam", "CreateRole", s.createRole)
	s.handle("iam", "GetRole", s.getRole)
	s.handle("iam", "DeleteRole", s.deleteRole)
	s.handle("iam", "TagRole", s.tagRole)
	s.handle("iam", "PutRolePolicy", s.putRolePolicy)
	s.handle("iam", "GetRolePolicy", s.getRolePolicy)
	s.handle("iam", "ListRolePolicies", s.listRolePolicies)
	s.handle("iam", "DeleteRolePolicy", s.deleteRolePolicy)
	s.handle("ssm", "GetParameter", s.getParameter)
	s.handle("ssm", "GetParameters", s.getParameters)
	s.handle("ssm", "GetParametersByPath", s.getParametersByPath)
}

// call is one request in flight.
type call struct {
	s       *Server
	w       http.ResponseWriter
	r       *http.Request // as it arrived
	info    *opInfo
	reqID   string
	now     time.Time
	caller  *principal
	region  string     // from the credential scope
	form    url.Values // Query parameters
	jsonIn  map[string]json.RawMessage
	service string
	op      string
}

type handlerFunc func(c *call) (any, *apiError)

// handle registers one operation. The wrapper authenticates (SigV4), takes
// the account's rate limit, decodes the input and writes the answer in the
// service's protocol; the handler validates, authorizes and acts.
func (s *Server) handle(service, op string, h handlerFunc) {
	s.router.Handle("POST /"+service+"/"+op, func(w http.ResponseWriter, r *http.Request) {
		info, _ := r.Context().Value(opKey{}).(*opInfo)
		if info == nil {
			info = &opInfo{orig: r, service: service, op: op}
		}
		c := &call{s: s, w: w, r: info.orig, info: info, reqID: newRequestID(), now: s.kit.Clock.Now(), form: info.form,
			service: service, op: op}
		c.w.Header().Set("Date", c.now.Format(http.TimeFormat))
		res, apiErr := s.run(c, h)
		if apiErr != nil {
			c.writeError(apiErr)
			return
		}
		c.writeResult(res)
	})
}

func (s *Server) run(c *call, h handlerFunc) (any, *apiError) {
	if c.info.proto == queryProtocol && c.r.Method != http.MethodPost && c.r.Method != http.MethodGet {
		return nil, errInvalidAction(c.op, c.version())
	}
	if c.info.proto == jsonProtocol && c.r.Method != http.MethodPost {
		return nil, errUnknownOperation()
	}
	if err := s.authenticate(c); err != nil {
		return nil, err
	}
	if err := s.throttle(c); err != nil {
		return nil, err
	}
	if c.info.proto == jsonProtocol {
		if err := c.decodeJSON(); err != nil {
			return nil, err
		}
	} else if v := c.form.Get("Version"); v != c.version() {
		return nil, errInvalidAction(c.op, v)
	}
	return h(c)
}

// read reports a member read by a handler to the test hook.
func (c *call) read(member string) {
	if c.s.readHook != nil {
		c.s.readHook(c.service, c.op, member)
	}
}

func (c *call) version() string {
	if c.service == "iam" {
		return iamVersion
	}
	return stsVersion
}

func (c *call) xmlns() string {
	if c.service == "iam" {
		return iamXMLNS
	}
	return stsXMLNS
}

func (c *call) decodeJSON() *apiError {
	body := bytes.TrimSpace(c.info.body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&c.jsonIn); err != nil || c.jsonIn == nil || dec.More() {
		return errSerialization("Start of structure or map found where not expected.")
	}
	return nil
}

func (c *call) writeError(e *apiError) {
	writeError(c.w, c.info.proto, c.xmlns(), c.reqID, e)
}

// writeResult writes a success: for the Query protocol
// <OpResponse><OpResult>…</OpResult><ResponseMetadata>…, where res (when
// not nil) marshals itself as the <OpResult> element; for JSON the object.
func (c *call) writeResult(res any) {
	c.w.Header().Set("x-amzn-RequestId", c.reqID)
	if c.info.proto == jsonProtocol {
		b, err := json.Marshal(res)
		if err != nil {
			c.writeError(errInternal())
			return
		}
		c.w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		c.w.WriteHeader(http.StatusOK)
		_, _ = c.w.Write(b)
		return
	}
	var inner []byte
	if res != nil {
		b, err := xml.Marshal(res)
		if err != nil {
			c.writeError(errInternal())
			return
		}
		inner = b
	}
	var buf bytes.Buffer
	buf.WriteString(`<` + c.op + `Response xmlns="` + c.xmlns() + `">`)
	buf.Write(inner)
	buf.WriteString(`<ResponseMetadata><RequestId>` + c.reqID + `</RequestId></ResponseMetadata></` + c.op + `Response>`)
	c.w.Header().Set("Content-Type", "text/xml")
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(buf.Bytes())
}

// fail answers an injected fault in the service's own error shape: 429 and
// 400 as throttling (AWS throttles with 400), 403 as AccessDenied, 503 as
// ServiceUnavailable, other statuses as InternalFailure (InternalServerError
// in SSM).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int) {
	info, _ := r.Context().Value(opKey{}).(*opInfo)
	proto, xmlns := queryProtocol, stsXMLNS
	if info != nil {
		proto = info.proto
		if info.service == "iam" {
			xmlns = iamXMLNS
		}
	}
	var e *apiError
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusBadRequest:
		e = errThrottling()
		e.status, e.jsonStatus = status, status
	case status == http.StatusForbidden:
		e = errAccessDenied("Access denied")
	case status == http.StatusServiceUnavailable:
		e = errServiceUnavailable()
	case status >= 500:
		e = errInternal()
		e.status = status
	default:
		e = errInternal()
		e.status = status
	}
	w.Header().Set("Date", s.kit.Clock.Now().Format(http.TimeFormat))
	writeError(w, proto, xmlns, newRequestID(), e)
}

// unknownOperation answers an Action or X-Amz-Target this server does not
// serve: InvalidAction in the Query services, UnknownOperationException in
// SSM.
func (s *Server) unknownOperation(w http.ResponseWriter, r *http.Request) {
	info, _ := r.Context().Value(opKey{}).(*opInfo)
	w.Header().Set("Date", s.kit.Clock.Now().Format(http.TimeFormat))
	if info == nil {
		writeError(w, queryProtocol, stsXMLNS, newRequestID(), errInvalidAction("", stsVersion))
		return
	}
	if info.proto == jsonProtocol {
		writeError(w, jsonProtocol, "", newRequestID(), errUnknownOperation())
		return
	}
	xmlns, version := stsXMLNS, stsVersion
	if info.service == "iam" {
		xmlns, version = iamXMLNS, iamVersion
	}
	if info.op == "" {
		writeError(w, queryProtocol, xmlns, newRequestID(), &apiError{status: http.StatusBadRequest, code: "MissingAction",
			message: "Missing Action"})
		return
	}
	writeError(w, queryProtocol, xmlns, newRequestID(), errInvalidAction(info.op, version))
}

func newRequestID() string { return uuid.NewString() }
