package engine

import "time"

// SetImageCheck sets how often KeepImage looks (before it starts).
func (e *Engine) SetImageCheck(d time.Duration) { e.img.check = d }
