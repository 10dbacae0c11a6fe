package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"net/url"
	"strings"

	"github.com/pushpipe/pushpipe/internal/config"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/migrate"
)

const siteUsage = `usage: pushpipe site create --name NAME [--origin URL]... [--contact mailto:ADDRESS] [--keep-full-ip] [--json]`

// cmdSite manages sites; for now it creates them.
func cmdSite(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(e.stderr, siteUsage)
		return 2
	}
	return siteCreate(ctx, e, args[1:])
}

// siteCreateFlags are the flags of `pushpipe site create`.
type siteCreateFlags struct {
	name           string
	origins        []string
	contact        string
	contactDefault bool
	keepFullIP     bool
	json           bool
}

// stringList is a flag that may be given more than once.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// parseSiteCreate reads and checks the flags, reporting every problem at once.
func parseSiteCreate(args []string, stderr io.Writer) (siteCreateFlags, error) {
	var f siteCreateFlags
	var origins stringList
	fs := flag.NewFlagSet("site create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, siteUsage); fs.PrintDefaults() }
	fs.StringVar(&f.name, "name", "", "the site's name, shown in the dashboard (required)")
	fs.Var(&origins, "origin", "an origin allowed to send beacons, such as https://example.com (repeat for more; * allows any)")
	fs.StringVar(&f.contact, "contact", "", "VAPID contact for push services: mailto:ADDRESS or an https:// URL (default mailto:webmaster@ the first origin's host)")
	fs.BoolVar(&f.keepFullIP, "keep-full-ip", false, "store visitors' full IP addresses instead of anonymising them")
	fs.BoolVar(&f.json, "json", false, "print the result as JSON, for scripts")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	if f.name = strings.TrimSpace(f.name); f.name == "" {
		errs = append(errs, errors.New("--name is required"))
	}
	for _, o := range origins {
		norm, err := normalizeOrigin(o)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f.origins = append(f.origins, norm)
	}
	if f.contact == "" {
		f.contact, f.contactDefault = defaultContact(f.origins), true
	} else if err := checkContact(f.contact); err != nil {
		errs = append(errs, err)
	}
	return f, errors.Join(errs...)
}

// normalizeOrigin checks that o is scheme://host[:port] (or *) and lower-cases it.
func normalizeOrigin(o string) (string, error) {
	o = strings.TrimRight(strings.TrimSpace(o), "/")
	if o == "*" {
		return o, nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("--origin %q: must be scheme://host[:port] such as https://example.com, without a path", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// checkContact accepts mailto: with one address, or an https:// URL (RFC 8292).
func checkContact(c string) error {
	if addr, ok := strings.CutPrefix(c, "mailto:"); ok {
		if _, err := mail.ParseAddress(addr); err != nil || strings.ContainsAny(addr, "<> ") {
			return fmt.Errorf("--contact %q: mailto: needs one e-mail address, such as mailto:ops@example.com", c)
		}
		return nil
	}
	if u, err := url.Parse(c); err == nil && u.Scheme == "https" && u.Host != "" {
		return nil
	}
	return fmt.Errorf("--contact %q: must be mailto:ADDRESS or an https:// URL", c)
}

func defaultContact(origins []string) string {
	for _, o := range origins {
		if u, err := url.Parse(o); err == nil && u.Hostname() != "" {
			return "mailto:webmaster@" + u.Hostname()
		}
	}
	return "mailto:webmaster@localhost"
}

// flagProblems prints every problem of a command line, one per line, and the usage.
func flagProblems(w io.Writer, cmd string, err error, usage string) {
	fmt.Fprintf(w, "pushpipe %s: problems with the command line:\n", cmd)
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(w, "  - %s\n", line)
	}
	fmt.Fprintln(w, usage)
}

func siteCreate(ctx context.Context, e *env, args []string) int {
	f, err := parseSiteCreate(args, e.stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		flagProblems(e.stderr, "site create", err, siteUsage)
		return 2
	}
	r := config.NewReader(e.getenv)
	c := loadCommon(r)
	if !finish(r, e, "site create") {
		return 2
	}
	key, err := c.masterKey()
	if err != nil {
		fmt.Fprintf(e.stderr, "pushpipe site create: %v\n", err)
		return 2
	}
	site, err := createSite(ctx, c, key, f, e.stderr)
	if err != nil {
		return fail(e, "site create", err)
	}
	if f.json {
		return printSiteJSON(e, site)
	}
	printSite(e.stdout, site, f)
	return 0
}

// createSite migrates (so a fresh database works) and creates the site.
func createSite(ctx context.Context, c common, key *controlplane.MasterKey, f siteCreateFlags, logTo io.Writer) (controlplane.CreatedSite, error) {
	db, err := c.openPostgres(ctx)
	if err != nil {
		return controlplane.CreatedSite{}, err
	}
	defer db.Close()
	ch, err := c.openClickHouse(ctx)
	if err != nil {
		return controlplane.CreatedSite{}, err
	}
	defer func() { _ = ch.Close() }()
	if err := migrate.All(ctx, db, ch, c.logger(logTo, "site")); err != nil {
		return controlplane.CreatedSite{}, err
	}
	return controlplane.NewStore(db, key).CreateSite(ctx, controlplane.NewSite{
		Name: f.name, AllowedOrigins: f.origins, Contact: f.contact, AnonymizeIP: !f.keepFullIP,
	})
}

// siteJSON is what --json prints.
type siteJSON struct {
	SiteID         string   `json:"site_id"`
	Name           string   `json:"name"`
	SiteKey        string   `json:"site_key"`
	APIKey         string   `json:"api_key"`
	VAPIDPublicKey string   `json:"vapid_public_key"`
	AllowedOrigins []string `json:"allowed_origins"`
	VAPIDContact   string   `json:"vapid_contact"`
	AnonymizeIP    bool     `json:"anonymize_ip"`
}

func printSiteJSON(e *env, s controlplane.CreatedSite) int {
	origins := s.AllowedOrigins
	if origins == nil {
		origins = []string{}
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(siteJSON{
		SiteID: s.ID, Name: s.Name, SiteKey: s.SiteKey, APIKey: s.APIKey, VAPIDPublicKey: s.VAPIDPublicKey,
		AllowedOrigins: origins, VAPIDContact: s.VAPIDContact, AnonymizeIP: s.AnonymizeIP,
	}); err != nil {
		return fail(e, "site create", err)
	}
	return 0
}

func printSite(w io.Writer, s controlplane.CreatedSite, f siteCreateFlags) {
	origins := strings.Join(s.AllowedOrigins, " ")
	if origins == "" {
		origins = "(none: beacons from pages are refused until you add one; requests without an Origin header are accepted)"
	}
	ip := "anonymised"
	if !s.AnonymizeIP {
		ip = "kept in full"
	}
	contact := s.VAPIDContact
	if f.contactDefault {
		contact += "  (default: pass --contact with a real address before sending pushes)"
	}
	fmt.Fprintf(w, "site created: %s\n", s.Name)
	fmt.Fprintf(w, "  site id           %s\n", s.ID)
	fmt.Fprintf(w, "  site key          %s  (public: goes in your pages with the SDK)\n", s.SiteKey)
	fmt.Fprintf(w, "  API key           %s  (secret, shown only this once: store it now)\n", s.APIKey)
	fmt.Fprintf(w, "  VAPID public key  %s\n", s.VAPIDPublicKey)
	fmt.Fprintf(w, "  allowed origins   %s\n", origins)
	fmt.Fprintf(w, "  VAPID contact     %s\n", contact)
	fmt.Fprintf(w, "  IP addresses      %s\n", ip)
}
