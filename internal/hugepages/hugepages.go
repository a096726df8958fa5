// Package hugepages backs the start of the Go heap with transparent huge
// pages, for the commands that compute one answer and exit.
//
// Such a command (candor scorecard, candor metric) fills tens of MiB of
// fresh heap in its first tenth of a second, and on the virtual machines
// Candor runs on each first touch of a 4 KiB page is a fault costing
// ~8 µs: at scale 1 a whole `candor scorecard` faulted ~10,400 times, a
// fifth of its ~200 ms (docs/performance.md). Go asks for no huge pages
// for its heap, and most Linux systems give them only where asked
// (transparent_hugepage "madvise"), so the command asks: it maps a range
// of heap by allocating it, advises it, and frees it, and the allocations
// that follow land in it — the page allocator takes the lowest free
// address first — one 2 MiB fault at a time.
package hugepages

// Size is the heap a one-shot command asks to be backed: about what it
// allocates before its first collection when the collector is paced
// (gcpace.OneShot's floor of headroom). Only what is touched becomes
// resident, in 2 MiB steps.
const Size = 128 << 20
