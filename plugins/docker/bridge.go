package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"

	upstream "github.com/terraform-providers/terraform-provider-docker/export"
)

const (
	pkgName = "docker"
	// The version @pulumi/docker 5.2.0 asks the engine for; the engine warns on any other.
	pkgVersion = "5.2.0"
)

// providerInfo maps kreuzwerker's Terraform Docker provider onto the tokens and property names of
// @pulumi/docker 5.2.0 (node_modules/@pulumi/docker is the contract; test/plugin checks every
// resource's properties against it). meta is bridge-metadata.json, nil while tfgen writes it.
func providerInfo(meta []byte) tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:       shimv2.NewProvider(upstream.New(pkgVersion)()),
		Name:    "docker",
		Version: pkgVersion,
		// The bridge would pluralise list-typed names; the SDK keeps these singular.
		Config: map[string]*tfbridge.SchemaInfo{
			"registry_auth": {Name: "registryAuth"},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			// docker_image pulls (or builds) an image into the engine: the SDK's RemoteImage.
			// Its Image is the native build resource of image.go.
			"docker_image":  {Tok: "docker:index/remoteImage:RemoteImage"},
			"docker_config": {Tok: "docker:index/serviceConfig:ServiceConfig"},
			"docker_container": {Fields: map[string]*tfbridge.SchemaInfo{
				"command":           {Name: "command"},
				"networks_advanced": {Name: "networksAdvanced"},
			}},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"docker_image": {Tok: "docker:index/getRemoteImage:getRemoteImage"},
		},
		MetadataInfo: tfbridge.NewProviderMetadata(meta),
	}
	info.MustComputeTokens(tokens.SingleModule("docker_", "index", tokens.MakeStandard(pkgName)))
	return info
}
