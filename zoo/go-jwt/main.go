// Command go-jwt is an authprobe zoo service: a hand-written JSON API on net/http with
// golang-jwt (v4) session tokens, shaped the way Go services are usually written.
//
// The default variant keeps the mistakes listed in truth.toml (README.md says why they are
// real); --hardened is what a careful team ships. Usage:
//
//	go-jwt --port PORT [--hardened] [--exit-with-stdin] [--access-log FILE]
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
)

func main() {
	port := flag.Int("port", 0, "port to listen on (0 picks a free one)")
	hardened := flag.Bool("hardened", false, "serve the hardened variant")
	exitWithStdin := flag.Bool("exit-with-stdin", false, "exit when stdin reaches EOF")
	accessLog := flag.String("access-log", "", "append one 'METHOD PATH' line per request to FILE")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("go-jwt: ")

	app := newApp(*hardened)
	var handler http.Handler = app.routes()
	if *accessLog != "" {
		f, err := os.OpenFile(*accessLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			log.Fatal(err)
		}
		handler = logRequests(f, handler)
	}

	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	if *exitWithStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			os.Exit(0)
		}()
	}
	fmt.Printf("ready http://%s\n", ln.Addr())
	log.Fatal(http.Serve(ln, handler))
}

// logRequests appends "METHOD PATH" (no query) per request: the e2e harness counts the
// POSTs a scan sends from it.
func logRequests(w io.Writer, next http.Handler) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fmt.Fprintf(w, "%s %s\n", r.Method, r.URL.Path)
		mu.Unlock()
		next.ServeHTTP(rw, r)
	})
}
