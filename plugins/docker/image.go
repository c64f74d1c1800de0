package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/distribution/reference"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// The SDK's token for Image, and the alias it registers for state written by Docker provider v3.
const (
	imageToken      = "docker:index/image:Image"
	imageAliasToken = "docker:image:Image"
)

var builderVersions = []string{"BuilderV1", "BuilderBuildKit"}

// imageArgs are an Image's inputs once every value is known.
type imageArgs struct {
	ImageName      string
	Context        string
	Dockerfile     string
	Args           map[string]string
	Target         string
	Platform       string
	BuilderVersion string
	Network        string
	AddHosts       []string
	CacheFrom      []string
	Registry       registryLogin
	SkipPush       bool
	BuildOnPreview bool
}

// registryLogin is one registry's credentials: the Image's `registry` input or an entry of the
// provider's `registryAuth`.
type registryLogin struct {
	Address  string
	Username string
	Password string
}

// imageProvider implements docker:index/image:Image against the Docker Engine API: Check fills the
// documented defaults and hashes the build context, Diff compares inputs (the context's hash
// among them), Create and Update build (and push unless skipPush), Read looks the image up, and
// Delete leaves the image where it is, as the SDK documents ("does not delete tags, locally or
// remotely, when destroyed").
type imageProvider struct {
	mu     sync.Mutex
	host   string // the provider's `host`; empty: DOCKER_HOST or the default socket
	logins []registryLogin
	log    func(ctx context.Context, urn, msg string)
}

