// The two commands of the Vault CLI that the login check Job runs (components/documents.py,
// login_check_script), built from Vault's own code at the version of the Job's image
// (hashicorp/vault:1.21.4): `vault login` hands its k=v arguments to the aws auth method's CLI
// handler (github.com/hashicorp/vault/builtin/credential/aws CLIHandler, what the real
// `vault login -method=aws` calls), and `vault list` is github.com/hashicorp/vault/api's List.
// Flags, defaults, messages and exit codes are those of command/login.go and command/list.go.
//
// Like the real CLI it reads VAULT_ADDR and VAULT_TOKEN, and the AWS SDK reads the pod's
// AWS_* environment (the pod identity webhook's). One variable is the test's: TEST_STS_ROUTE,
// where this process's requests to AWS STS hosts go (the local moto), as a pod's network takes
// them to STS; any other AWS host is refused, so nothing leaves the machine.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"

	awsauth "github.com/hashicorp/vault/builtin/credential/aws"
	"github.com/hashicorp/vault/api"
)

var stsHost = regexp.MustCompile(`^sts(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$`)

// stsRoute takes the SDK's requests to an AWS STS host to TEST_STS_ROUTE, Host header kept.
type stsRoute struct{ target *url.URL }

func (r stsRoute) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Hostname()
	if !stsHost.MatchString(host) {
		return nil, fmt.Errorf("this test routes only AWS STS, not %s", req.URL.Host)
	}
	routed := req.Clone(req.Context())
	routed.Host = req.URL.Host
	routed.URL.Scheme, routed.URL.Host = r.target.Scheme, r.target.Host
	return http.DefaultTransport.RoundTrip(routed)
}

func main() {
	if route := os.Getenv("TEST_STS_ROUTE"); route != "" {
		target, err := url.Parse(route)
		if err != nil {
			fmt.Fprintf(os.Stderr, "TEST_STS_ROUTE %q is not a URL\n", route)
			os.Exit(1)
		}
		// The AWS SDK's sessions use http.DefaultClient; Vault's client has its own transport.
		http.DefaultClient.Transport = stsRoute{target: target}
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "login":
			return login(args[1:], stdout, stderr)
		case "list":
			return list(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "this vault implements only `login -method=aws` and `list` (got %q)\n", args)
	return 1
}

// sanitizePath is the CLI's: no surrounding spaces or slashes.
func sanitizePath(s string) string {
	return strings.Trim(strings.TrimSpace(s), "/")
}

func login(args []string, stdout, stderr io.Writer) int {
	f := flag.NewFlagSet("login", flag.ContinueOnError)
	f.SetOutput(stderr)
	method := f.String("method", "token", "auth method")
	path := f.String("path", "", "mount path (default: the method)")
	tokenOnly := f.Bool("token-only", false, "print only the token, store nothing")
	noStore := f.Bool("no-store", false, "store no token")
	if err := f.Parse(args); err != nil {
		return 1
	}
	if sanitizePath(*method) != "aws" {
		fmt.Fprintf(stderr, "this vault implements only -method=aws (got %q)\n", *method)
		return 1
	}
	if !*tokenOnly && !*noStore {
		fmt.Fprintln(stderr, "this vault has no token helper: use -token-only or -no-store")
		return 1
	}
	config := map[string]string{}
	for _, arg := range f.Args() {
		key, value, ok := strings.Cut(arg, "=")
		if !ok {
			fmt.Fprintf(stderr, "Error parsing configuration: invalid key/value pair %q\n", arg)
			return 1
		}
		config[key] = value
	}
	if config["mount"] == "" {
		config["mount"] = *path
		if *path == "" {
			config["mount"] = "aws/"
		}
	}
	client, err := api.NewClient(api.DefaultConfig())
	if err != nil {
		fmt.Fprintln(stderr, err.Error())
		return 2
	}
	client.SetToken("")
	secret, err := (&awsauth.CLIHandler{}).Auth(client, config)
	if err != nil {
		fmt.Fprintf(stderr, "Error authenticating: %s\n", err)
		return 2
	}
	if secret == nil || secret.Auth == nil {
		fmt.Fprintln(stderr, "Vault returned an empty secret")
		return 2
	}
	if *tokenOnly {
		fmt.Fprint(stdout, secret.Auth.ClientToken)
		return 0
	}
	fmt.Fprintf(stdout, "token %s\ntoken_policies %v\n", secret.Auth.ClientToken, secret.Auth.TokenPolicies)
	return 0
}

func list(args []string, stdout, stderr io.Writer) int {
	f := flag.NewFlagSet("list", flag.ContinueOnError)
	f.SetOutput(stderr)
	if err := f.Parse(args); err != nil {
		return 1
	}
	if f.NArg() != 1 {
		fmt.Fprintf(stderr, "Not enough or too many arguments (expected 1, got %d)\n", f.NArg())
		return 1
	}
	client, err := api.NewClient(api.DefaultConfig())
	if err != nil {
		fmt.Fprintln(stderr, err.Error())
		return 2
	}
	path := sanitizePath(f.Arg(0))
	secret, err := client.Logical().List(path)
	if err != nil {
		fmt.Fprintf(stderr, "Error listing %s: %s\n", path, err)
		return 2
	}
	if secret == nil {
		fmt.Fprintf(stderr, "No value found at %s\n", path)
		return 2
	}
	keys, ok := secret.Data["keys"].([]interface{})
	if !ok {
		fmt.Fprintf(stderr, "No entries found at %s\n", path)
		return 2
	}
	fmt.Fprint(stdout, "Keys\n----\n")
	for _, key := range keys {
		fmt.Fprintln(stdout, key)
	}
	return 0
}
