/**
 * The program's push (registry/operations.ts) against the real Docker engine, on either image store,
 * and real loopback registries: a registry with immutable tags that refuses a tag it holds, even for
 * the same digest (as ECR does), a plain one, and one that takes Docker v2 schema 2 only (as
 * Heroku's). A push of bits the registry already holds is a no-op; the v2-only registry gets that
 * manifest of the same blobs and is never sent another kind; an index (attestations and all) reaches
 * no registry; every copy is checked to be the bits deployed.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { MANIFEST_V2, OCI_INDEX, OCI_MANIFEST, RegistryClient } from "../../registry/client";
import { engineAddress, pushImage } from "../../registry/engine";
import { push, type PushInputs } from "../../registry/operations";
import { ImmutableRegistry, REGISTRY_RULES } from "../engine/clouds";
import { SecureRegistry } from "../registry";
import { docker, dockerResult, expectedStore, savedConfigDigest } from "./docker";
import { DockerV2OnlyRegistry } from "./registries";

const LOGIN = { username: "AWS", password: "push-test-token-0123" };

/** A docker CLI config logged in to `host` (for a test's own pull), in a directory of its own. */
async function dockerLogin(host: string): Promise<string> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-docker-config-"));
    execFileSync("docker", ["--config", dir, "login", host, "-u", LOGIN.username, "--password-stdin"], { input: LOGIN.password, stdio: ["pipe", "ignore", "pipe"] });
    return dir;
}

