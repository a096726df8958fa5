package generate

// The word lists below are the organisation the generator describes: a
// mid-sized online commerce company. Relative weights (deploy, incident and
// ticket rates) differ per service on purpose, so per-service breakdowns on
// the scorecard disagree with one another the way real ones do.

type baseService struct {
	name      string
	team      string
	tier      int
	cf        bool    // customer facing
	depW      float64 // relative deployment rate
	incW      float64 // relative incident rate
	tktW      float64 // relative share of customer tickets that name a release of it
	reqM      float64 // requests per day, millions
	baseErr   float64 // background error rate of its availability SLI
	owner     string
	reposhare bool // lives in the platform monorepo
}

var baseServices = []baseService{
	{"checkout", "storefront", 1, true, 1.8, 1.3, 1.6, 8, 0.00035, "maria.lopez", false},
	{"payments", "payments", 1, true, 0.9, 1.0, 1.2, 5, 0.00020, "daniel.okafor", false},
	{"search", "discovery", 2, true, 1.5, 1.0, 1.2, 20, 0.0012, "yuki.tanaka", false},
	{"catalog", "discovery", 2, true, 1.2, 0.8, 0.8, 15, 0.0008, "yuki.tanaka", false},
	{"accounts", "identity", 2, true, 1.0, 0.8, 1.0, 6, 0.0015, "samira.haddad", false},
	{"notifications", "platform", 3, false, 1.0, 0.9, 0.4, 4, 0.0040, "lars.nielsen", true},
	{"api-gateway", "platform", 1, true, 2.0, 1.2, 0.8, 60, 0.00045, "lars.nielsen", true},
	{"inventory", "storefront", 2, false, 0.4, 0.9, 0.5, 3, 0.0030, "maria.lopez", false},
	{"recommendations", "discovery", 3, true, 1.4, 1.1, 0.5, 12, 0.0060, "chen.wei", false},
	{"billing", "payments", 1, false, 0.15, 0.7, 1.0, 1, 0.00080, "daniel.okafor", false},
	{"auth", "identity", 1, true, 0.3, 0.8, 0.9, 25, 0.00015, "samira.haddad", false},
	{"reporting", "platform", 3, false, 0.1, 0.6, 0.6, 0.5, 0.0050, "lars.nielsen", true},
}

// cellSuffixes name the copies of the base services at scales above 1:
// the same product run per region, as large organisations do.
var cellSuffixes = []string{"", "-eu", "-apac", "-latam", "-us2", "-uk", "-de", "-jp", "-au", "-ca", "-in", "-br"}

var engineers = []string{
	"alice.chen", "bob.martin", "carla.rossi", "dev.patel", "emma.schmidt", "farid.khan",
	"grace.kim", "hugo.dubois", "ines.garcia", "jonas.berg", "kofi.mensah", "lena.novak",
	"mateo.silva", "nora.walsh", "oscar.lind", "priya.sharma", "quinn.baker", "rosa.morales",
	"sven.olsen", "tara.nguyen", "umar.farooq", "vera.ivanova", "will.turner", "xin.zhao",
	"yara.costa", "zane.cooper", "amir.rahimi", "beth.jones", "carlos.mendez", "dana.levi",
}

var changeVerbs = []string{"Fix", "Add", "Refactor", "Improve", "Update", "Remove", "Handle", "Cache", "Validate", "Speed up", "Log", "Retry"}

var changeObjects = []string{
	"cart totals rounding", "session timeout handling", "price lookup query", "retry on upstream 503",
	"feature flag for new flow", "pagination of results", "currency conversion", "null customer address",
	"rate limiter config", "database connection pool size", "webhook signature check", "search ranking weights",
	"email template rendering", "audit log fields", "metrics labels", "dependency versions",
	"idempotency keys", "timezone handling in reports", "inventory reservation race", "token refresh logic",
	"error messages for declined cards", "batch export job", "slow SQL in order history", "CSV import parser",
}

var fingerprintPatterns = []string{
	"db-connection-pool-exhausted", "upstream-timeout", "oom-killed", "certificate-expiry",
	"queue-backlog", "cache-stampede", "disk-full", "rate-limit-exceeded", "deadlock-detected",
	"dns-resolution-failure", "thread-pool-saturated", "replica-lag",
}

var incidentCategories = []struct {
	name string
	w    float64
	err  float64 // how much of the impact shows up as failed requests
}{
	{"availability", 40, 1},
	{"performance", 33, 0.25},
	{"data", 8, 0.05},
	{"capacity", 7, 0.6},
	{"configuration", 6, 0.8},
	{"dependency", 6, 0.7},
}

type ticketCategory struct {
	name    string
	w       float64
	phrases []string
}

