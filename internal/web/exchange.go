package web

import "kangfu/internal/httpx"

// exchangeRoutes are this part's console pages.
func (c *Console) exchangeRoutes(rt route) []httpx.Route { return nil }