describe("push: once per registry, a no-op for bits it holds", function () {
    const ecr = new ImmutableRegistry({ name: "ecr", immutableTag: REGISTRY_RULES.ecrImmutableTag, sameDigest: "refuse" }, { [LOGIN.username]: LOGIN.password });
    const plain = new SecureRegistry({ [LOGIN.username]: LOGIN.password });
    const heroku = new DockerV2OnlyRegistry({ [LOGIN.username]: LOGIN.password });
    const base = process.env.ONEDIGEST_BASE_IMAGE!;
    let imageId = "";
    let inputs: PushInputs;

    before(async function () {
        assert.ok(process.env.DOCKER_HOST && process.env.ONEDIGEST_BASE_IMAGE, "no engine: run through scripts/test.sh (scripts/docker-env.sh)");
        await ecr.start();
        await plain.start();
        await heroku.start();
        // Any image the engine holds will do: the stand-in base, by its name (which either store
        // resolves) and its config digest (which `docker save` shows).
        imageId = savedConfigDigest(base);
        inputs = {
            source: base,
            imageId,
            repository: `${ecr.host}/push-test/app`,
            tag: imageId.replace(":", "-"),
            platform: "linux/amd64",
            manifest: "any",
            server: ecr.host,
            ...LOGIN,
        };
    });

    after(async function () {
        await ecr.stop();
        await plain.stop();
        await heroku.stop();
    });

    it("pushes what the registry lacks, and reads back a copy with the image ID as its config digest", async () => {
        const out = await push(inputs);
        assert.strictEqual(out.pushed, true);
        assert.match(out.digest, /^sha256:[0-9a-f]{64}$/);
        assert.strictEqual(out.ref, `${inputs.repository}@${out.digest}`);
        const held = await new RegistryClient(inputs.repository, LOGIN).getManifest(inputs.tag);
        assert.strictEqual(held?.digest, out.digest);
        assert.strictEqual(held?.manifest.config?.digest, imageId);
        assert.deepStrictEqual(
            ecr.pushes.map((p) => [p.reference, p.status]),
            [[inputs.tag, 201]],
        );
    });

    it("pushes nothing when the registry holds those bits (a rollback, a re-promotion), where the classic store's docker push is refused", async () => {
        const again = await push(inputs);
        assert.strictEqual(again.pushed, false);
        assert.strictEqual(ecr.pushes.length, 1, "no manifest was written again");
        // What a plain push does there. The classic store writes the tag again, and ECR's immutable tag
        // refuses it, even with the same digest; the containerd store's pusher finds the manifest there
        // and writes nothing.
        const plainPush = pushImage(engineAddress(undefined), inputs.repository, inputs.tag, { ...LOGIN, server: ecr.host });
        if (expectedStore() === "classic") await assert.rejects(plainPush, /cannot be overwritten because the repository is immutable/);
        else assert.strictEqual(await plainPush, again.digest);
        assert.deepStrictEqual(ecr.pushes.filter((p) => p.status === 201).length, 1);
    });

    it("gives a registry that takes only Docker v2 schema 2 that manifest from the engine's image, and never another kind", async () => {
        const repository = `${heroku.host}/push-test/web`;
        const out = await push({ ...inputs, repository, server: heroku.host, manifest: "docker-v2" });
        assert.strictEqual(out.pushed, true);
        assert.strictEqual(out.mediaType, MANIFEST_V2);
        const held = (await new RegistryClient(repository, LOGIN).getManifest(inputs.tag, MANIFEST_V2))!;
        assert.strictEqual(held.mediaType, MANIFEST_V2);
        assert.strictEqual(held.digest, out.digest);
        assert.strictEqual(held.manifest.config?.digest, imageId, "the same config digest: the same bits");
        assert.deepStrictEqual(heroku.puts.map((p) => [p.mediaType, p.status]), [[MANIFEST_V2, 201]]);
        // The stand-in base is an import plus a legacy build: on the containerd store the engine keeps an
        // OCI manifest, which its own push would have sent (and Heroku's registry refused).
        const kept = docker("image", "inspect", "--format", "{{if .Descriptor}}{{.Descriptor.MediaType}}{{end}}", base);
        assert.strictEqual(kept, expectedStore() === "containerd" ? OCI_MANIFEST : "");
    });

    it("sends no index to any registry: a pulled index (with an attestation manifest) is pushed as its one platform's manifest", async () => {
        // An index of the base's manifest and an attestation-like manifest, as a BuildKit push with provenance makes it.
        const source = new RegistryClient(`${plain.host}/push-test/index`, LOGIN);
        const basePushed = await push({ ...inputs, repository: `${plain.host}/push-test/index`, server: plain.host });
        const child = (await source.getManifest(basePushed.digest))!;
        const attestation = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: child.manifest.config, layers: [] }));
        const attestationDigest = await source.putManifest("attestation", attestation, OCI_MANIFEST);
        const index = Buffer.from(
            JSON.stringify({
                schemaVersion: 2,
                mediaType: OCI_INDEX,
                manifests: [
                    { mediaType: child.mediaType, digest: child.digest, size: child.bytes.length, platform: { architecture: "amd64", os: "linux" } },
                    { mediaType: OCI_MANIFEST, digest: attestationDigest, size: attestation.length, platform: { architecture: "unknown", os: "unknown" }, annotations: { "vnd.docker.reference.type": "attestation-manifest" } },
                ],
            }),
        );
        const indexDigest = await source.putManifest("index", index, OCI_INDEX);
        const ref = `${plain.host}/push-test/index@${indexDigest}`;
        const login = await dockerLogin(plain.host);
        const pulled = await dockerResult(["--config", login, "pull", "--platform", "linux/amd64", ref], 120_000);
        assert.strictEqual(pulled.code, 0, pulled.stderr);
        try {
            if (expectedStore() === "containerd") assert.strictEqual(docker("image", "inspect", "--format", "{{.Descriptor.MediaType}}", ref), OCI_INDEX);
            for (const [registry, manifest] of [[plain.host, "any"], [heroku.host, "docker-v2"]] as const) {
                const repository = `${registry}/push-test/from-index`;
                const out = await push({ ...inputs, source: ref, repository, server: registry, manifest });
                const held = (await new RegistryClient(repository, LOGIN).getManifest(inputs.tag))!;
                assert.ok(!held.manifest.manifests, `${registry}: an index reached the registry`);
                assert.strictEqual(held.digest, out.digest);
                assert.strictEqual(held.manifest.config?.digest, imageId);
                if (manifest === "docker-v2") assert.strictEqual(held.mediaType, MANIFEST_V2);
            }
            assert.ok(heroku.puts.every((p) => p.mediaType === MANIFEST_V2), JSON.stringify(heroku.puts));
        } finally {
            await dockerResult(["image", "rm", ref]);
        }
    });

    it("gives a registry that takes only Docker v2 schema 2 that manifest of the same blobs where the tag holds another kind", async () => {
        // An OCI manifest of these bits under the tag, as the containerd image store pushes them.
        const repository = `${plain.host}/push-test/web`;
        const registry = new RegistryClient(repository, LOGIN);
        await push({ ...inputs, repository, server: plain.host });
        const v2 = (await registry.getManifest(inputs.tag))!;
        const oci = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...v2.manifest.config, mediaType: "application/vnd.oci.image.config.v1+json" }, layers: v2.manifest.layers!.map((l) => ({ ...l, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" })) };
        const ociTag = `${inputs.tag}-oci`;
        await registry.putManifest(ociTag, Buffer.from(JSON.stringify(oci)), OCI_MANIFEST);
        assert.strictEqual((await registry.getManifest(ociTag))?.mediaType, OCI_MANIFEST);

        const out = await push({ ...inputs, repository, server: plain.host, tag: ociTag, manifest: "docker-v2" });
        assert.strictEqual(out.pushed, false);
        assert.strictEqual(out.mediaType, MANIFEST_V2);
        const now = (await registry.getManifest(ociTag, MANIFEST_V2))!;
        assert.strictEqual(now.mediaType, MANIFEST_V2);
        assert.strictEqual(now.digest, out.digest);
        assert.strictEqual(now.manifest.config?.digest, imageId, "the same config digest: the same bits");
        assert.deepStrictEqual(now.manifest.layers?.map((l) => l.digest), oci.layers.map((l) => l.digest));
    });

    it("refuses a tag that holds other bits, naming both digests", async () => {
        const repository = `${plain.host}/push-test/other`;
        const registry = new RegistryClient(repository, LOGIN);
        await push({ ...inputs, repository, server: plain.host });
        const held = (await registry.getManifest(inputs.tag))!;
        const other = `sha256:${"1".repeat(64)}`;
        await assert.rejects(push({ ...inputs, repository, server: plain.host, imageId: other }), (err: Error) => {
            assert.strictEqual(
                err.message,
                `${repository}:${inputs.tag} holds other bits (config digest ${held.manifest.config?.digest}, not ${other}). ` +
                    "Its tag names the image ID it should hold, and a registry with immutable tags cannot move it: delete that image from the repository and run again.",
            );
            return true;
        });
    });

    it("says when the registry refuses the login", async () => {
        await assert.rejects(push({ ...inputs, password: "not-the-token" }), /HTTP 401 — the registry refused the login/);
    });
});
