/** The push's pure parts: what replaces it, where the engine is, who pushes, and manifests as registries hold them. */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { MANIFEST_V2, OCI_INDEX, OCI_MANIFEST, challengeParams, platformEntry, splitDigestRef, splitRepository, toDockerV2, type FetchedManifest } from "../registry/client";
import { engineAddress, registryAuthHeader } from "../registry/engine";
import { untar } from "../registry/export";
import { PUSH_IDENTITY, diffPush, pushRoute, type PushInputs } from "../registry/operations";

const BASE: PushInputs = {
    source: "sha256:a",
    imageId: `sha256:${"a".repeat(64)}`,
    repository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app",
    tag: `sha256-${"a".repeat(64)}`,
    platform: "linux/amd64",
    manifest: "any",
    server: "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    username: "AWS",
    password: "token-one",
};

describe("push: what a change means", () => {
    it("a rotated login, another engine or another local name for the same bits changes nothing", () => {
        for (const news of [{ ...BASE, password: "token-two" }, { ...BASE, username: "other" }, { ...BASE, dockerHost: "tcp://127.0.0.1:2375" }, { ...BASE, source: "sha256:b" }, { ...BASE, server: "other" }]) {
            assert.deepStrictEqual(diffPush(BASE, news), { changes: false, replaces: [] });
        }
    });

    it("other bits or another place is a new push (a replacement), field by field", () => {
        assert.deepStrictEqual([...PUSH_IDENTITY], ["imageId", "repository", "tag", "platform", "manifest"]);
        for (const field of PUSH_IDENTITY) {
            const news = { ...BASE, [field]: `${String(BASE[field])}-other` } as PushInputs;
            assert.deepStrictEqual(diffPush(BASE, news), { changes: true, replaces: [field] }, field);
        }
    });
});

