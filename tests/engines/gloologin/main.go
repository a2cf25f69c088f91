// Command gloologin logs in to Vault and reads Gloo's secrets as Gloo Edge 1.15.19 to 1.22 do,
// with the library versions Gloo's go.mod pins (see go.mod), for the engine tests (tests/engines).
//
// What it does as Gloo does (projects/gloo/pkg/bootstrap/clients/vault in Gloo):
//   - settings: the Vault source of `settings.secretOptions.sources` in the Gloo Helm values
//     (Enterprise nests Gloo's values under `gloo`), which the chart renders into Gloo's Settings;
//   - newAwsAuthMethod: awsauth.NewAWSAuth(WithIAMAuth(), ...) adding WithRole, WithRegion,
//     WithIAMServerIDHeader and WithMountPath each only when that setting is not empty; the AWS
//     credentials are the library's own chain (the pod's AWS_ROLE_ARN and
//     AWS_WEB_IDENTITY_TOKEN_FILE, which the EKS pod identity webhook sets);
//   - RemoteTokenAuth.Login: up to -login-attempts tries (Gloo: 3), 1s then 2s apart;
//   - VaultTokenRenewer: a LifetimeWatcher (increment 0 as leaseIncrement is unset, renew buffer
//     5, errors ignored) renews the token until it stops (max TTL reached, or renewing failed),
//     then the same auth method logs in again, and so on;
//   - solo-kit's Vault secret client: LIST <pathPrefix>/metadata/<rootKey>/gloo.solo.io/v1/Secret/<ns>
//     then GET <pathPrefix>/data/<rootKey>/gloo.solo.io/v1/Secret/<ns>/<name> (kv-v2).
//
// What only the test adds: -vault-address replaces the declared address (the local OpenBao);
// -sts-endpoint is where this process's requests to AWS STS hosts go (the local moto), as a
// pod's network takes them to STS; any other AWS host is refused, and AWS_EC2_METADATA_DISABLED
// keeps the SDK away from instance metadata. It prints what happened as one JSON object on
// stdout (login requests as Vault received them, tokens, renewals, reads); on failure also one
// line on stderr, with Vault's message, and exits 1.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	vault "github.com/hashicorp/vault/api"
	awsauth "github.com/hashicorp/vault/api/auth/aws"
)

// Defaults when a value is absent: solo-kit's path prefix and Gloo's root key.
const (
	defaultPathPrefix = "secret"
	defaultRootKey    = "gloo"
	secretType        = "gloo.solo.io/v1/Secret"
)

type awsSettings struct {
	VaultRole         string `json:"vaultRole"`
	Region            string `json:"region"`
	IamServerIdHeader string `json:"iamServerIdHeader"`
	MountPath         string `json:"mountPath"`
}

type vaultSettings struct {
	Address    string      `json:"address"`
	Aws        awsSettings `json:"aws"`
	PathPrefix string      `json:"pathPrefix"`
	RootKey    string      `json:"rootKey"`
}

type helmValues struct {
	Settings *struct {
		SecretOptions struct {
			Sources []struct {
				Vault *vaultSettings `json:"vault"`
			} `json:"sources"`
		} `json:"secretOptions"`
	} `json:"settings"`
	Gloo *helmValues `json:"gloo"`
}

// vaultSource finds Gloo's Vault secret source in the release values (OSS, or Enterprise's `gloo`).
func vaultSource(v *helmValues) (*vaultSettings, error) {
	for v != nil {
		if v.Settings != nil {
			for _, source := range v.Settings.SecretOptions.Sources {
				if source.Vault != nil {
					return source.Vault, nil
				}
			}
			return nil, errors.New("the Gloo values have no vault source in settings.secretOptions.sources")
		}
		v = v.Gloo
	}
	return nil, errors.New("the Gloo values have no settings (nor gloo.settings)")
}

