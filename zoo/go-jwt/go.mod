module authprobe.zoo/go-jwt

go 1.19

require (
	github.com/golang-jwt/jwt/v4 v4.4.3
	golang.org/x/crypto v0.4.0
)

// Built offline against Debian's source packages (golang-github-golang-jwt-jwt-dev,
// golang-golang-x-crypto-dev), never the module proxy: see setup.
replace (
	github.com/golang-jwt/jwt/v4 => /usr/share/gocode/src/github.com/golang-jwt/jwt
	golang.org/x/crypto => /usr/share/gocode/src/golang.org/x/crypto
)
