/**
 * The program's push (registry/operations.ts) against the real Docker engine and real loopback
 * registries: a registry with immutable tags that refuses a tag it holds, even for the same digest
 * (as ECR does), and a plain one. A push of bits the registry already holds is a no-op; a registry
 * that takes only Docker v2 schema 2 gets that manifest of the same blobs; every copy is checked to
 * be the bits deployed.
 */
import * as assert from "assert";

import { MANIFEST_V2, OCI_MANIFEST, RegistryClient } from "../../registry/client";
import { engineAddress, pushImage } from "../../registry/engine";
import { push, type PushInputs } from "../../registry/operations";
import { ImmutableRegistry, REGISTRY_RULES } from "../engine/clouds";
import { SecureRegistry } from "../registry";
import { docker } from "./docker";

const LOGIN = { username: "AWS", password: "push-test-token-0123" };

describe("push: once per registry, a no-op for bits it holds", function () {
    const ecr = new ImmutableRegistry({ name: "ecr", immutableTag: REGISTRY_RULES.ecrImmutableTag, sameDigest: "refuse" }, { [LOGIN.username]: LOGIN.password });
    const plain = new SecureRegistry({ [LOGIN.username]: LOGIN.password });
    let imageId = "";
    let inputs: PushInputs;

    before(async function () {
        assert.ok(process.env.DOCKER_HOST && process.env.ONEDIGEST_BASE_IMAGE, "no engine: run through scripts/test.sh (scripts/docker-env.sh)");
        await ecr.start();
        await plain.start();
        // Any image the engine holds will do: the stand-in base, by its image ID (the config digest).
        imageId = docker("image", "inspect", "--format", "{{.Id}}", process.env.ONEDIGEST_BASE_IMAGE!);
        inputs = {
            source: imageId,
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

    it("pushes nothing when the registry holds those bits (a rollback, a re-promotion), where docker push is refused", async () => {
        const again = await push(inputs);
        assert.strictEqual(again.pushed, false);
        assert.strictEqual(ecr.pushes.length, 1, "no manifest was written again");
        // What a plain push does there: ECR's immutable tag refuses it, even with the same digest.
        await assert.rejects(pushImage(engineAddress(undefined), inputs.repository, inputs.tag, { ...LOGIN, server: ecr.host }), /cannot be overwritten because the repository is immutable/);
    });

    it("gives a registry that takes only Docker v2 schema 2 that manifest of the same blobs", async () => {
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