// newAwsAuthMethod: Gloo's options, in Gloo's order, each added only when its setting is set.
func newAwsAuthMethod(s awsSettings) (*awsauth.AWSAuth, []string, error) {
	options := []awsauth.LoginOption{awsauth.WithIAMAuth()}
	names := []string{"WithIAMAuth"}
	for _, o := range []struct {
		setting, name string
		with          func(string) awsauth.LoginOption
	}{
		{s.VaultRole, "WithRole", awsauth.WithRole},
		{s.Region, "WithRegion", awsauth.WithRegion},
		{s.IamServerIdHeader, "WithIAMServerIDHeader", awsauth.WithIAMServerIDHeader},
		{s.MountPath, "WithMountPath", awsauth.WithMountPath},
	} {
		if o.setting != "" {
			options = append(options, o.with(o.setting))
			names = append(names, o.name)
		}
	}
	auth, err := awsauth.NewAWSAuth(options...)
	return auth, names, err
}

// retryingAuth is Gloo's RemoteTokenAuth: the AWS login, retried with a doubling delay.
type retryingAuth struct {
	method   vault.AuthMethod
	attempts int
}

func (r retryingAuth) Login(ctx context.Context, client *vault.Client) (*vault.Secret, error) {
	delay := time.Second
	var err error
	for attempt := 1; ; attempt++ {
		var secret *vault.Secret
		secret, err = r.method.Login(ctx, client)
		if err == nil && secret == nil {
			err = errors.New("no auth info was returned after login")
		}
		if err == nil {
			return secret, nil
		}
		if attempt >= r.attempts || ctx.Err() != nil {
			return nil, fmt.Errorf("unable to authenticate to vault: %w", err)
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
		}
		delay *= 2
	}
}

// ---------------------------------------------------------------- what the run prints

type signedRequest struct {
	Path                 string `json:"path"`
	Role                 string `json:"role,omitempty"`
	StsURL               string `json:"sts_url"`
	SignedRegion         string `json:"signed_region"`
	SignedHost           string `json:"signed_host"`
	ServerIDHeader       string `json:"server_id_header,omitempty"`
	ServerIDHeaderSigned bool   `json:"server_id_header_signed"`
}

type loginRecord struct {
	At            float64           `json:"at"`
	Request       *signedRequest    `json:"request"`
	ClientToken   string            `json:"client_token"`
	TokenPolicies []string          `json:"token_policies"`
	Metadata      map[string]string `json:"metadata"`
	LeaseDuration int               `json:"lease_duration"`
	Renewable     bool              `json:"renewable"`
	expires       time.Time
}

type renewalRecord struct {
	At            float64 `json:"at"`
	Login         int     `json:"login"`
	LeaseDuration int     `json:"lease_duration"`
}

type readRecord struct {
	At         float64                `json:"at"`
	Login      int                    `json:"login"`
	Namespaces []string               `json:"namespaces,omitempty"`
	Keys       []string               `json:"keys"`
	Secrets    map[string]interface{} `json:"secrets"`
	Versions   map[string]interface{} `json:"versions"`
	Error      string                 `json:"error,omitempty"`
	Status     int                    `json:"status,omitempty"`
}

type stsCall struct {
	Host   string `json:"host"`
	Action string `json:"action"`
}

type transcript struct {
	mu           sync.Mutex
	start        time.Time
	Settings     vaultSettings    `json:"settings"`
	Options      []string         `json:"options"`
	StsCalls     []stsCall        `json:"sts_calls"`
	Requests     []*signedRequest `json:"login_requests"`
	Logins       []*loginRecord   `json:"logins"`
	Renewals     []renewalRecord  `json:"renewals"`
	Reads        []readRecord     `json:"reads"`
	ExpiredToken *readRecord      `json:"expired_token,omitempty"`
	Error        string           `json:"error,omitempty"`
	Status       int              `json:"status,omitempty"`
	lastRequest  *signedRequest
}

func (t *transcript) now() float64 { return time.Since(t.start).Seconds() }

// loginIndex is the 1-based number of the login that issued token, or 0.
func (t *transcript) loginIndex(token string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, l := range t.Logins {
		if l.ClientToken == token {
			return i + 1
		}
	}
	return 0
}

// oneLine is an error as one line: Vault's status and messages (api.ResponseError spans lines).
func oneLine(err error) (string, int) {
	status := 0
	var response *vault.ResponseError
	if errors.As(err, &response) {
		status = response.StatusCode
	}
	return strings.Join(strings.Fields(err.Error()), " "), status
}

// ---------------------------------------------------------------- HTTP: observe and redirect

