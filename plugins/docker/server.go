package main

import (
	"context"
	"encoding/json"
	"fmt"

	rprovider "github.com/pulumi/pulumi/pkg/v3/resource/provider"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

// router serves the bridged provider, except for Image's requests, which go to imageProvider.
// Provider configuration reaches both.
type router struct {
	pulumirpc.ResourceProviderServer
	image  *imageProvider
	schema []byte
}

func newRouter(bridged pulumirpc.ResourceProviderServer, host *rprovider.HostClient, schema []byte) *router {
	img := &imageProvider{log: func(ctx context.Context, urn, msg string) {
		if host != nil {
			_ = host.LogStatus(ctx, diag.Info, resource.URN(urn), msg)
		}
	}}
	return &router{ResourceProviderServer: bridged, image: img, schema: schema}
}

func isImage(urn string) bool {
	t := string(resource.URN(urn).Type())
	return t == imageToken || t == imageAliasToken
}

var (
	readOpts  = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}
	writeOpts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true}
)

func (r *router) GetSchema(ctx context.Context, req *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: string(r.schema)}, nil
}

func (r *router) Configure(ctx context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	if req.GetArgs() != nil {
		args, err := plugin.UnmarshalProperties(req.GetArgs(), plugin.MarshalOptions{SkipNulls: true})
		if err == nil {
			r.image.configure(args)
		}
	} else {
		r.image.configureVariables(req.GetVariables())
	}
	return r.ResourceProviderServer.Configure(ctx, req)
}

func (p *imageProvider) configure(args resource.PropertyMap) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.host = fieldString(args, "host")
	p.logins = nil
	if v, ok := field(args, "registryAuth"); ok && v.IsArray() {
		for _, e := range v.ArrayValue() {
			if e = unwrap(e); e.IsObject() {
				m := e.ObjectValue()
				p.logins = append(p.logins, registryLogin{Address: fieldString(m, "address"), Username: fieldString(m, "username"), Password: fieldString(m, "password")})
			}
		}
	}
}

// configureVariables reads the older form of provider configuration: "docker:config:<key>" = JSON or string.
func (p *imageProvider) configureVariables(vars map[string]string) {
	args := resource.PropertyMap{}
	if host, ok := vars["docker:config:host"]; ok {
		args["host"] = resource.NewStringProperty(host)
	}
	if auth, ok := vars["docker:config:registryAuth"]; ok {
		var list []map[string]any
		if json.Unmarshal([]byte(auth), &list) == nil {
			args["registryAuth"] = resource.NewPropertyValue(toAny(list))
		}
	}
	p.configure(args)
}

func toAny(list []map[string]any) []any {
	out := make([]any, len(list))
	for i, m := range list {
		out[i] = m
	}
	return out
}

func (r *router) Check(ctx context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if !isImage(req.GetUrn()) {
		return r.ResourceProviderServer.Check(ctx, req)
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), readOpts)
	if err != nil {
		return nil, err
	}
	checked, failures := r.image.check(news)
	inputs, err := plugin.MarshalProperties(checked, writeOpts)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs, Failures: failures}, nil
}

func (r *router) Diff(ctx context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	if !isImage(req.GetUrn()) {
		return r.ResourceProviderServer.Diff(ctx, req)
	}
	oldStruct := req.GetOldInputs()
	if oldStruct == nil || len(oldStruct.GetFields()) == 0 {
		oldStruct = req.GetOlds()
	}
	olds, err := plugin.UnmarshalProperties(oldStruct, readOpts)
	if err != nil {
		return nil, err
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), readOpts)
	if err != nil {
		return nil, err
	}
	return r.image.diff(olds, news), nil
}

