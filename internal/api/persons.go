package api

import "kangfu/internal/httpx"

// personRoutes are the person file's routes (persons, measures,
// transitions, transfers, timeline).
func (a *API) personRoutes(rt route) []httpx.Route { return nil }