var credentialScope = regexp.MustCompile(`Credential=[^/,\s]+/\d{8}/([^/]+)/sts/aws4_request`)
var signedHeaders = regexp.MustCompile(`SignedHeaders=([^,\s]+)`)
var loginPath = regexp.MustCompile(`^/v1/auth/(.+)/login$`)

// loginRecorder notes each AWS login request as Vault receives it; it changes nothing.
type loginRecorder struct {
	base http.RoundTripper
	t    *transcript
}

func (r loginRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if loginPath.MatchString(req.URL.Path) && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.t.mu.Lock()
		r.t.lastRequest = decodeLogin(req.URL.Path, body)
		r.t.Requests = append(r.t.Requests, r.t.lastRequest)
		r.t.mu.Unlock()
	}
	return r.base.RoundTrip(req)
}

func decodeLogin(path string, body []byte) *signedRequest {
	var data struct {
		URL     string `json:"iam_request_url"`
		Headers string `json:"iam_request_headers"`
		Role    string `json:"role"`
	}
	signed := &signedRequest{Path: strings.TrimPrefix(path, "/v1/")}
	if json.Unmarshal(body, &data) != nil {
		return signed
	}
	signed.Role = data.Role
	if raw, err := base64.StdEncoding.DecodeString(data.URL); err == nil {
		signed.StsURL = string(raw)
		if parsed, err := url.Parse(signed.StsURL); err == nil {
			signed.SignedHost = parsed.Host
		}
	}
	headers := map[string][]string{}
	if raw, err := base64.StdEncoding.DecodeString(data.Headers); err == nil {
		_ = json.Unmarshal(raw, &headers)
	}
	if values := headers["X-Vault-Aws-Iam-Server-Id"]; len(values) > 0 {
		signed.ServerIDHeader = values[0]
	}
	if values := headers["Authorization"]; len(values) > 0 {
		if m := credentialScope.FindStringSubmatch(values[0]); m != nil {
			signed.SignedRegion = m[1]
		}
		if m := signedHeaders.FindStringSubmatch(values[0]); m != nil {
			for _, h := range strings.Split(m[1], ";") {
				if h == "x-vault-aws-iam-server-id" {
					signed.ServerIDHeaderSigned = true
				}
			}
		}
	}
	return signed
}

var stsHost = regexp.MustCompile(`^sts(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$`)

// stsRoute takes the SDK's requests to an AWS STS host to -sts-endpoint, Host header kept.
type stsRoute struct {
	target *url.URL
	base   http.RoundTripper
	t      *transcript
}

func (r stsRoute) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Hostname()
	if !stsHost.MatchString(host) {
		return nil, fmt.Errorf("this test routes only AWS STS, not %s", req.URL.Host)
	}
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
	}
	form, _ := url.ParseQuery(string(body))
	r.t.mu.Lock()
	r.t.StsCalls = append(r.t.StsCalls, stsCall{Host: host, Action: form.Get("Action")})
	r.t.mu.Unlock()
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.URL.Scheme, out.URL.Host, out.Host = r.target.Scheme, r.target.Host, req.URL.Host
	return r.base.RoundTrip(out)
}

// ---------------------------------------------------------------- Gloo's session

type session struct {
	t         *transcript
	client    *vault.Client
	auth      vault.AuthMethod
	directory func(kind, namespace string) string
	namespace string
}

// login is client.Auth().Login with Gloo's auth: it sets the client's token.
func (s *session) login(ctx context.Context) (*vault.Secret, error) {
	secret, err := s.client.Auth().Login(ctx, s.auth)
	if err != nil {
		return nil, err
	}
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	record := &loginRecord{At: s.t.now(), Request: s.t.lastRequest, ClientToken: secret.Auth.ClientToken,
		TokenPolicies: secret.Auth.TokenPolicies, Metadata: secret.Auth.Metadata,
		LeaseDuration: secret.Auth.LeaseDuration, Renewable: secret.Auth.Renewable,
		expires: time.Now().Add(time.Duration(secret.Auth.LeaseDuration) * time.Second)}
	s.t.Logins = append(s.t.Logins, record)
	return secret, nil
}

