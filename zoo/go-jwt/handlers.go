package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TokenHeader carries the session token; the API reads no other header (not Authorization).
const TokenHeader = "X-Session-Token"

type ctxKey int

const claimsKey ctxKey = 0

// login: POST {username, password} -> {"data": {"session_token", "user"}}.
func (a *App) login(w http.ResponseWriter, r *http.Request) {
	if !allowOnly(w, r, http.MethodPost) {
		return
	}
	var body struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body")
		return
	}
	if body.Username == "" || body.Password == "" {
		writeError(w, http.StatusBadRequest, "username and password are required")
		return
	}
	if a.limiter != nil {
		if wait := a.limiter.blocked(body.Username); wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			writeError(w, http.StatusTooManyRequests, "too many failed login attempts, try again later")
			return
		}
	}
	u := a.userByName(body.Username)
	hash := a.dummyHash
	if u != nil {
		hash = u.hash
	}
	if err := bcrypt.CompareHashAndPassword(hash, []byte(body.Password)); err != nil || u == nil {
		if a.limiter != nil {
			a.limiter.fail(body.Username)
		}
		writeError(w, http.StatusUnauthorized, "invalid username or password")
		return
	}
	token, err := a.tokens.issue(u)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	writeJSON(w, http.StatusOK, map[string]interface{}{
		"data": map[string]interface{}{
			"session_token": token,
			"user":          map[string]interface{}{"id": u.ID, "username": u.Username},
		},
	})
}

// authenticated reads the token from X-Session-Token and answers 401 (a hand-written JSON
// error, no WWW-Authenticate challenge) when it is missing or refused.
func (a *App) authenticated(next func(http.ResponseWriter, *http.Request, *User)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := r.Header.Get(TokenHeader)
		if raw == "" {
			writeError(w, http.StatusUnauthorized, "missing session token")
			return
		}
		claims, err := a.tokens.verify(raw)
		if err != nil {
			writeError(w, http.StatusUnauthorized, "invalid or expired session token")
			return
		}
		u := a.userByID(claims.UserID)
		if u == nil {
			writeError(w, http.StatusUnauthorized, "invalid or expired session token")
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), claimsKey, claims)), u)
	})
}

// signout answers 204. Flawed: nothing else (the token stays valid for its 24 hours);
// hardened: the token's jti is deny-listed.
func (a *App) signout(w http.ResponseWriter, r *http.Request, _ *User) {
	if !allowOnly(w, r, http.MethodPost) {
		return
	}
	a.tokens.revoke(r.Context().Value(claimsKey).(*sessionClaims))
	w.WriteHeader(http.StatusNoContent)
}

func (a *App) me(w http.ResponseWriter, r *http.Request, u *User) {
	if !allowOnly(w, r, http.MethodGet) {
		return
	}
	writeJSON(w, http.StatusOK, u)
}

// listProjects: GET lists the caller's projects under {"projects": [...]}; POST creates one.
func (a *App) listProjects(w http.ResponseWriter, r *http.Request, u *User) {
	switch r.Method {
	case http.MethodGet:
		a.mu.Lock()
		mine := []*Project{}
		for _, p := range a.projects {
			if p.OwnerID == u.ID {
				mine = append(mine, p)
			}
		}
		a.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]interface{}{"projects": mine})
	case http.MethodPost:
		var body struct {
			Name        string `json:"name"`
			Description string `json:"description"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil || body.Name == "" {
			writeError(w, http.StatusBadRequest, "name is required")
			return
		}
		a.mu.Lock()
		p := a.addProject(u, body.Name, body.Description)
		a.mu.Unlock()
		writeJSON(w, http.StatusCreated, p)
	default:
		w.Header().Set("Allow", "GET, POST")
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
	}
}

// getProject: GET /api/v1/projects/{id}, the caller's own projects only (404 otherwise).
func (a *App) getProject(w http.ResponseWriter, r *http.Request, u *User) {
	if !allowOnly(w, r, http.MethodGet) {
		return
	}
	id := ID(strings.TrimPrefix(r.URL.Path, "/api/v1/projects/"))
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range a.projects {
		if p.ID == id && p.OwnerID == u.ID {
			writeJSON(w, http.StatusOK, p)
			return
		}
	}
	writeError(w, http.StatusNotFound, "project not found")
}

// loginLimiter (hardened) counts failed logins per username in a sliding window; at the
// limit the login answers 429 with Retry-After before the password is looked at. It keys on
// the submitted username, never on X-Forwarded-For (RATE003).
type loginLimiter struct {
	limit  int
	window time.Duration

	mu       sync.Mutex
	failures map[string][]time.Time
}

func newLoginLimiter(limit int, window time.Duration) *loginLimiter {
	return &loginLimiter{limit: limit, window: window, failures: map[string][]time.Time{}}
}

func (l *loginLimiter) recent(name string, now time.Time) []time.Time {
	kept := l.failures[name][:0]
	for _, t := range l.failures[name] {
		if now.Sub(t) < l.window {
			kept = append(kept, t)
		}
	}
	l.failures[name] = kept
	return kept
}

// blocked returns how long name must wait, or 0.
func (l *loginLimiter) blocked(name string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	recent := l.recent(name, now)
	if len(recent) < l.limit {
		return 0
	}
	return l.window - now.Sub(recent[0])
}

func (l *loginLimiter) fail(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.failures[name] = append(l.recent(name, now), now)
}
