package web

import "kangfu/internal/httpx"

// documentRoutes are this part's console pages.
func (c *Console) documentRoutes(rt route) []httpx.Route { return nil }
