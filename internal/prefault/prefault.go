// Package prefault maps the running executable's pages in one call, for
// the commands that compute one answer and exit.
//
// A process reaches its code and read-only data one page fault at a time
// (the kernel maps a few neighbouring pages with each), and on the virtual
// machines Candor runs on a fault costs ~8 µs: Candor's 57 MB binary
// faulted ~1,100 times before `candor version` printed, and a whole
// `candor scorecard` keeps faulting code in as it reaches each package.
// Asking the kernel to map every page of those mappings at once costs
// ~1.5 ms for ~38 MiB; a scorecard at scale 1 took ~9 ms less
// (docs/performance.md). The pages are the page cache's, shared with
// every other process running the binary; they count in this process's
// resident set, which is why a long-lived server does not ask.
package prefault
