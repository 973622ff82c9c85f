package web

import "kangfu/internal/httpx"

// personRoutes are this part's console pages.
func (c *Console) personRoutes(rt route) []httpx.Route { return nil }
