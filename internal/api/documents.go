package api

import "kangfu/internal/httpx"

// documentRoutes are the routes of documents and the dossier.
func (a *API) documentRoutes(rt route) []httpx.Route { return nil }
