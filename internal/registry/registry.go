// Package registry shares process-wide resources by key, counting their
// users: the first user opens one, the last one to let go closes it.
//
// CoreDNS starts a reloaded configuration while the old one still serves,
// and several server blocks may name the same resource, so a store or a
// listener must outlive any one plugin instance: each instance acquires it
// in OnStartup and releases it when it is done.
package registry

import "sync"

// Registry holds the open resources of one kind.
type Registry[T any] struct {
	close func(T)

	mu      sync.Mutex
	entries map[string]*entry[T]
}

type entry[T any] struct {
	value T
	refs  int
}

// New returns an empty registry whose resources are closed by close.
func New[T any](close func(T)) *Registry[T] {
	return &Registry[T]{close: close, entries: map[string]*entry[T]{}}
}

// Acquire returns the resource under key, opening it with open when no one
// holds it, and the function that gives this reference back (it may be
// called more than once; only the first call counts). use, when not nil,
// runs under the registry's lock on the resource before it is handed out;
// if it fails, no reference is taken (and a resource just opened is closed).
func (r *Registry[T]) Acquire(key string, open func() (T, error), use func(T) error) (T, func(), error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[key]
	if !ok {
		v, err := open()
		if err != nil {
			var zero T
			return zero, nil, err
		}
		e = &entry[T]{value: v}
	}
	if use != nil {
		if err := use(e.value); err != nil {
			if !ok {
				r.close(e.value)
			}
			var zero T
			return zero, nil, err
		}
	}
	r.entries[key] = e
	e.refs++
	var once sync.Once
	release := func() { once.Do(func() { r.release(key, e) }) }
	return e.value, release, nil
}

// release drops one reference to e, closing it with the last one. It is
// closed under the lock, so that no one opens the same key (the same file,
// the same address) again before it is.
func (r *Registry[T]) release(key string, e *entry[T]) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.refs--; e.refs > 0 {
		return
	}
	if r.entries[key] == e {
		delete(r.entries, key)
	}
	r.close(e.value)
}

// Get returns the resource under key, if one is open.
func (r *Registry[T]) Get(key string) (T, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[key]
	if !ok {
		var zero T
		return zero, false
	}
	return e.value, true
}

// Each calls f on every open resource, under the registry's lock.
func (r *Registry[T]) Each(f func(T)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.entries {
		f(e.value)
	}
}
