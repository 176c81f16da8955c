package web

import (
	"strings"
	"testing"
)

func TestHomeKitRouteIsAdminOnly(t *testing.T) {
	e := newAuthEnv(t, Options{HomeKit: func() any {
		return map[string]any{"enabled": true, "code": "518-08-582", "setup_uri": "X-HM://0024BRZUU45DL"}
	}})
	if err := e.users.Add("anna", "correct horse battery", RoleAdmin, false); err != nil {
		t.Fatal(err)
	}
	if err := e.users.Add("ben", "correct horse battery", RoleViewer, false); err != nil {
		t.Fatal(err)
	}
	a := e.client()
	a.login("anna", "correct horse battery")
	if r := a.do("GET", "/api/v1/homekit", nil); r.code != 200 || !strings.Contains(r.body, `"code":"518-08-582"`) {
		t.Fatalf("admin: %d %s", r.code, r.body)
	}
	v := e.client()
	v.login("ben", "correct horse battery")
	if r := v.do("GET", "/api/v1/homekit", nil); r.code != 403 || strings.Contains(r.body, "518") {
		t.Fatalf("viewer: %d %s", r.code, r.body)
	}
	if r := e.client().do("GET", "/api/v1/homekit", nil); r.code != 401 {
		t.Fatalf("anonymous: %d %s", r.code, r.body)
	}
	e2 := newAuthEnv(t, Options{})
	if err := e2.users.Add("anna", "correct horse battery", RoleAdmin, false); err != nil {
		t.Fatal(err)
	}
	c2 := e2.client()
	c2.login("anna", "correct horse battery")
	if r := c2.do("GET", "/api/v1/homekit", nil); r.code != 503 || errCode(r) != "homekit_unavailable" {
		t.Fatalf("no bridge: %d %s", r.code, r.body)
	}
}