// renew is Gloo's renewal loop: watch the token until it can no longer be renewed, log in again.
func (s *session) renew(ctx context.Context, secret *vault.Secret) {
	for {
		if !s.watch(ctx, secret) {
			return
		}
		var err error
		if secret, err = s.login(ctx); err != nil {
			message, status := oneLine(err)
			s.t.mu.Lock()
			s.t.Error, s.t.Status = "renewal loop: "+message, status
			s.t.mu.Unlock()
			return
		}
	}
}

// watch returns true when the caller must log in again, false when ctx ended.
func (s *session) watch(ctx context.Context, secret *vault.Secret) bool {
	if renewable, err := secret.TokenIsRenewable(); !renewable || err != nil {
		select { // Gloo waits 60s before logging in again with a token it cannot renew
		case <-time.After(60 * time.Second):
			return true
		case <-ctx.Done():
			return false
		}
	}
	watcher, err := s.client.NewLifetimeWatcher(&vault.LifetimeWatcherInput{
		Secret:        secret,
		Increment:     0,
		Rand:          rand.New(rand.NewSource(int64(time.Now().Nanosecond()))),
		RenewBuffer:   5,
		RenewBehavior: vault.RenewBehaviorIgnoreErrors,
	})
	if err != nil {
		return false
	}
	go watcher.Start()
	defer watcher.Stop()
	index := s.t.loginIndex(secret.Auth.ClientToken)
	for {
		select {
		case <-watcher.DoneCh():
			return true
		case renewal := <-watcher.RenewCh():
			lease := renewal.Secret.Auth.LeaseDuration
			s.t.mu.Lock()
			s.t.Renewals = append(s.t.Renewals, renewalRecord{At: s.t.now(), Login: index, LeaseDuration: lease})
			s.t.Logins[index-1].expires = renewal.RenewedAt.Add(time.Duration(lease) * time.Second)
			s.t.mu.Unlock()
		case <-ctx.Done():
			return false
		}
	}
}

// read lists Gloo's namespace and reads every secret in it, as solo-kit's List and Read do.
func (s *session) read(client *vault.Client, withNamespaces bool) readRecord {
	record := readRecord{At: s.t.now(), Login: s.t.loginIndex(client.Token()),
		Keys: []string{}, Secrets: map[string]interface{}{}, Versions: map[string]interface{}{}}
	fail := func(err error) readRecord {
		record.Error, record.Status = oneLine(err)
		return record
	}
	if withNamespaces {
		listed, err := client.Logical().List(s.directory("metadata", ""))
		if err != nil {
			return fail(err)
		}
		record.Namespaces = keys(listed)
	}
	listed, err := client.Logical().List(s.directory("metadata", s.namespace))
	if err != nil {
		return fail(err)
	}
	for _, name := range keys(listed) {
		secret, err := client.Logical().Read(s.directory("data", s.namespace) + "/" + name)
		if err != nil {
			return fail(err)
		}
		if secret == nil {
			return fail(fmt.Errorf("%s/%s listed but not found", s.namespace, name))
		}
		record.Keys = append(record.Keys, name)
		record.Secrets[name] = secret.Data["data"]
		if metadata, ok := secret.Data["metadata"].(map[string]interface{}); ok {
			record.Versions[name] = metadata["version"]
		}
	}
	return record
}

func keys(listed *vault.Secret) []string {
	names := []string{}
	if listed == nil {
		return names
	}
	if raw, ok := listed.Data["keys"].([]interface{}); ok {
		for _, k := range raw {
			names = append(names, fmt.Sprint(k))
		}
	}
	return names
}

// ---------------------------------------------------------------- main

type options struct {
	values, namespace, vaultAddress, stsEndpoint string
	stay, readEvery                              time.Duration
	attempts                                     int
}

