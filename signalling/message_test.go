package signalling

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/onairfm/onair"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		in      string
		event   string
		ref     string
		data    any // nil when an error is expected
		errPart string
	}{
		{`{"event":"stream:join","data":{"station":"jazz"},"ref":"1"}`, evJoin, "1", &stationData{Station: "jazz"}, ""},
		{`{"event":"stream:join","data":{"station":"jazz","extra":true}}`, evJoin, "", &stationData{Station: "jazz"}, ""},
		{`{"event":"auth","data":{"token":"tok"}}`, evAuth, "", &authData{Token: "tok"}, ""},
		{`{"event":"stream:start","data":{"station":"s","track_id":3}}`, evStart, "", &startData{Station: "s", TrackID: ptr(int64(3))}, ""},
		{`{"event":"webrtc:candidate","data":{"station":"s","candidate":null}}`, evCandidate, "", &candidateData{Station: "s"}, ""},
		{`{"event":"interaction:send","data":{"station":"s","type":"like"},"ref":null}`, evInteraction, "", &interactionData{Station: "s", Type: "like"}, ""},
		{`{"event":"stream:join","data":{},"ref":"r"}`, evJoin, "r", nil, `"station" is required`},
		{`{"event":"stream:join","data":{"station":1},"ref":"r"}`, evJoin, "r", nil, `"station" has the wrong type`},
		{`{"event":"stream:join","data":[],"ref":"r"}`, evJoin, "r", nil, `"data" must be an object`},
		{`{"event":"nope","ref":"r"}`, "nope", "r", nil, "unknown event"},
		{`{"event":"","ref":"r"}`, "", "r", nil, `"event" is required`},
		{`{"event":"stream:join","ref":{"a":1}}`, "", "", nil, `"ref" must be a string`},
		{`{"event":"stream:join","ref":"` + strings.Repeat("r", 201) + `"}`, "", "", nil, `"ref" is longer`},
		{`{"event":"webrtc:offer","data":{"station":"s","sdp":""}}`, evOffer, "", nil, `"sdp" is required`},
		{`{"event":"interaction:send","data":{"station":"s","type":"boo"}}`, evInteraction, "", nil, `"type" must be "like"`},
		{`{"event":"stream:start","data":{"station":"s","track_id":0}}`, evStart, "", nil, `"track_id" must be a positive`},
		{`nonsense`, "", "", nil, "not a JSON object"},
	}
	for _, tt := range tests {
		req, err := decode([]byte(tt.in))
		if req.Event != tt.event || req.Ref != tt.ref {
			t.Errorf("decode(%.60s): event %q ref %q, want %q %q", tt.in, req.Event, req.Ref, tt.event, tt.ref)
		}
		if tt.data == nil {
			if err == nil || !strings.Contains(err.Error(), tt.errPart) || onair.ErrorCode(err) != onair.EInvalid {
				t.Errorf("decode(%.60s): error %v, want bad_request containing %q", tt.in, err, tt.errPart)
			}
			continue
		}
		if err != nil {
			t.Errorf("decode(%.60s): %v", tt.in, err)
			continue
		}
		got, _ := json.Marshal(req.Data)
		want, _ := json.Marshal(tt.data)
		if string(got) != string(want) {
			t.Errorf("decode(%.60s) data %s, want %s", tt.in, got, want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestWireCode(t *testing.T) {
	tests := []struct {
		err  error
		want onair.Code
	}{
		{onair.Errorf(onair.EForbidden, "x"), onair.EForbidden},
		{onair.Errorf(onair.EConflict, "x"), onair.EInvalid},
		{onair.Errorf(onair.EUnprocessable, "x"), onair.EInvalid},
		{onair.Errorf(onair.Code("teapot"), "x"), onair.EInternal},
		{json.Unmarshal([]byte("{"), new(any)), onair.EInternal},
	}
	for _, tt := range tests {
		if got := wireCode(tt.err); got != tt.want {
			t.Errorf("wireCode(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"event":"stream:join","data":{"station":"jazz"},"ref":"1"}`,
		`{"event":"webrtc:offer","data":{"station":"s","sdp":"v=0\r\n"}}`,
		`{"event":"webrtc:candidate","data":{"station":"s","candidate":{"candidate":"c","sdpMid":"0","sdpMLineIndex":0}}}`,
		`{"event":"stream:update-metadata","data":{"station":"s","title":null,"show":""}}`,
		`{"event":"chat:send","data":{"station":"s","text":"hi\u0000"}}`,
		`{"event":"stream:start","data":{"station":"s","track_id":1e30}}`,
		`{"event":"auth","data":{"token":"t"},"ref":5}`,
		`[`, `null`, `{"data":{"station":[]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := decode(b)
		if err != nil {
			if onair.ErrorCode(err) != onair.EInvalid {
				t.Fatalf("error code %s for %q", onair.ErrorCode(err), b)
			}
			if req.Data != nil {
				t.Fatalf("data %v with an error", req.Data)
			}
			return
		}
		if _, ok := newData[req.Event]; !ok {
			t.Fatalf("accepted unknown event %q", req.Event)
		}
		if len(req.Ref) > maxRefBytes || !utf8.ValidString(req.Ref) {
			t.Fatalf("accepted ref %q", req.Ref)
		}
		v, ok := req.Data.(validator)
		if !ok || v.validate() != nil {
			t.Fatalf("accepted invalid data %#v", req.Data)
		}
		// Every accepted message can be answered.
		if _, err := encode(evError, errorMsg{Code: onair.EInvalid, Message: "m", Ref: req.Ref}, req.Ref); err != nil {
			t.Fatal(err)
		}
	})
}
