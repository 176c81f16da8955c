package openadr

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Errors of the VEN (wrapped; test with errors.Is).
var (
	// ErrAuth: the VTN or its token endpoint refused the credentials (a
	// 401 or 403 that persists after getting a new token).
	ErrAuth = errors.New("openadr: VTN refused the credentials")
	// ErrTLS: the VTN's certificate did not verify.
	ErrTLS = errors.New("openadr: VTN certificate not trusted")
	// ErrBodyTooLarge: a response exceeded MaxBodyBytes.
	ErrBodyTooLarge = errors.New("openadr: response body too large")
	// ErrUnknownEvent: no known event has that id.
	ErrUnknownEvent = errors.New("openadr: unknown event")
)

// HTTPError is a VTN answer other than 2xx, with its problem details.
type HTTPError struct {
	Method, Path string
	Status       int
	// Title and Detail come from the problem JSON body, if any.
	Title, Detail string
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("openadr: %s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Title != "" || e.Detail != "" {
		s += ": " + strings.TrimSpace(e.Title+" "+e.Detail)
	}
	return s
}

func newHTTPError(method, path string, status int, body []byte) *HTTPError {
	e := &HTTPError{Method: method, Path: path, Status: status}
	var p struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Error  string `json:"error"`
		Desc   string `json:"error_description"`
	}
	if json.Unmarshal(body, &p) == nil {
		e.Title, e.Detail = clip(p.Title, 200), clip(p.Detail, 200)
		if e.Title == "" {
			e.Title, e.Detail = clip(p.Error, 200), clip(p.Desc, 200)
		}
	}
	return e
}

func defaultTLS() *tls.Config { return &tls.Config{MinVersion: tls.VersionTLS12} }

// send performs one request with RequestTimeout and a bounded body.
func (v *VEN) send(ctx context.Context, method string, u *url.URL, body []byte, ctype, bearer string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, RequestTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return 0, nil, fmt.Errorf("openadr: %s %s: %w", method, u.Path, err)
	}
	req.Header.Set("Accept", "application/json")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := v.hc.Do(req)
	if err != nil {
		if isTLSError(err) {
			return 0, nil, fmt.Errorf("%w: %s %s: %v", ErrTLS, method, u.Redacted(), err)
		}
		return 0, nil, fmt.Errorf("openadr: %s %s: %w", method, u.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		return 0, nil, fmt.Errorf("openadr: %s %s: reading the response: %w", method, u.Path, err)
	}
	if len(b) > MaxBodyBytes {
		return 0, nil, fmt.Errorf("%w: %s %s: more than %d bytes", ErrBodyTooLarge, method, u.Path, MaxBodyBytes)
	}
	return resp.StatusCode, b, nil
}

func isTLSError(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci)
}

// endpoint is base/path?q.
func (v *VEN) endpoint(path string, q url.Values) *url.URL {
	u := v.base.JoinPath(path)
	if !strings.HasPrefix(u.Path, "/") {
		u.Path = "/" + u.Path
	}
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u
}

// api performs an API request with the bearer token; on 401 or 403 it
// gets a new token and tries once more.
func (v *VEN) api(ctx context.Context, method, path string, q url.Values, body []byte) ([]byte, error) {
	ctype := ""
	if body != nil {
		ctype = "application/json"
	}
	for attempt := 0; ; attempt++ {
		tok, err := v.token(ctx)
		if err != nil {
			return nil, err
		}
		status, b, err := v.send(ctx, method, v.endpoint(path, q), body, ctype, tok)
		if err != nil {
			return nil, err
		}
		if status/100 == 2 {
			return b, nil
		}
		auth := status == http.StatusUnauthorized || status == http.StatusForbidden
		if auth && tok != "" && attempt == 0 {
			v.dropToken(tok)
			continue
		}
		herr := newHTTPError(method, "/"+path, status, b)
		if auth {
			return nil, fmt.Errorf("%w: %w", ErrAuth, herr)
		}
		return nil, herr
	}
}

