package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// ID is an object id: a counter in the flawed variant (written as a JSON number, like the
// int ids of most hand-written Go APIs), a random UUID in the hardened one (a JSON string).
type ID string

func (id ID) MarshalJSON() ([]byte, error) {
	if _, err := strconv.ParseUint(string(id), 10, 64); err == nil {
		return []byte(id), nil
	}
	return json.Marshal(string(id))
}

func (id *ID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*id = ID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*id = ID(n.String())
	return nil
}

type User struct {
	ID       ID     `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
	hash     []byte
}

type Project struct {
	ID          ID     `json:"id"`
	OwnerID     ID     `json:"owner_id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	CreatedAt   string `json:"created_at"`
}

// App holds the in-memory state (fresh on every start) and the variant's settings.
type App struct {
	hardened bool
	tokens   tokenIssuer
	limiter  *loginLimiter // nil in the flawed variant: no throttle on failed logins

	mu        sync.Mutex
	users     []*User
	projects  []*Project
	nextID    map[string]int
	dummyHash []byte // compared when the username is unknown, so both failures cost one bcrypt
}

func newApp(hardened bool) *App {
	a := &App{hardened: hardened, tokens: newTokenIssuer(hardened), nextID: map[string]int{}}
	if hardened {
		a.limiter = newLoginLimiter(5, time.Minute)
	}
	a.dummyHash = mustHash("not-a-real-password")
	seed := []struct{ name, password string }{{"alice", "alice-pass-1"}, {"bob", "bob-pass-2"}}
	for _, s := range seed {
		a.users = append(a.users, &User{
			ID: a.newID("users"), Username: s.name, Email: s.name + "@example.com", hash: mustHash(s.password),
		})
	}
	for _, u := range a.users {
		for _, name := range []string{"website", "mobile app", "data pipeline"} {
			a.addProject(u, u.Username+"'s "+name, "private to "+u.Username)
		}
	}
	return a
}

func mustHash(password string) []byte {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		panic(err)
	}
	return h
}

// newID: flawed, the next value of the table's counter; hardened, a random UUID (v4).
// Call with a.mu held (or before serving).
func (a *App) newID(table string) ID {
	if a.hardened {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			panic(err)
		}
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		return ID(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]))
	}
	a.nextID[table]++
	return ID(strconv.Itoa(a.nextID[table]))
}

func (a *App) addProject(owner *User, name, description string) *Project {
	p := &Project{
		ID: a.newID("projects"), OwnerID: owner.ID, Name: name, Description: description,
		CreatedAt: time.Now().UTC().Format(time.RFC3339),
	}
	a.projects = append(a.projects, p)
	return p
}

func (a *App) userByName(name string) *User {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, u := range a.users {
		if u.Username == name {
			return u
		}
	}
	return nil
}

func (a *App) userByID(id ID) *User {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, u := range a.users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/openapi.json", a.openapi)
	mux.HandleFunc("/api/v1/auth/login", a.login)
	mux.Handle("/api/v1/auth/signout", a.authenticated(a.signout))
	mux.Handle("/api/v1/users/me", a.authenticated(a.me))
	mux.Handle("/api/v1/projects", a.authenticated(a.listProjects))
	mux.Handle("/api/v1/projects/", a.authenticated(a.getProject))
	if a.hardened {
		return securityHeaders(mux)
	}
	return mux
}

// securityHeaders (hardened only): what a careful team adds to a JSON API by hand, since
// net/http sets none of them.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v interface{}) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// allowOnly answers 405 unless the request uses method, as net/http handlers do by hand
// (`if r.Method != http.MethodPost`); OPTIONS gets the same 405.
func allowOnly(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	writeError(w, http.StatusMethodNotAllowed, "method not allowed")
	return false
}
