package main

import (
	"archive/tar"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/jsonmessage"
	controlapi "github.com/moby/buildkit/api/services/control"
	"google.golang.org/protobuf/proto"
)

// engine is one connection to the Docker Engine API.
type engine struct {
	*client.Client
}

func (p *imageProvider) engine() (*engine, error) {
	p.mu.Lock()
	host := p.host
	p.mu.Unlock()
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		if strings.HasPrefix(host, "ssh://") {
			return nil, fmt.Errorf("docker.Image: the provider's host %q is an ssh:// address, which this plugin's Image does not dial; use unix:// or tcp://", host)
		}
		opts = append(opts, client.WithHost(host))
	}
	c, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker.Image: cannot reach the Docker engine: %w", err)
	}
	return &engine{c}, nil
}

// tail keeps the last lines of a build's output, for the error a failed build reports.
type tail struct {
	lines []string
	max   int
}

func (t *tail) add(s string) {
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if line = strings.TrimRight(line, "\r"); line != "" {
			t.lines = append(t.lines, line)
		}
	}
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

// build sends the context to the engine's build endpoint and returns the built image's ID (the
// config digest). Both builders are spoken to without a client session: the engine serves the
// uploaded context to BuildKit itself.
func (e *engine) build(ctx context.Context, a imageArgs, logf func(string)) (string, error) {
	bc, err := openContext(a.Context, a.Dockerfile)
	if err != nil {
		return "", err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(bc.writeTar(pw)) }()
	defer pr.Close()

	buildArgs := map[string]*string{}
	for k, v := range a.Args {
		buildArgs[k] = &v
	}
	version := build.BuilderBuildKit
	if a.BuilderVersion == "BuilderV1" {
		version = build.BuilderV1
	}
	resp, err := e.ImageBuild(ctx, pr, build.ImageBuildOptions{
		Tags:        []string{a.ImageName},
		Dockerfile:  bc.dockerfile,
		BuildArgs:   buildArgs,
		Target:      a.Target,
		Platform:    a.Platform,
		NetworkMode: a.Network,
		ExtraHosts:  a.AddHosts,
		CacheFrom:   a.CacheFrom,
		Remove:      true,
		ForceRemove: true,
		Version:     version,
	})
	if err != nil {
		return "", fmt.Errorf("docker build of %s: %w", a.ImageName, err)
	}
	defer resp.Body.Close()

	out := &tail{max: 40}
	vertexes := map[string]string{}
	built := ""
	dec := json.NewDecoder(resp.Body)
	for {
		var msg jsonmessage.JSONMessage
		if err := dec.Decode(&msg); err == io.EOF {
			break
		} else if err != nil {
			return "", fmt.Errorf("docker build of %s: reading the engine's answer: %w", a.ImageName, err)
		}
		if msg.Error != nil {
			return "", fmt.Errorf("docker build of %s failed: %s\n%s", a.ImageName, msg.Error.Message, strings.Join(out.lines, "\n"))
		}
		if msg.Stream != "" {
			out.add(msg.Stream)
			if s := strings.TrimSpace(msg.Stream); strings.HasPrefix(s, "Step ") {
				logf(s)
			}
		}
		if msg.ID == "moby.buildkit.trace" && msg.Aux != nil {
			traceStatus(*msg.Aux, vertexes, out, logf)
		}
		if (msg.ID == "moby.image.id" || msg.ID == "") && msg.Aux != nil {
			var result struct{ ID string }
			if json.Unmarshal(*msg.Aux, &result) == nil && strings.HasPrefix(result.ID, "sha256:") {
				built = result.ID
			}
		}
	}
	// The engine names the image it built: on the classic store that ID is the config digest. Read by
	// the name instead, another build of the same name on the same engine (a second stack) could have
	// moved the tag in between. On the containerd store the ID names a manifest, so the name is read.
	if built != "" {
		if inspect, err := e.ImageInspect(ctx, built); err == nil && inspect.Descriptor == nil && inspect.ID == built {
			return built, nil
		}
	}
	id, found, err := e.imageID(ctx, a.ImageName, a.Platform)
	if err != nil {
		return "", err
	}
	if !found {
		return "", fmt.Errorf("docker build of %s ended, but the engine has no image of that name", a.ImageName)
	}
	return id, nil
}