func run(ctx context.Context, o options, t *transcript) error {
	raw, err := os.ReadFile(o.values)
	if err != nil {
		return err
	}
	var values helmValues
	if err := json.Unmarshal(raw, &values); err != nil {
		return fmt.Errorf("reading the Gloo values: %w", err)
	}
	settings, err := vaultSource(&values)
	if err != nil {
		return err
	}
	t.Settings = *settings
	target, err := url.Parse(o.stsEndpoint)
	if err != nil || target.Host == "" {
		return fmt.Errorf("-sts-endpoint %q is not a URL", o.stsEndpoint)
	}
	// The SDK's STS client uses http.DefaultClient; Vault's client has its own transport.
	http.DefaultClient.Transport = stsRoute{target: target, base: &http.Transport{}, t: t}
	if err := os.Setenv("AWS_EC2_METADATA_DISABLED", "true"); err != nil {
		return err
	}

	config := vault.DefaultConfig()
	if config.Error != nil {
		return config.Error
	}
	config.Address = settings.Address
	if o.vaultAddress != "" {
		config.Address = o.vaultAddress
	}
	config.HttpClient.Transport = loginRecorder{base: config.HttpClient.Transport, t: t}
	client, err := vault.NewClient(config)
	if err != nil {
		return err
	}
	client.ClearToken() // only the login gives this client a token
	method, names, err := newAwsAuthMethod(settings.Aws)
	if err != nil {
		return err
	}
	t.Options = names
	pathPrefix, rootKey := settings.PathPrefix, settings.RootKey
	if pathPrefix == "" {
		pathPrefix = defaultPathPrefix
	}
	if rootKey == "" {
		rootKey = defaultRootKey
	}
	s := &session{t: t, client: client, auth: retryingAuth{method: method, attempts: o.attempts},
		namespace: o.namespace,
		directory: func(kind, namespace string) string {
			return strings.Join([]string{pathPrefix, kind, rootKey, secretType, namespace}, "/")
		}}

	secret, err := s.login(ctx)
	if err != nil {
		return err
	}
	first := s.read(client, true)
	t.Reads = append(t.Reads, first)
	if o.stay <= 0 {
		if first.Error != "" {
			return errors.New(first.Error)
		}
		return nil
	}

	stayCtx, cancel := context.WithTimeout(ctx, o.stay)
	defer cancel()
	done := make(chan struct{})
	go func() { s.renew(stayCtx, secret); close(done) }()
	ticker := time.NewTicker(o.readEvery)
	defer ticker.Stop()
	for {
		select {
		case <-stayCtx.Done():
			<-done
			return nil
		case <-ticker.C:
		}
		record := s.read(client, false)
		t.mu.Lock()
		t.Reads = append(t.Reads, record)
		firstLogin := t.Logins[0]
		checkExpired := t.ExpiredToken == nil && len(t.Logins) > 1 && time.Now().After(firstLogin.expires.Add(time.Second))
		t.mu.Unlock()
		if checkExpired {
			// The first login's token, past its max TTL, with no login of its own since.
			old, err := client.Clone()
			if err != nil {
				return err
			}
			old.SetToken(firstLogin.ClientToken)
			expired := s.read(old, false)
			expired.Login = 1
			t.mu.Lock()
			t.ExpiredToken = &expired
			t.mu.Unlock()
		}
	}
}

func main() {
	var o options
	flag.StringVar(&o.values, "values", "", "the Gloo Helm release values, as JSON")
	flag.StringVar(&o.namespace, "namespace", "gloo-system", "Gloo's namespace, whose secrets are read")
	flag.StringVar(&o.vaultAddress, "vault-address", "", "the Vault address to use instead of the values' one")
	flag.StringVar(&o.stsEndpoint, "sts-endpoint", "", "where this process's requests to AWS STS hosts go")
	flag.DurationVar(&o.stay, "stay", 0, "keep the session (renewing, logging in again) this long, reading")
	flag.DurationVar(&o.readEvery, "read-every", 5*time.Second, "while staying, read this often")
	flag.IntVar(&o.attempts, "login-attempts", 3, "login attempts before giving up (Gloo: 3)")
	flag.Parse()

	t := &transcript{start: time.Now(), Options: []string{}, StsCalls: []stsCall{}, Requests: []*signedRequest{},
		Logins:   []*loginRecord{},
		Renewals: []renewalRecord{}, Reads: []readRecord{}}
	err := run(context.Background(), o, t)
	t.mu.Lock()
	if err != nil {
		t.Error, t.Status = oneLine(err)
	}
	out, _ := json.Marshal(t)
	failed := t.Error != ""
	message := t.Error
	t.mu.Unlock()
	fmt.Println(string(out))
	if failed {
		fmt.Fprintln(os.Stderr, "gloologin: "+message)
		os.Exit(1)
	}
}
