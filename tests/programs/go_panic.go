// A Go program that dies of a nil map write inside a method, with a second goroutine
// blocked; run with GOTRACEBACK=crash it ends in SIGABRT with a core.
package main

import (
	"fmt"
	"os"
	"sync"
)

type Indexer struct {
	name  string
	count int
	words map[string]int
}

func (ix *Indexer) add(word string) int {
	ix.count++
	ix.words[word] = ix.count // nil map: panics
	return ix.count
}

func waiter(wg *sync.WaitGroup, ch chan int) {
	defer wg.Done()
	<-ch
}

func main() {
	var wg sync.WaitGroup
	ch := make(chan int)
	wg.Add(1)
	go waiter(&wg, ch)
	ix := &Indexer{name: "main"}
	for _, word := range os.Args {
		fmt.Fprintln(os.Stderr, ix.add(word))
	}
	close(ch)
	wg.Wait()
}