func unwrap(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

func field(m resource.PropertyMap, key string) (resource.PropertyValue, bool) {
	v, ok := m[resource.PropertyKey(key)]
	if !ok || unwrap(v).IsNull() {
		return resource.PropertyValue{}, false
	}
	return unwrap(v), true
}

func fieldString(m resource.PropertyMap, key string) string {
	if v, ok := field(m, key); ok && v.IsString() {
		return v.StringValue()
	}
	return ""
}

func fieldBool(m resource.PropertyMap, key string) bool {
	if v, ok := field(m, key); ok && v.IsBool() {
		return v.BoolValue()
	}
	return false
}

func fieldStrings(m resource.PropertyMap, key string) []string {
	v, ok := field(m, key)
	if !ok || !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.ArrayValue() {
		if e = unwrap(e); e.IsString() {
			out = append(out, e.StringValue())
		}
	}
	return out
}

func fieldObject(m resource.PropertyMap, key string) resource.PropertyMap {
	if v, ok := field(m, key); ok && v.IsObject() {
		return v.ObjectValue()
	}
	return resource.PropertyMap{}
}

func failure(property, format string, args ...any) *pulumirpc.CheckFailure {
	return &pulumirpc.CheckFailure{Property: property, Reason: fmt.Sprintf(format, args...)}
}

// check validates an Image's inputs, fills the defaults the SDK documents (context ".", dockerfile
// "<context>/Dockerfile", builderVersion BuilderBuildKit, skipPush and buildOnPreview false) and adds
// `contextDigest`, the hash of what a build would send, so that a change under the context previews
// as an update and nothing else does.
func (p *imageProvider) check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	out := news.Copy()
	var failures []*pulumirpc.CheckFailure

	name, ok := field(news, "imageName")
	switch {
	case !ok:
		failures = append(failures, failure("imageName", "missing required property 'imageName'"))
	case name.IsComputed():
	case !name.IsString():
		failures = append(failures, failure("imageName", "imageName must be a string, got %s", name.TypeString()))
	default:
		if _, err := reference.ParseNormalizedNamed(name.StringValue()); err != nil {
			failures = append(failures, failure("imageName", "imageName %q is not a valid image reference: %v", name.StringValue(), err))
		}
	}

	for _, key := range []string{"skipPush", "buildOnPreview"} {
		v, ok := field(news, key)
		if !ok {
			out[resource.PropertyKey(key)] = resource.NewBoolProperty(false)
		} else if !v.IsComputed() && !v.IsBool() {
			failures = append(failures, failure(key, "%s must be a boolean, got %s", key, v.TypeString()))
		}
	}

	build := resource.PropertyMap{}
	if v, ok := field(news, "build"); ok {
		switch {
		case v.IsComputed():
			out["contextDigest"] = resource.MakeComputed(resource.NewStringProperty(""))
			return out, failures
		case !v.IsObject():
			failures = append(failures, failure("build", "build must be an object (context, dockerfile, args, ...), got %s", v.TypeString()))
			return out, failures
		default:
			build = v.ObjectValue().Copy()
		}
	}
	ctxDir, ok := field(build, "context")
	if !ok {
		ctxDir = resource.NewStringProperty(".")
		build["context"] = ctxDir
	}
	dockerfile, ok := field(build, "dockerfile")
	if !ok && ctxDir.IsString() {
		dockerfile = resource.NewStringProperty(filepath.Join(ctxDir.StringValue(), "Dockerfile"))
		build["dockerfile"] = dockerfile
	}
	if v, ok := field(build, "builderVersion"); !ok {
		build["builderVersion"] = resource.NewStringProperty("BuilderBuildKit")
	} else if v.IsString() && !containsString(builderVersions, v.StringValue()) {
		failures = append(failures, failure("build.builderVersion", "builderVersion %q is not one of %s", v.StringValue(), strings.Join(builderVersions, ", ")))
	}
	out["build"] = resource.NewObjectProperty(build)

	switch {
	case ctxDir.IsComputed() || dockerfile.IsComputed():
		out["contextDigest"] = resource.MakeComputed(resource.NewStringProperty(""))
	case !ctxDir.IsString():
		failures = append(failures, failure("build.context", "build.context must be a path, got %s", ctxDir.TypeString()))
	case !dockerfile.IsString():
		failures = append(failures, failure("build.dockerfile", "build.dockerfile must be a path, got %s", dockerfile.TypeString()))
	default:
		bc, err := openContext(absPath(ctxDir.StringValue()), absPath(dockerfile.StringValue()))
		if err == nil {
			var digest string
			if digest, err = bc.digest(); err == nil {
				out["contextDigest"] = resource.NewStringProperty(digest)
			}
		}
		if err != nil {
			failures = append(failures, failure("build.context", "%v", err))
		}
	}
	return out, failures
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// diffKeys are the inputs a build depends on; buildOnPreview only says when to build.
var diffKeys = []string{"imageName", "build", "registry", "skipPush", "contextDigest"}

// diff compares the new checked inputs with the old ones, key by key (build's fields one by one).
func (p *imageProvider) diff(olds, news resource.PropertyMap) *pulumirpc.DiffResponse {
	detailed := map[string]*pulumirpc.PropertyDiff{}
	changed := func(path string, o, n resource.PropertyValue, hasO, hasN bool) {
		switch {
		case !hasO && !hasN:
			return
		case !hasO:
			detailed[path] = &pulumirpc.PropertyDiff{Kind: pulumirpc.PropertyDiff_ADD, InputDiff: true}
		case !hasN:
			detailed[path] = &pulumirpc.PropertyDiff{Kind: pulumirpc.PropertyDiff_DELETE, InputDiff: true}
		case n.ContainsUnknowns() || !unwrapDeep(o).DeepEquals(unwrapDeep(n)):
			detailed[path] = &pulumirpc.PropertyDiff{Kind: pulumirpc.PropertyDiff_UPDATE, InputDiff: true}
		}
	}
	for _, key := range diffKeys {
		o, hasO := field(olds, key)
		n, hasN := field(news, key)
		if key == "build" && hasO && hasN && o.IsObject() && n.IsObject() {
			keys := map[string]bool{}
			for k := range o.ObjectValue() {
				keys[string(k)] = true
			}
			for k := range n.ObjectValue() {
				keys[string(k)] = true
			}
			for k := range keys {
				ov, ho := field(o.ObjectValue(), k)
				nv, hn := field(n.ObjectValue(), k)
				changed("build."+k, ov, nv, ho, hn)
			}
			continue
		}
		changed(key, o, n, hasO, hasN)
	}
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, DetailedDiff: detailed, HasDetailedDiff: true}
	if len(detailed) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
		for k := range detailed {
			resp.Diffs = append(resp.Diffs, strings.SplitN(k, ".", 2)[0])
		}
		sort.Strings(resp.Diffs)
		resp.Diffs = dedupe(resp.Diffs)
	}
	return resp
}

func unwrapDeep(v resource.PropertyValue) resource.PropertyValue {
	v = unwrap(v)
	switch {
	case v.IsObject():
		m := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			m[k] = unwrapDeep(e)
		}
		return resource.NewObjectProperty(m)
	case v.IsArray():
		a := make([]resource.PropertyValue, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			a[i] = unwrapDeep(e)
		}
		return resource.NewArrayProperty(a)
	}
	return v
}

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// args reads fully known, checked inputs.
func args(m resource.PropertyMap) imageArgs {
	build := fieldObject(m, "build")
	a := imageArgs{
		ImageName:      fieldString(m, "imageName"),
		Context:        absPath(fieldString(build, "context")),
		Dockerfile:     absPath(fieldString(build, "dockerfile")),
		Target:         fieldString(build, "target"),
		Platform:       fieldString(build, "platform"),
		BuilderVersion: fieldString(build, "builderVersion"),
		Network:        fieldString(build, "network"),
		AddHosts:       fieldStrings(build, "addHosts"),
		CacheFrom:      fieldStrings(fieldObject(build, "cacheFrom"), "images"),
		SkipPush:       fieldBool(m, "skipPush"),
		BuildOnPreview: fieldBool(m, "buildOnPreview"),
		Args:           map[string]string{},
	}
	for k, v := range fieldObject(build, "args") {
		if v = unwrap(v); v.IsString() {
			a.Args[string(k)] = v.StringValue()
		}
	}
	reg := fieldObject(m, "registry")
	a.Registry = registryLogin{Address: fieldString(reg, "server"), Username: fieldString(reg, "username"), Password: fieldString(reg, "password")}
	return a
}