// wireVersion returns the version, detecting it on first use.
func (v *VEN) wireVersion(ctx context.Context) (Version, error) {
	v.authMu.Lock()
	defer v.authMu.Unlock()
	if v.version == "" {
		if err := v.discoverLocked(ctx); err != nil {
			return "", err
		}
	}
	return v.version, nil
}

// discoverLocked asks GET /auth/server: a 200 with a tokenURL means 3.1
// (and gives the token endpoint). Any other answer below 500 means
// 3.0.1 when the version is not configured. v.authMu is held.
func (v *VEN) discoverLocked(ctx context.Context) error {
	status, b, err := v.send(ctx, http.MethodGet, v.endpoint("auth/server", nil), nil, "", "")
	if err != nil {
		return err
	}
	if status >= 500 {
		return newHTTPError(http.MethodGet, "/auth/server", status, b)
	}
	var s struct {
		TokenURL string `json:"tokenURL"`
	}
	if status == http.StatusOK && json.Unmarshal(b, &s) == nil && s.TokenURL != "" {
		u, err := v.base.Parse(s.TokenURL)
		if err != nil {
			return fmt.Errorf("openadr: GET /auth/server: bad tokenURL %q", clip(s.TokenURL, 100))
		}
		if err := checkScheme(u); err != nil {
			return fmt.Errorf("openadr: GET /auth/server: tokenURL: %w", err)
		}
		v.tokenURL = u
		if v.version == "" {
			v.version = V31
		}
		return nil
	}
	if v.version == "" {
		v.version = V301
	}
	v.tokenURL = v.endpoint("auth/token", nil)
	return nil
}

// token returns the bearer token ("" without credentials), fetching a new
// one when there is none or it is due for renewal (at 90% of expires_in).
func (v *VEN) token(ctx context.Context) (string, error) {
	if v.cfg.ClientID == "" {
		return "", nil
	}
	v.authMu.Lock()
	defer v.authMu.Unlock()
	now := v.clock.Now()
	if v.tok != "" && (v.tokRenew.IsZero() || now.Before(v.tokRenew)) {
		return v.tok, nil
	}
	if v.tokenURL == nil {
		if v.version == V301 {
			v.tokenURL = v.endpoint("auth/token", nil)
		} else if err := v.discoverLocked(ctx); err != nil {
			return "", err
		}
	}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {v.cfg.ClientID},
		"client_secret": {v.cfg.ClientSecret},
	}
	status, b, err := v.send(ctx, http.MethodPost, v.tokenURL, []byte(form.Encode()), "application/x-www-form-urlencoded", "")
	if err != nil {
		return "", err
	}
	if status != http.StatusOK && status != http.StatusCreated {
		herr := newHTTPError(http.MethodPost, v.tokenURL.Path, status, b)
		if status >= 400 && status < 500 {
			return "", fmt.Errorf("%w: token request: %w", ErrAuth, herr)
		}
		return "", herr
	}
	var t struct {
		AccessToken string   `json:"access_token"`
		TokenType   string   `json:"token_type"`
		ExpiresIn   *float64 `json:"expires_in"`
	}
	if err := json.Unmarshal(b, &t); err != nil || t.AccessToken == "" {
		return "", fmt.Errorf("openadr: token response without access_token")
	}
	if t.TokenType != "" && !strings.EqualFold(t.TokenType, "bearer") {
		return "", fmt.Errorf("openadr: token type %q is not Bearer", clip(t.TokenType, 32))
	}
	v.tok, v.tokRenew = t.AccessToken, time.Time{}
	if t.ExpiresIn != nil && *t.ExpiresIn > 0 && *t.ExpiresIn < 1e9 {
		v.tokRenew = now.Add(time.Duration(*t.ExpiresIn * 0.9 * float64(time.Second)))
	}
	return v.tok, nil
}

// dropToken forgets tok (after a 401/403) so the next request gets a new
// one.
func (v *VEN) dropToken(tok string) {
	v.authMu.Lock()
	defer v.authMu.Unlock()
	if v.tok == tok {
		v.tok = ""
	}
}
