package cli

import (
	"net/http"

	"github.com/intentcast/intentcast/node/api/web"
)

// webHandler returns the daemon's web page (customer and vendor views).
func webHandler() http.Handler { return web.Handler() }
