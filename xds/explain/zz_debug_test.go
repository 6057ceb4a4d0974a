package explain

import (
	"encoding/json"
	"fmt"
	"testing"
)

func TestZZDebug(t *testing.T) {
	for _, req := range []Request{
		{Port: 8080, Host: "gw.local:8080", Path: "/api/users?page=2", Headers: []Header{{"x-internal", "1"}}},
		{Port: 8080, Host: "gw.local", Path: "/broken"},
		{Port: 8080, Host: "gw.local", Path: "/nowhere"},
		{Port: 8080, Host: "gw.local", Path: "/old/page?x=1"},
		{Port: 8443, Host: "api.example.com", Plaintext: true},
		{Port: 9000},
		{Port: 8080, Host: "gw.local", Method: "POST", Path: "/q?version=2", Headers: []Header{{"x-a", "b"}}},
	} {
		r, err := Explain(gateway(t), req)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println(r.Text())
		b, _ := json.MarshalIndent(r, "", "  ")
		if req.Path == "/api/users?page=2" {
			fmt.Println(string(b))
		}
	}
}
