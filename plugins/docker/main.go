// pulumi-resource-docker: onedigest's Docker provider plugin, reporting version 5.2.0 so that
// @pulumi/docker 5.2.0 programs load it.
//
// Every Terraform-backed resource and function of that SDK (Container, RemoteImage, RegistryImage,
// Tag, Network, Volume, ...) is served by Pulumi's Terraform bridge over kreuzwerker's Terraform
// Docker provider, unchanged but for docker_network's delete (upstream-shim/export.go.in: the same
// calls without upstream's fixed 2 s wait). docker:index/image:Image is not a Terraform resource; it is
// implemented here (image.go) against the Docker Engine API, and requests for it are routed to
// that implementation (server.go).
//
//	pulumi-resource-docker tfgen schema --out DIR   writes schema.json and bridge-metadata.json
//	pulumi-resource-docker                          serves the provider protocol (the engine starts it)
//
// When serving, schema.json and bridge-metadata.json are read from the executable's directory,
// where scripts/docker-plugin.sh installs them beside it.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	rprovider "github.com/pulumi/pulumi/pkg/v3/resource/provider"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "tfgen" {
		// tfgen parses os.Args itself: drop our subcommand word.
		os.Args = append(os.Args[:1], os.Args[2:]...)
		tfgen.Main(pkgName, pkgVersion, providerInfo(nil))
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "-version" {
		fmt.Println(pkgVersion)
		return
	}
	if err := serve(); err != nil {
		cmdutil.ExitError(err.Error())
	}
}

func serve() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	dir := filepath.Dir(exe)
	schema, err := os.ReadFile(filepath.Join(dir, "schema.json"))
	if err != nil {
		return fmt.Errorf("the plugin's schema.json is missing beside it (install with scripts/docker-plugin.sh): %w", err)
	}
	meta, err := os.ReadFile(filepath.Join(dir, "bridge-metadata.json"))
	if err != nil {
		return fmt.Errorf("the plugin's bridge-metadata.json is missing beside it: %w", err)
	}
	info := providerInfo(meta)
	ctx := context.Background()
	info.P.InitLogging(ctx)
	full, err := withImageSchema(schema)
	if err != nil {
		return err
	}
	return rprovider.Main(pkgName, func(host *rprovider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		bridged := tfbridge.NewProvider(ctx, host, pkgName, pkgVersion, info.P, info, schema)
		return newRouter(bridged, host, full), nil
	})
}
