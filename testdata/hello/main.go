// Command hello is the smallest Go wasip1 guest.
package main

import "fmt"

func main() {
	fmt.Println("hello from wasm")
}
