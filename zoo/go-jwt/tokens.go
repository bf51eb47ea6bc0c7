package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

// sessionClaims is golang-jwt's "custom claims type" pattern (example_test.go): the app's
// own fields with jwt.RegisteredClaims embedded.
type sessionClaims struct {
	UserID   ID     `json:"user_id"`
	Username string `json:"username"`
	jwt.RegisteredClaims
}

const (
	audienceName = "go-jwt-api"
	issuerName   = "http://127.0.0.1/go-jwt"
)

// tokenIssuer signs and verifies the HS256 session tokens of one variant.
type tokenIssuer struct {
	hardened bool
	key      []byte
	lifetime time.Duration

	mu      sync.Mutex
	revoked map[string]time.Time // hardened: jti -> exp of signed-out tokens
}

func newTokenIssuer(hardened bool) tokenIssuer {
	if !hardened {
		// Flawed: the key of golang-jwt's own examples (example_test.go, "AllYourBase"),
		// and its "usual scenario" lifetime of 24 hours.
		return tokenIssuer{key: []byte("AllYourBase"), lifetime: 24 * time.Hour}
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err)
	}
	return tokenIssuer{hardened: true, key: key, lifetime: 15 * time.Minute, revoked: map[string]time.Time{}}
}

func (t *tokenIssuer) issue(u *User) (string, error) {
	now := time.Now()
	claims := sessionClaims{
		UserID:   u.ID,
		Username: u.Username,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   string(u.ID),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.lifetime)),
		},
	}
	if t.hardened {
		jti := make([]byte, 16)
		if _, err := rand.Read(jti); err != nil {
			return "", err
		}
		claims.ID = hex.EncodeToString(jti)
		claims.Issuer = issuerName
		claims.Audience = jwt.ClaimStrings{audienceName}
		claims.NotBefore = jwt.NewNumericDate(now)
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.key)
}

var errRevoked = errors.New("token revoked")

// verify parses and checks a session token. Flawed: jwt.ParseWithClaims as the examples
// call it, which checks the signature, exp, iat and nbf, and never aud or iss (golang-jwt
// v4 has no parser option for them). Hardened: HS256 only, exp required, aud and iss
// checked, signed-out tokens refused.
func (t *tokenIssuer) verify(raw string) (*sessionClaims, error) {
	claims := &sessionClaims{}
	var opts []jwt.ParserOption
	if t.hardened {
		opts = append(opts, jwt.WithValidMethods([]string{"HS256"}))
	}
	token, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (interface{}, error) {
		return t.key, nil
	}, opts...)
	if err != nil || !token.Valid {
		return nil, errors.New("invalid token")
	}
	if t.hardened {
		if !claims.VerifyExpiresAt(time.Now(), true) || !claims.VerifyAudience(audienceName, true) ||
			!claims.VerifyIssuer(issuerName, true) || claims.ID == "" {
			return nil, errors.New("invalid token")
		}
		t.mu.Lock()
		_, revoked := t.revoked[claims.ID]
		t.mu.Unlock()
		if revoked {
			return nil, errRevoked
		}
	}
	return claims, nil
}

// revoke (hardened) deny-lists the token's jti until it would have expired anyway.
func (t *tokenIssuer) revoke(c *sessionClaims) {
	if !t.hardened {
		return // flawed: "JWTs are stateless, the client deletes the token"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	for jti, exp := range t.revoked {
		if exp.Before(now) {
			delete(t.revoked, jti)
		}
	}
	t.revoked[c.ID] = c.ExpiresAt.Time
}
