// Command httpclient is a guest HTTP client on WasmEdge's socket extension
// (github.com/stealthrocket/net): it GETs each URL of its arguments and
// prints the bodies; names resolve through the container's /etc/hosts and
// /etc/resolv.conf.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"

	"github.com/stealthrocket/net/wasip1"
)

func main() {
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			return wasip1.DialContext(ctx, network, address)
		},
	}}
	for _, url := range os.Args[1:] {
		if err := get(client, url); err != nil {
			fmt.Fprintln(os.Stderr, "httpclient:", err)
			os.Exit(1)
		}
	}
}

func get(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	_, err = io.Copy(os.Stdout, resp.Body)
	return err
}
