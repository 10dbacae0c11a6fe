package ingest

// ctxSiteID is the gin context key under which handlers note the site, for logs.
const ctxSiteID = "site_id"