func (r *router) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if !isImage(req.GetUrn()) {
		return r.ResourceProviderServer.Create(ctx, req)
	}
	inputs, err := plugin.UnmarshalProperties(req.GetProperties(), readOpts)
	if err != nil {
		return nil, err
	}
	out, err := r.image.apply(ctx, req.GetUrn(), inputs, req.GetPreview())
	if err != nil {
		return nil, err
	}
	props, err := plugin.MarshalProperties(out, writeOpts)
	if err != nil {
		return nil, err
	}
	id := ""
	if !req.GetPreview() {
		id = fieldString(out, "imageName")
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

func (r *router) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if !isImage(req.GetUrn()) {
		return r.ResourceProviderServer.Update(ctx, req)
	}
	inputs, err := plugin.UnmarshalProperties(req.GetNews(), readOpts)
	if err != nil {
		return nil, err
	}
	out, err := r.image.apply(ctx, req.GetUrn(), inputs, req.GetPreview())
	if err != nil {
		return nil, err
	}
	props, err := plugin.MarshalProperties(out, writeOpts)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (r *router) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	if !isImage(req.GetUrn()) {
		return r.ResourceProviderServer.Read(ctx, req)
	}
	state, err := plugin.UnmarshalProperties(req.GetProperties(), readOpts)
	if err != nil {
		return nil, err
	}
	out, found, err := r.image.read(ctx, state)
	if err != nil {
		return nil, err
	}
	if !found {
		return &pulumirpc.ReadResponse{}, nil
	}
	props, err := plugin.MarshalProperties(out, writeOpts)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: props, Inputs: req.GetInputs()}, nil
}

func (r *router) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	if !isImage(req.GetUrn()) {
		return r.ResourceProviderServer.Delete(ctx, req)
	}
	return &emptypb.Empty{}, nil
}

// imageSchema is Image's entry in the package schema, as @pulumi/docker 5.2.0 types it.
const imageSchema = `{
  "resources": {
    "docker:index/image:Image": {
      "description": "Builds a Docker image through the Docker Engine API and, unless skipPush, pushes it.",
      "aliases": [{"type": "docker:image:Image"}],
      "inputProperties": {
        "imageName": {"type": "string"},
        "build": {"$ref": "#/types/docker:index/dockerBuild:DockerBuild"},
        "registry": {"$ref": "#/types/docker:index/registry:Registry"},
        "skipPush": {"type": "boolean", "default": false},
        "buildOnPreview": {"type": "boolean", "default": false}
      },
      "requiredInputs": ["imageName"],
      "properties": {
        "baseImageName": {"type": "string"},
        "context": {"type": "string"},
        "dockerfile": {"type": "string"},
        "imageName": {"type": "string"},
        "platform": {"type": "string"},
        "registryServer": {"type": "string"},
        "repoDigest": {"type": "string"}
      },
      "required": ["baseImageName", "context", "dockerfile", "imageName", "registryServer", "repoDigest"]
    }
  },
  "types": {
    "docker:index/dockerBuild:DockerBuild": {
      "type": "object",
      "properties": {
        "addHosts": {"type": "array", "items": {"type": "string"}},
        "args": {"type": "object", "additionalProperties": {"type": "string"}},
        "builderVersion": {"$ref": "#/types/docker:index/builderVersion:BuilderVersion"},
        "cacheFrom": {"$ref": "#/types/docker:index/cacheFrom:CacheFrom"},
        "context": {"type": "string"},
        "dockerfile": {"type": "string"},
        "network": {"type": "string"},
        "platform": {"type": "string"},
        "target": {"type": "string"}
      }
    },
    "docker:index/cacheFrom:CacheFrom": {
      "type": "object",
      "properties": {"images": {"type": "array", "items": {"type": "string"}}}
    },
    "docker:index/registry:Registry": {
      "type": "object",
      "properties": {
        "password": {"type": "string", "secret": true},
        "server": {"type": "string"},
        "username": {"type": "string"}
      }
    },
    "docker:index/builderVersion:BuilderVersion": {
      "type": "string",
      "enum": [{"name": "BuilderV1", "value": "BuilderV1"}, {"name": "BuilderBuildKit", "value": "BuilderBuildKit"}]
    }
  }
}`

// withImageSchema adds Image and its types to the bridged provider's schema.
func withImageSchema(bridged []byte) ([]byte, error) {
	var spec, extra map[string]any
	if err := json.Unmarshal(bridged, &spec); err != nil {
		return nil, fmt.Errorf("schema.json: %w", err)
	}
	if err := json.Unmarshal([]byte(imageSchema), &extra); err != nil {
		return nil, err
	}
	spec["version"] = pkgVersion
	for _, section := range []string{"resources", "types"} {
		m, _ := spec[section].(map[string]any)
		if m == nil {
			m = map[string]any{}
			spec[section] = m
		}
		for k, v := range extra[section].(map[string]any) {
			m[k] = v
		}
	}
	return json.Marshal(spec)
}

