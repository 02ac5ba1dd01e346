package registry

import (
	"errors"
	"testing"
)

type resource struct {
	name   string
	closed int
}

func TestRegistry(t *testing.T) {
	opened := 0
	r := New(func(x *resource) { x.closed++ })
	open := func(name string) func() (*resource, error) {
		return func() (*resource, error) {
			opened++
			return &resource{name: name}, nil
		}
	}

	a, releaseA, err := r.Acquire("k", open("first"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, releaseB, _ := r.Acquire("k", open("second"), nil)
	if a != b || opened != 1 {
		t.Fatalf("second acquire opened again: %v %v, %d opens", a.name, b.name, opened)
	}
	if got, ok := r.Get("k"); !ok || got != a {
		t.Fatal("Get does not see the open resource")
	}

	// A use that fails takes no reference, and closes nothing it did not open.
	refused := errors.New("refused")
	if _, _, err := r.Acquire("k", open("third"), func(*resource) error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("use error: %v", err)
	}
	if a.closed != 0 || opened != 1 {
		t.Fatalf("a refused use closed %d times, opened %d", a.closed, opened)
	}

	releaseA()
	releaseA() // only the first call counts
	if a.closed != 0 {
		t.Fatal("closed while another reference is held")
	}
	releaseB()
	if a.closed != 1 {
		t.Fatalf("closed %d times after the last release, want 1", a.closed)
	}
	if _, ok := r.Get("k"); ok {
		t.Fatal("a closed resource is still registered")
	}
	n := 0
	r.Each(func(*resource) { n++ })
	if n != 0 {
		t.Fatalf("Each sees %d resources", n)
	}

	// A resource just opened for a use that fails is closed at once.
	var fresh *resource
	if _, _, err := r.Acquire("new", func() (*resource, error) {
		fresh = &resource{name: "fresh"}
		return fresh, nil
	}, func(*resource) error { return refused }); err == nil {
		t.Fatal("refused use succeeded")
	}
	if fresh.closed != 1 {
		t.Fatalf("a resource opened for a refused use was closed %d times", fresh.closed)
	}

	// An open that fails registers nothing.
	if _, _, err := r.Acquire("bad", func() (*resource, error) { return nil, refused }, nil); !errors.Is(err, refused) {
		t.Fatalf("open error: %v", err)
	}
	if _, ok := r.Get("bad"); ok {
		t.Fatal("a failed open is registered")
	}
}