// outputs are the inputs plus what the SDK declares as outputs. repoDigest is the pushed
// manifest's `repo@sha256:…`, or for an image not pushed (skipPush) the image ID: the digest of
// the image's config, which is the same on Docker's classic and containerd image stores.
func outputs(inputs resource.PropertyMap, a imageArgs, repoDigest resource.PropertyValue) resource.PropertyMap {
	out := inputs.Copy()
	out["imageName"] = resource.NewStringProperty(a.ImageName)
	out["baseImageName"] = resource.NewStringProperty(a.ImageName)
	out["registryServer"] = resource.NewStringProperty(registryServer(a))
	out["context"] = resource.NewStringProperty(a.Context)
	out["dockerfile"] = resource.NewStringProperty(a.Dockerfile)
	if a.Platform != "" {
		out["platform"] = resource.NewStringProperty(a.Platform)
	}
	out["repoDigest"] = repoDigest
	return out
}

func registryServer(a imageArgs) string {
	if a.Registry.Address != "" {
		return a.Registry.Address
	}
	if named, err := reference.ParseNormalizedNamed(a.ImageName); err == nil {
		return reference.Domain(named)
	}
	return ""
}

// apply builds (and pushes) for Create and Update. In a preview it builds only with buildOnPreview.
func (p *imageProvider) apply(ctx context.Context, urn string, inputs resource.PropertyMap, preview bool) (resource.PropertyMap, error) {
	a := args(inputs)
	unknown := resource.MakeComputed(resource.NewStringProperty(""))
	if inputs.ContainsUnknowns() {
		if !preview {
			return nil, fmt.Errorf("image %s: inputs are not known outside a preview", a.ImageName)
		}
		out := inputs.Copy()
		for _, k := range []resource.PropertyKey{"baseImageName", "registryServer", "context", "dockerfile", "platform", "repoDigest"} {
			out[k] = unknown
		}
		if _, ok := field(out, "imageName"); !ok {
			out["imageName"] = unknown
		}
		return out, nil
	}
	if preview && !a.BuildOnPreview {
		return outputs(inputs, a, unknown), nil
	}
	engine, err := p.engine()
	if err != nil {
		return nil, err
	}
	defer engine.Close()
	logf := func(msg string) { p.log(ctx, urn, msg) }
	imageID, err := engine.build(ctx, a, logf)
	if err != nil {
		return nil, err
	}
	if a.SkipPush || preview {
		return outputs(inputs, a, resource.NewStringProperty(imageID)), nil
	}
	digest, err := engine.push(ctx, a, p.loginFor(a), logf)
	if err != nil {
		return nil, err
	}
	return outputs(inputs, a, resource.NewStringProperty(digest)), nil
}

// loginFor picks the credentials for the image's registry: the Image's own `registry`, else the
// provider's registryAuth entry for that address.
func (p *imageProvider) loginFor(a imageArgs) registryLogin {
	server := registryServer(a)
	if a.Registry.Username != "" || a.Registry.Password != "" {
		return registryLogin{Address: server, Username: a.Registry.Username, Password: a.Registry.Password}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.logins {
		if normalizeRegistry(l.Address) == normalizeRegistry(server) {
			return l
		}
	}
	return registryLogin{Address: server}
}

func normalizeRegistry(address string) string {
	address = strings.TrimPrefix(strings.TrimPrefix(address, "https://"), "http://")
	address = strings.TrimSuffix(address, "/")
	if address == "index.docker.io" || address == "registry-1.docker.io" || address == "docker.io/v1" {
		return "docker.io"
	}
	return address
}

// read refreshes an Image: gone when the engine no longer has it; for a local image, its ID as it is now.
func (p *imageProvider) read(ctx context.Context, state resource.PropertyMap) (resource.PropertyMap, bool, error) {
	name := fieldString(state, "imageName")
	if name == "" {
		return state, true, nil
	}
	engine, err := p.engine()
	if err != nil {
		return nil, false, err
	}
	defer engine.Close()
	id, found, err := engine.imageID(ctx, name, fieldString(state, "platform"))
	if err != nil || !found {
		return nil, found, err
	}
	out := state.Copy()
	if fieldBool(state, "skipPush") {
		out["repoDigest"] = resource.NewStringProperty(id)
	}
	return out, true, nil
}
