package scorecard

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// forEach calls fn(i) for every i in [0, n) on at most workers goroutines
// and returns when all have returned. A panic in fn is raised again here,
// in the caller, once every call has ended: a panic on a goroutine of its
// own ends the whole process, so one metric whose formula met data it
// could not handle took a server down with every request in flight, where
// raised in the request's goroutine it is that request's 500. The other
// indexes are still computed, so the workers never leave fn's caller
// waiting on a channel nobody reads.
func forEach(n, workers int, fn func(i int)) {
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first *WorkerPanic
	)
	next := make(chan int)
	for range max(1, min(workers, n)) {
		wg.Go(func() {
			for i := range next {
				func() {
					defer func() {
						if v := recover(); v != nil {
							once.Do(func() { first = &WorkerPanic{Value: v, Stack: debug.Stack()} })
						}
					}()
					fn(i)
				}()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		panic(first)
	}
}

// WorkerPanic is a panic raised on a worker goroutine, raised again in the
// goroutine that waited for it: Stack is where it happened (the stack of
// the goroutine that raises it again says only where it was waited for).
type WorkerPanic struct {
	Value any
	Stack []byte
}

func (p *WorkerPanic) Error() string { return fmt.Sprintf("%v\n\n%s", p.Value, p.Stack) }

// AsPanic is a recovered panic value v as a *WorkerPanic: one raised again
// by forEach as it is, with its worker's stack; any other with the stack
// of the goroutine recovering it (call it in the deferred function).
func AsPanic(v any) *WorkerPanic {
	if wp, ok := v.(*WorkerPanic); ok {
		return wp
	}
	return &WorkerPanic{Value: v, Stack: debug.Stack()}
}
