// HashiCorp Vault's AWS auth method (github.com/hashicorp/vault/builtin/credential/aws, its code
// unchanged, at the version go.mod requires) served as an external plugin that OpenBao registers,
// for the engine tests (tests/engines): Vault's own cmd/aws main, with ONE difference.
//
// The difference: after Vault 1.18 the method's config/client write calls the plugin system
// view's DeregisterRotationJob (or RegisterRotationJob when a rotation period or schedule is
// set), Vault's automated root-credential rotation. OpenBao's system view has no such gRPC
// method and answers codes.Unimplemented ("unknown method DeregisterRotationJob"), so the
// unchanged plugin refuses the guide's step 5. Here the backend's SystemView is wrapped so that
// DeregisterRotationJob answered Unimplemented is a success: there is no job to remove on a
// server that has no rotation manager. Every other call, RegisterRotationJob included (a
// rotation the program never asks for stays refused, never silently dropped), goes to OpenBao
// unchanged. Login verification (path_login.go: the signed sts:GetCallerIdentity request, the
// IAM server ID header, bound principals resolved to unique IDs, the role cache) never calls the
// rotation-job API, so what the tests prove about logins is Vault's own code.
package main

import (
	"context"
	"os"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/api"
	awsauth "github.com/hashicorp/vault/builtin/credential/aws"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/plugin"
	"github.com/hashicorp/vault/sdk/rotation"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// openBaoSystemView is OpenBao's system view, with a deregistration OpenBao cannot know of as a no-op.
type openBaoSystemView struct {
	logical.SystemView
}

func (v openBaoSystemView) DeregisterRotationJob(ctx context.Context, req *rotation.RotationJobDeregisterRequest) error {
	err := v.SystemView.DeregisterRotationJob(ctx, req)
	if status.Code(err) == codes.Unimplemented {
		return nil
	}
	return err
}

// factory is awsauth.Factory given OpenBao's system view wrapped; nothing else of the config changes.
func factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	wrapped := *conf
	wrapped.System = openBaoSystemView{SystemView: conf.System}
	return awsauth.Factory(ctx, &wrapped)
}

func main() {
	apiClientMeta := &api.PluginAPIClientMeta{}
	flags := apiClientMeta.FlagSet()
	if err := flags.Parse(os.Args[1:]); err != nil {
		os.Exit(1)
	}
	if err := plugin.ServeMultiplex(&plugin.ServeOpts{
		BackendFactoryFunc: factory,
		TLSProviderFunc:    api.VaultPluginTLSProvider(apiClientMeta.GetTLSConfig()),
	}); err != nil {
		hclog.New(&hclog.LoggerOptions{}).Error("plugin shutting down", "error", err)
		os.Exit(1)
	}
}
