package api

import "kangfu/internal/httpx"

// exchangeRoutes are the Excel import and export routes.
func (a *API) exchangeRoutes(rt route) []httpx.Route { return nil }