describe("push: the engine it talks to", () => {
    const none = () => undefined;

    it("docker:host first, then DOCKER_HOST, then the CLI's context, then the default socket", () => {
        assert.deepStrictEqual(engineAddress("unix:///run/a.sock", { DOCKER_HOST: "unix:///run/b.sock" }, () => "unix:///run/c.sock"), { socketPath: "/run/a.sock" });
        assert.deepStrictEqual(engineAddress(undefined, { DOCKER_HOST: "unix:///run/b.sock" }, () => "unix:///run/c.sock"), { socketPath: "/run/b.sock" });
        assert.deepStrictEqual(engineAddress(undefined, {}, () => "unix:///run/c.sock"), { socketPath: "/run/c.sock" });
        assert.deepStrictEqual(engineAddress(undefined, {}, none), { socketPath: "/var/run/docker.sock" });
    });

    it("tcp:// with and without TLS, and a clear refusal of other schemes", () => {
        assert.deepStrictEqual(engineAddress("tcp://10.0.0.5:2375", {}, none), { host: "10.0.0.5", port: 2375 });
        const tls = engineAddress("tcp://docker.internal:2376", { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/nonexistent" }, none);
        assert.deepStrictEqual(tls, { host: "docker.internal", port: 2376, tls: { ca: undefined, cert: undefined, key: undefined } });
        assert.throws(() => engineAddress("ssh://me@host", {}, none), /^EngineError: the Docker engine address ssh:\/\/me@host is neither unix:\/\/ nor tcp:\/\/host:port; set docker:host or DOCKER_HOST to one$/);
    });

    it("sends the login as the engine decodes X-Registry-Auth: URL-safe base64 with padding", () => {
        const header = registryAuthHeader({ username: "u?", password: "p>", serveraddress: "r" });
        assert.ok(!/[+/]/.test(header));
        assert.strictEqual(header.length % 4, 0);
        assert.deepStrictEqual(JSON.parse(Buffer.from(header, "base64url").toString()), { username: "u?", password: "p>", serveraddress: "r" });
    });
});

describe("push: manifests as registries hold them", () => {
    const config = { mediaType: "application/vnd.oci.image.config.v1+json", digest: `sha256:${"c".repeat(64)}`, size: 10 };
    const gzip = { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: `sha256:${"d".repeat(64)}`, size: 20 };

    it("an OCI manifest of gzip layers becomes Docker v2 schema 2 of the same blobs", () => {
        const v2 = JSON.parse(toDockerV2({ schemaVersion: 2, config, layers: [gzip, { ...gzip, mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip" }] }).toString());
        assert.deepStrictEqual(v2, {
            schemaVersion: 2,
            mediaType: MANIFEST_V2,
            config: { mediaType: "application/vnd.docker.container.image.v1+json", size: 10, digest: config.digest },
            layers: [
                { mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 20, digest: gzip.digest },
                { mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 20, digest: gzip.digest },
            ],
        });
    });

    it("a zstd layer or an index has no Docker v2 schema 2 form", () => {
        assert.throws(() => toDockerV2({ config, layers: [{ ...gzip, mediaType: "application/vnd.oci.image.layer.v1.tar+zstd" }] }), /layer sha256:d+ is application\/vnd\.oci\.image\.layer\.v1\.tar\+zstd, which has no Docker v2 schema 2 media type \(build with gzip layers\)/);
        assert.throws(() => toDockerV2({ manifests: [] }), /not an image manifest/);
    });

    it("finds a platform's image in an index, past attestation manifests", () => {
        const index = {
            mediaType: OCI_INDEX,
            manifests: [
                { digest: "sha256:att", size: 1, platform: { os: "unknown", architecture: "unknown" } },
                { digest: "sha256:arm", size: 1, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
                { digest: "sha256:amd", size: 1, platform: { os: "linux", architecture: "amd64" } },
            ],
        };
        const fetched: FetchedManifest = { digest: "sha256:i", mediaType: OCI_INDEX, manifest: index, bytes: Buffer.from("") };
        assert.strictEqual(platformEntry(fetched, "linux/amd64")?.digest, "sha256:amd");
        assert.strictEqual(platformEntry(fetched, "linux/arm64")?.digest, "sha256:arm");
        assert.strictEqual(platformEntry(fetched, "linux/arm64/v7"), undefined);
        assert.strictEqual(platformEntry(fetched, "linux/s390x"), undefined);
    });

    it("reads a repository's host and a Bearer challenge's parameters", () => {
        assert.deepStrictEqual(splitRepository("127.0.0.1:5000/team/app"), { host: "127.0.0.1:5000", path: "team/app" });
        assert.throws(() => splitRepository("app"), /not a repository with a registry host: app/);
        assert.deepStrictEqual(challengeParams('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'), {
            realm: "https://auth.example/token",
            service: "registry.example",
            scope: "repository:a/b:pull,push",
        });
    });
});

describe("push: who pushes, on each of Docker's image stores", () => {
    const digest = `sha256:${"f".repeat(64)}`;
    const stored = (mediaType: string) => ({ id: digest, descriptor: { mediaType, digest } });

    it("the engine, where it keeps no manifest (classic) or keeps one the registry takes", () => {
        assert.strictEqual(pushRoute({ id: digest }, "any"), "engine");
        assert.strictEqual(pushRoute({ id: digest }, "docker-v2"), "engine");
        assert.strictEqual(pushRoute(stored(MANIFEST_V2), "docker-v2"), "engine");
        assert.strictEqual(pushRoute(stored(OCI_MANIFEST), "any"), "engine");
    });

    it("the program, from the engine's export, for an OCI manifest where only Docker v2 is taken, and for any index", () => {
        assert.strictEqual(pushRoute(stored(OCI_MANIFEST), "docker-v2"), "copy");
        for (const index of [OCI_INDEX, "application/vnd.docker.distribution.manifest.list.v2+json"]) {
            assert.strictEqual(pushRoute(stored(index), "any"), "copy", index);
            assert.strictEqual(pushRoute(stored(index), "docker-v2"), "copy", index);
        }
    });
});

describe("push: a reference by digest, read from its registry", () => {
    it("splits host/path@sha256 and refuses anything else", () => {
        const digest = `sha256:${"a".repeat(64)}`;
        assert.deepStrictEqual(splitDigestRef(`127.0.0.1:5000/team/app@${digest}`), { repository: "127.0.0.1:5000/team/app", digest });
        for (const ref of [`app@${digest}`, "r.example.com/app:v1", `r.example.com/app@${digest}0`]) assert.throws(() => splitDigestRef(ref), /not a registry reference by digest/, ref);
    });
});

describe("push: the engine's export, unpacked", () => {
    let dir = "";
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-untar-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** A tar made by Python's tarfile (`format` pax or gnu), streamed in `chunk`-byte pieces. */
    function tarOf(files: Record<string, string>, format: "PAX_FORMAT" | "GNU_FORMAT", chunk: number): AsyncIterable<Buffer> {
        const script = `import io,json,sys,tarfile
files=json.loads(sys.argv[1])
out=io.BytesIO()
with tarfile.open(fileobj=out,mode="w",format=tarfile.${format}) as t:
    for name,text in files.items():
        data=text.encode()
        info=tarfile.TarInfo(name); info.size=len(data); t.addfile(info,io.BytesIO(data))
sys.stdout.buffer.write(out.getvalue())`;
        const bytes = execFileSync("python3", ["-c", script, JSON.stringify(files)]);
        return (async function* () {
            for (let at = 0; at < bytes.length; at += chunk) yield bytes.subarray(at, at + chunk);
        })();
    }

    it("writes every file, long names (pax and GNU) and entries split across chunks included", async () => {
        const long = `blobs/sha256/${"b".repeat(120)}`;
        const files = { "index.json": "{}", [long]: "x".repeat(1500), "blobs/sha256/empty": "" };
        for (const format of ["PAX_FORMAT", "GNU_FORMAT"] as const) {
            for (const chunk of [7, 512, 100_000]) {
                fs.rmSync(dir, { recursive: true, force: true });
                fs.mkdirSync(dir);
                await untar(tarOf(files, format, chunk), dir);
                for (const [name, text] of Object.entries(files)) assert.strictEqual(fs.readFileSync(path.join(dir, name), "utf8"), text, `${format}, ${chunk}: ${name}`);
            }
        }
    });

    it("refuses an entry outside its directory, and a tar cut short", async () => {
        await assert.rejects(untar(tarOf({ "../escape": "x" }, "PAX_FORMAT", 512), dir), /the image export holds an entry outside its directory: \.\.\/escape/);
        const cut = (async function* () {
            for await (const piece of tarOf({ "index.json": "y".repeat(2000) }, "PAX_FORMAT", 1024)) {
                yield piece;
                return;
            }
        })();
        await assert.rejects(untar(cut, dir), /the image export ended inside a tar entry/);
    });
});
