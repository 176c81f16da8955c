package config

import (
	"strings"
	"testing"
)

// han.coap: plain coap only on loopback; addresses must be host:port.
func TestCoAPConfig(t *testing.T) {
	c, err := Parse("g.yaml", []byte("han: {coap: {enabled: true, plain_listen: '[::1]:5683'}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.HAN.CoAP.Enabled || c.HAN.CoAP.Listen != ":5684" || c.HAN.CoAP.PlainListen != "[::1]:5683" {
		t.Fatalf("coap = %+v", c.HAN.CoAP)
	}
	if d := Default(); d.HAN.CoAP.Enabled || d.HAN.CoAP.Listen != ":5684" {
		t.Fatalf("default coap = %+v", d.HAN.CoAP)
	}
	for in, want := range map[string]string{
		"han: {coap: {plain_listen: '0.0.0.0:5683'}}":     "han.coap.plain_listen: plain coap is allowed on a loopback address only",
		"han: {coap: {plain_listen: '192.168.1.2:5683'}}": "loopback address only",
		"han: {coap: {listen: '5684'}}":                   "han.coap.listen: must be host:port",
		"han: {coap: {psk: x}}":                           "han.coap.psk: unknown key",
	} {
		_, err := Parse("g.yaml", []byte(in+"\n"))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", in, err, want)
		}
	}
}
