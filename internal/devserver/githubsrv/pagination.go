package githubsrv

import (
	"net/url"
	"strconv"
	"strings"
)

// Pagination as GitHub does it: `per_page` defaults to 30 and is capped at
// 100, `page` is 1-based, and the Link header names the prev, next, last and
// first pages when there is more than one.
const (
	DefaultPerPage = 30
	MaxPerPage     = 100
)

// pageBounds reads per_page and page, sets the Link header for a list of n
// items, and returns the bounds of the requested page.
func (c *call) pageBounds(n int) (lo, hi int) {
	q := c.r.URL.Query()
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per < 1 {
		per = DefaultPerPage
	}
	if per > MaxPerPage {
		per = MaxPerPage
	}
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	last := (n + per - 1) / per
	if last < 1 {
		last = 1
	}
	var links []string
	link := func(p int, rel string) {
		q.Set("page", strconv.Itoa(p))
		u := url.URL{Path: c.r.URL.Path, RawQuery: q.Encode()}
		links = append(links, "<"+c.origin()+u.String()+`>; rel="`+rel+`"`)
	}
	if page > 1 {
		link(min(page-1, last), "prev")
	}
	if page < last {
		link(page+1, "next")
		link(last, "last")
	}
	if page > 1 {
		link(1, "first")
	}
	if len(links) > 0 {
		c.w.Header().Set("Link", strings.Join(links, ", "))
	}
	if page > last {
		return n, n
	}
	lo = (page - 1) * per
	hi = min(lo+per, n)
	return lo, hi
}

// origin is the scheme and host the request came to.
func (c *call) origin() string {
	return strings.TrimSuffix(c.api, GHESPrefix)
}