var ticketCategories = []ticketCategory{
	{"bug", 30, []string{
		"Checkout button does nothing after adding a coupon", "Error 500 when saving profile",
		"Order confirmation email never arrived", "Page freezes when uploading a CSV",
		"Cart empties itself after login", "Dashboard shows blank charts", "Export to PDF fails with an error",
		"Wrong shipping cost shown at checkout", "Product images not loading",
	}},
	{"performance", 14, []string{
		"Pages load very slowly", "Search takes more than ten seconds", "Checkout times out during payment",
		"Reports take forever to generate", "API responses are slow for our integration",
	}},
	{"billing", 14, []string{
		"Invoice shows the wrong amount", "Charged twice for the same month", "Need a copy of last invoice",
		"Card declined but payment went through", "Discount not applied to renewal", "Cannot update billing address",
	}},
	{"access", 14, []string{
		"Cannot log in after password reset", "Two-factor code never arrives", "User locked out of account",
		"SSO login loops back to sign-in page", "New team member did not get the invite email",
	}},
	{"how_to", 16, []string{
		"How do I export all orders", "How to add a new admin user", "Where can I change notification settings",
		"How to set up the webhook integration", "Question about API rate limits", "How to issue a partial refund",
	}},
	{"feature_request", 6, []string{
		"Please add bulk edit for products", "Request dark mode for the dashboard",
		"Would like CSV import for customers", "Allow scheduling of reports",
	}},
	{"data", 6, []string{
		"Inventory counts do not match the warehouse", "Missing orders in yesterday's report",
		"Duplicate customers after import", "Recommendations show discontinued items",
	}},
}

var ticketSuffixes = []string{
	"", "", "", "", " since this morning", " for several users", " again", " after the latest update",
	" on mobile", " in the EU store", " - please help", " for our biggest client",
}

// releaseComplaints are what customers write after a bad release of a
// service; they repeat, so theme mining per release has something to find.
var releaseComplaints = map[string][]string{
	"checkout":        {"Checkout fails after the latest update", "Payment step spins forever", "Coupon codes rejected since the update"},
	"payments":        {"Card payments declined since the update", "Refunds stuck in pending", "Charged but order not created"},
	"search":          {"Search returns no results for existing products", "Search filters stopped working", "Search results in wrong order"},
	"catalog":         {"Product pages show wrong prices", "New products missing from the catalog", "Product images broken"},
	"accounts":        {"Cannot update profile since the update", "Saved addresses disappeared", "Account settings page error"},
	"notifications":   {"No order confirmation emails since the update", "Duplicate notification emails", "Push notifications stopped"},
	"api-gateway":     {"API returns 502 errors since the update", "Integration gets timeouts from the API", "Webhooks no longer delivered"},
	"inventory":       {"Stock levels wrong after the update", "Items shown in stock but cannot be ordered", "Reservations not released"},
	"recommendations": {"Recommendations show discontinued items", "Related products section is empty", "Same product recommended repeatedly"},
	"billing":         {"Invoice shows the wrong amount since the update", "Invoices not generated this cycle", "Tax missing on invoices"},
	"auth":            {"Cannot log in since the update", "Logged out every few minutes", "SSO login fails since the update"},
	"reporting":       {"Reports show no data since the update", "Report export times out", "Dashboard numbers do not match"},
}

var vulnPackages = []string{
	"openssl", "libcurl", "log4j-core", "jackson-databind", "lodash", "axios", "golang.org/x/net",
	"golang.org/x/crypto", "github.com/golang-jwt/jwt", "requests", "urllib3", "django", "spring-web",
	"netty-codec-http", "express", "glibc", "zlib", "protobuf", "grpc", "nginx", "postgresql-jdbc", "pillow",
}

type controlDef struct{ id, name, framework string }

