package main

import (
	_ "embed"
	"encoding/json"
	"net/http"
)

// openapiDoc is the hand-written OpenAPI 3 document, embedded in the binary.
//
//go:embed openapi.json
var openapiDoc []byte

// openapi serves the document at /api/openapi.json. The hardened variant's ids are UUID
// strings, so its document says so.
func (a *App) openapi(w http.ResponseWriter, r *http.Request) {
	if !allowOnly(w, r, http.MethodGet) {
		return
	}
	if !a.hardened {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openapiDoc)
		return
	}
	var doc map[string]interface{}
	if err := json.Unmarshal(openapiDoc, &doc); err != nil {
		panic(err)
	}
	schemas := doc["components"].(map[string]interface{})["schemas"].(map[string]interface{})
	schemas["ID"] = map[string]string{"type": "string", "format": "uuid"}
	writeJSON(w, http.StatusOK, doc)
}
