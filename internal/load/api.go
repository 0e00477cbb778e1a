package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// api makes the few REST calls the tool needs on 127.0.0.1: log in, set up
// a station, change its metadata.
type api struct {
	base  string // http://127.0.0.1:PORT, checked
	token string
	hc    *http.Client
}

func newAPI(server, token string) (*api, error) {
	addr, err := loopbackAddr(server)
	if err != nil {
		return nil, err
	}
	return &api{base: "http://" + addr, token: token, hc: &http.Client{Timeout: 30 * time.Second}}, nil
}

// call sends body (JSON, or a prepared reader with its content type) and
// decodes a JSON answer into out; a status other than want is an error.
func (a *api) call(ctx context.Context, method, path string, body io.Reader, contentType string, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return fmt.Errorf("load: %s %s: %w", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("load: %s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("load: %s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%w: %s %s: %d %s", ErrStatus, method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("load: %s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

func (a *api) postJSON(ctx context.Context, path string, in any, want int, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("load: encode %s: %w", path, err)
	}
	return a.call(ctx, http.MethodPost, path, bytes.NewReader(b), "application/json", want, out)
}

// setTitle changes a live station's title: one stream:metadata event to
// every client in its room.
func (a *api) setTitle(ctx context.Context, station, title string) error {
	return a.postJSON(ctx, "/api/stations/"+station+"/metadata", map[string]string{"title": title}, http.StatusOK, nil)
}

// Station is what Prepare set up.
type Station struct {
	Slug  string `json:"slug"`
	Token string `json:"token"`
}

// Prepare logs in on a server at 127.0.0.1, creates a station named name,
// uploads files to it and starts it: what the scripts need before a run.
func Prepare(ctx context.Context, server, user, password, name string, files []string) (Station, error) {
	a, err := newAPI(server, "")
	if err != nil {
		return Station{}, err
	}
	var login struct {
		Token string `json:"token"`
	}
	if err := a.postJSON(ctx, "/api/auth/login", map[string]string{"username": user, "password": password}, http.StatusOK, &login); err != nil {
		return Station{}, err
	}
	a.token = login.Token
	var st struct {
		Slug string `json:"slug"`
	}
	if err := a.postJSON(ctx, "/api/stations", map[string]string{"name": name, "genre": "Load"}, http.StatusCreated, &st); err != nil {
		return Station{}, err
	}
	body, ctype, err := multipartFiles(files)
	if err != nil {
		return Station{}, err
	}
	if err := a.call(ctx, http.MethodPost, "/api/stations/"+st.Slug+"/tracks", body, ctype, http.StatusCreated, nil); err != nil {
		return Station{}, err
	}
	if err := a.postJSON(ctx, "/api/stations/"+st.Slug+"/start", struct{}{}, http.StatusOK, nil); err != nil {
		return Station{}, err
	}
	return Station{Slug: st.Slug, Token: login.Token}, nil
}

func multipartFiles(files []string) (io.Reader, string, error) {
	if len(files) == 0 {
		return nil, "", fmt.Errorf("%w: no files to upload", ErrConfig)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, "", fmt.Errorf("load: read %s: %w", name, err)
		}
		w, err := mw.CreateFormFile("file", filepath.Base(name))
		if err != nil {
			return nil, "", fmt.Errorf("load: form file %s: %w", name, err)
		}
		if _, err := w.Write(b); err != nil {
			return nil, "", fmt.Errorf("load: form file %s: %w", name, err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", fmt.Errorf("load: form: %w", err)
	}
	return &body, mw.FormDataContentType(), nil
}

// WaitHealthy polls GET server+path on 127.0.0.1 until it answers 200 or
// ctx ends: a script's way to know a server it started is serving. Only
// the status is read, so path may be an endless stream.
func WaitHealthy(ctx context.Context, server, path string) error {
	addr, err := loopbackAddr(server)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		err := statusOK(ctx, hc, "http://"+addr+path)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("load: %s%s not healthy: %w", server, path, err)
		case <-t.C:
		}
	}
}

func statusOK(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close() // only the status matters; the body may be endless
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %d", ErrStatus, resp.StatusCode)
	}
	return nil
}