// traceStatus reads BuildKit's progress (a base64 StatusResponse in each trace message): each
// step's name as it starts, and its output for the error of a failed build.
func traceStatus(aux json.RawMessage, vertexes map[string]string, out *tail, logf func(string)) {
	var encoded string
	if json.Unmarshal(aux, &encoded) != nil {
		return
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return
	}
	var status controlapi.StatusResponse
	if proto.Unmarshal(raw, &status) != nil {
		return
	}
	for _, v := range status.Vertexes {
		if v.Started != nil && vertexes[v.Digest] == "" {
			vertexes[v.Digest] = v.Name
			logf(v.Name)
		}
		if v.Error != "" {
			out.add(v.Name + ": " + v.Error)
		}
	}
	for _, l := range status.Logs {
		out.add(string(l.Msg))
	}
}

// imageID is the config digest of the named image. On the classic store that is the engine's
// image ID. On the containerd store the engine's ID is the manifest (or index) digest, so the
// config digest is read from the image's own export (`docker save`'s manifest.json).
func (e *engine) imageID(ctx context.Context, name, platform string) (string, bool, error) {
	inspect, err := e.ImageInspect(ctx, name)
	if errdefs.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("inspecting %s: %w", name, err)
	}
	if inspect.Descriptor == nil {
		return inspect.ID, true, nil
	}
	id, err := e.savedConfigDigest(ctx, name)
	return id, err == nil, err
}

func (e *engine) savedConfigDigest(ctx context.Context, name string) (string, error) {
	rc, err := e.ImageSave(ctx, []string{name})
	if err != nil {
		return "", fmt.Errorf("exporting %s to read its config digest: %w", name, err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return "", fmt.Errorf("the export of %s has no manifest.json", name)
		}
		if err != nil {
			return "", fmt.Errorf("reading the export of %s: %w", name, err)
		}
		if hdr.Name != "manifest.json" {
			continue
		}
		var manifest []struct {
			Config string
		}
		if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
			return "", fmt.Errorf("reading the export of %s: manifest.json: %w", name, err)
		}
		if len(manifest) != 1 {
			return "", fmt.Errorf("the export of %s lists %d images, not one", name, len(manifest))
		}
		// "blobs/sha256/<hex>" (OCI layout) or "<hex>.json" (the classic layout).
		hex := strings.TrimSuffix(path.Base(manifest[0].Config), ".json")
		return "sha256:" + hex, nil
	}
}

// push pushes the image to its registry and returns `repo@sha256:<manifest digest>`.
func (e *engine) push(ctx context.Context, a imageArgs, login registryLogin, logf func(string)) (string, error) {
	named, err := reference.ParseNormalizedNamed(a.ImageName)
	if err != nil {
		return "", err
	}
	auth, err := registry.EncodeAuthConfig(registry.AuthConfig{Username: login.Username, Password: login.Password, ServerAddress: login.Address})
	if err != nil {
		return "", err
	}
	rc, err := e.ImagePush(ctx, reference.TagNameOnly(named).String(), image.PushOptions{RegistryAuth: auth})
	if err != nil {
		return "", fmt.Errorf("docker push of %s: %w", a.ImageName, err)
	}
	defer rc.Close()
	logf("pushing " + a.ImageName)
	digest := ""
	dec := json.NewDecoder(rc)
	for {
		var msg jsonmessage.JSONMessage
		if err := dec.Decode(&msg); err == io.EOF {
			break
		} else if err != nil {
			return "", fmt.Errorf("docker push of %s: %w", a.ImageName, err)
		}
		if msg.Error != nil {
			return "", fmt.Errorf("docker push of %s failed: %s", a.ImageName, msg.Error.Message)
		}
		if msg.Aux != nil {
			var result struct{ Digest string }
			if json.Unmarshal(*msg.Aux, &result) == nil && result.Digest != "" {
				digest = result.Digest
			}
		}
	}
	if digest == "" {
		return "", errors.New("docker push of " + a.ImageName + " reported no digest")
	}
	return reference.FamiliarName(named) + "@" + digest, nil
}