var controls = []controlDef{
	{"SOX-ITGC-AC-01", "User access reviews performed quarterly", "SOX"},
	{"SOX-ITGC-AC-02", "Terminated users removed within 24 hours", "SOX"},
	{"SOX-ITGC-AC-03", "Privileged access approved and logged", "SOX"},
	{"SOX-ITGC-CM-01", "Production changes approved before deployment", "SOX"},
	{"SOX-ITGC-CM-02", "Segregation of duties between developer and deployer", "SOX"},
	{"SOX-ITGC-CM-03", "Emergency changes retro-validated within 72 hours", "SOX"},
	{"SOX-ITGC-OP-01", "Backups completed and monitored", "SOX"},
	{"SOX-ITGC-OP-02", "Batch job failures resolved", "SOX"},
	{"SOX-ITGC-OP-03", "Incidents tracked to resolution", "SOX"},
	{"SOX-FR-01", "Revenue report reconciled to billing", "SOX"},
	{"SOX-FR-02", "Manual journal entries reviewed", "SOX"},
	{"SOX-FR-03", "Billing system interface reconciled", "SOX"},
	{"ISO27001-A.5.15", "Access control", "ISO27001"},
	{"ISO27001-A.5.23", "Information security for use of cloud services", "ISO27001"},
	{"ISO27001-A.5.24", "Incident management planning and preparation", "ISO27001"},
	{"ISO27001-A.5.30", "ICT readiness for business continuity", "ISO27001"},
	{"ISO27001-A.8.2", "Privileged access rights", "ISO27001"},
	{"ISO27001-A.8.5", "Secure authentication", "ISO27001"},
	{"ISO27001-A.8.7", "Protection against malware", "ISO27001"},
	{"ISO27001-A.8.8", "Management of technical vulnerabilities", "ISO27001"},
	{"ISO27001-A.8.9", "Configuration management", "ISO27001"},
	{"ISO27001-A.8.13", "Information backup", "ISO27001"},
	{"ISO27001-A.8.15", "Logging", "ISO27001"},
	{"ISO27001-A.8.16", "Monitoring activities", "ISO27001"},
	{"ISO27001-A.8.24", "Use of cryptography", "ISO27001"},
	{"ISO27001-A.8.25", "Secure development life cycle", "ISO27001"},
	{"ISO27001-A.8.28", "Secure coding", "ISO27001"},
	{"ISO27001-A.8.32", "Change management", "ISO27001"},
	{"SOC2-CC6.1", "Logical access security", "SOC2"},
	{"SOC2-CC6.2", "User registration and authorization", "SOC2"},
	{"SOC2-CC6.3", "Role-based access", "SOC2"},
	{"SOC2-CC6.6", "Boundary protection", "SOC2"},
	{"SOC2-CC6.7", "Encryption of data in transit", "SOC2"},
	{"SOC2-CC6.8", "Malware prevention", "SOC2"},
	{"SOC2-CC7.1", "Vulnerability detection", "SOC2"},
	{"SOC2-CC7.2", "Security event monitoring", "SOC2"},
	{"SOC2-CC7.3", "Incident evaluation", "SOC2"},
	{"SOC2-CC7.4", "Incident response", "SOC2"},
	{"SOC2-CC8.1", "Change authorization", "SOC2"},
	{"SOC2-A1.2", "Backup and recovery tested", "SOC2"},
}

// failingControl is the control whose recent checks fail and stay failing
// at End, so compliance shows a framework in trouble rather than 100 %.
const failingControl = "ISO27001-A.8.8"

var costCategories = []string{"compute", "storage", "network", "database"}

// costShare is each category's cost relative to compute.
var costShare = []float64{1, 0.22, 0.14, 0.45}

// budgetFactor sets each category's budget against its expected cost;
// compute runs a little over plan.
var budgetFactor = []float64{0.96, 1.06, 1.02, 0.99}

type plan struct {
	name     string
	lo, hi   float64 // mrr range, dollars
	seat     float64 // list price per seat and month
	annualP  float64 // share billed yearly
	initialW float64
}

var plans = []plan{
	{"starter", 200, 800, 25, 0.15, 45},
	{"team", 800, 3000, 45, 0.35, 30},
	{"business", 3000, 8000, 80, 0.6, 18},
	{"enterprise", 8000, 20000, 120, 0.85, 7},
}

var firstNames = []string{
	"maria", "james", "sofia", "liam", "olivia", "noah", "ava", "lucas", "mia", "ethan", "chloe", "mason",
	"zoe", "logan", "hannah", "aiden", "leah", "elijah", "ruby", "jack", "isla", "henry", "nina", "owen",
	"clara", "ryan", "julia", "adam", "eva", "sam", "alma", "leo", "ivy", "max", "lily", "theo",
}

var lastNames = []string{
	"garcia", "smith", "muller", "rossi", "johnson", "brown", "silva", "kowalski", "andersen", "dubois",
	"murphy", "kelly", "santos", "weber", "novak", "fischer", "jensen", "moreau", "costa", "ward",
	"reyes", "clarke", "hughes", "bauer", "larsen", "meyer", "russo", "torres", "ito", "park",
}

var leadChannels = []struct {
	name      string
	w         float64
	campaigns []string
}{
	{"organic", 25, []string{"seo-blog", "docs", "pricing-page"}},
	{"paid_search", 22, []string{"brand-search", "competitor-search", "category-search"}},
	{"paid_social", 14, []string{"linkedin-retail-leaders", "linkedin-ecommerce-ops"}},
	{"events", 10, []string{"retail-summit", "commerce-week", "partner-roadshow"}},
	{"webinar", 12, []string{"checkout-conversion-webinar", "scaling-black-friday-webinar"}},
	{"email", 9, []string{"newsletter", "nurture-sequence"}},
	{"referral", 8, []string{"customer-referral", "partner-referral"}},
}

var oppChannels = []struct {
	name string
	w    float64
}{{"outbound", 50}, {"partner", 22}, {"expansion", 28}}
