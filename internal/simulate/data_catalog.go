package simulate

// browserProfile is one kind of browser a visitor may use.
type browserProfile struct {
	ua         string
	weight     int
	push       pushService
	pushChance float64 // how often the site may show its opt-in prompt to this browser
}

// pushService is where a browser's push subscription endpoint lives.
type pushService int

const (
	pushFCM pushService = iota
	pushMozilla
	pushApple
	pushWNS
)

func (p pushService) endpoint(token string) string {
	switch p {
	case pushMozilla:
		return "https://updates.push.services.mozilla.com/wpush/v2/" + token
	case pushApple:
		return "https://web.push.apple.com/" + token
	case pushWNS:
		return "https://wns2-par02p.notify.windows.com/w/?token=" + token
	default:
		return "https://fcm.googleapis.com/fcm/send/" + token
	}
}

// browsers are real user agent strings of current desktop and mobile
// browsers, weighted roughly by market share. iOS Safari offers web push
// only to sites added to the home screen, so the prompt is rarely shown there.
var browsers = []browserProfile{
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", 24, pushFCM, 0.8},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36", 8, pushFCM, 0.8},
	{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", 2, pushFCM, 0.8},
	{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", 20, pushFCM, 0.7},
	{"Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", 4, pushFCM, 0.6},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0", 4, pushMozilla, 0.7},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:126.0) Gecko/20100101 Firefox/126.0", 1, pushMozilla, 0.7},
	{"Mozilla/5.0 (Android 14; Mobile; rv:126.0) Gecko/126.0 Firefox/126.0", 1, pushMozilla, 0.6},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", 7, pushApple, 0.6},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", 18, pushApple, 0.1},
	{"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", 2, pushApple, 0.1},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80", 7, pushWNS, 0.7},
	{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/124.0.2478.64", 1, pushFCM, 0.6},
}

type weighted struct {
	value  string
	weight int
}

var languages = []weighted{
	{"en-US", 40},
	{"en-GB", 10},
	{"de-DE", 12},
	{"fr-FR", 9},
	{"es-ES", 8},
	{"pt-BR", 7},
	{"nl-NL", 4},
	{"it-IT", 4},
	{"ja-JP", 3},
	{"pl-PL", 3},
}

// referrers of a session's landing page; "" is direct traffic.
var referrers = []weighted{
	{"", 30},
	{"https://www.google.com/", 35},
	{"https://www.bing.com/", 5},
	{"https://duckduckgo.com/", 4},
	{"https://www.facebook.com/", 8},
	{"https://t.co/", 5},
	{"https://www.instagram.com/", 5},
	{"https://news.ycombinator.com/", 2},
	{"https://mail.google.com/", 6},
}

var currencies = []weighted{{"USD", 50}, {"EUR", 30}, {"GBP", 12}, {"CAD", 5}, {"JPY", 3}}

var promptVariants = []weighted{{"bell", 30}, {"slide_in", 30}, {"native", 25}, {"banner_v2", 15}}

type pageKind int

const (
	pageHome pageKind = iota
	pageArticle
	pageCategory
	pageProduct
	pageCart
	pageLogin
	pageSearch
)

// page is one page of the simulated shop.
type page struct {
	path   string
	title  string
	kind   pageKind
	sku    string
	price  float64
	weight int
}

var pages = []page{
	{"/", "Northwind Outfitters – gear for the outdoors", pageHome, "", 0, 20},
	{"/blog/packing-list-for-a-weekend-hike", "A packing list for a weekend hike – Northwind Journal", pageArticle, "", 0, 8},
	{"/blog/how-to-wax-a-waterproof-jacket", "How to wax a waterproof jacket – Northwind Journal", pageArticle, "", 0, 6},
	{"/collections/jackets", "Jackets – Northwind Outfitters", pageCategory, "", 0, 10},
	{"/collections/backpacks", "Backpacks – Northwind Outfitters", pageCategory, "", 0, 8},
	{"/products/trail-runner-gtx", "Trail Runner GTX – Northwind Outfitters", pageProduct, "TR-GTX-42", 139.00, 7},
	{"/products/alpine-shell-jacket", "Alpine Shell Jacket – Northwind Outfitters", pageProduct, "AS-JKT-M", 249.00, 6},
	{"/products/daypack-22l", "Daypack 22L – Northwind Outfitters", pageProduct, "DP-22L", 79.50, 6},
	{"/products/merino-crew-socks", "Merino Crew Socks (3 pack) – Northwind Outfitters", pageProduct, "MC-SOCK-3", 18.00, 5},
	{"/cart", "Your cart – Northwind Outfitters", pageCart, "", 0, 4},
	{"/account/login", "Sign in – Northwind Outfitters", pageLogin, "", 0, 3},
	{"/search?q=rain+jacket", "Search: rain jacket – Northwind Outfitters", pageSearch, "", 0, 4},
}
