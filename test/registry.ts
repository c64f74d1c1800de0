/**
 * A real registry for tests: Debian's docker-registry on a loopback port, started and stopped by the
 * test, and a writer that uploads blobs and a Docker v2 schema 2 manifest over the registry API.
 */
import { spawn, spawnSync, type ChildProcess } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { freePort, waitFor } from "./pipeline/docker";

export const MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json";

export function registryAvailable(): boolean {
    return spawnSync("sh", ["-c", "command -v docker-registry"]).status === 0;
}

export class LocalRegistry {
    private proc?: ChildProcess;
    private dir = "";
    host = "";

    async start(): Promise<void> {
        const port = await freePort();
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-registry-"));
        const config = path.join(this.dir, "config.yml");
        fs.writeFileSync(config, `version: 0.1\nlog: { level: error }\nstorage: { filesystem: { rootdirectory: ${this.dir}/data } }\nhttp: { addr: 127.0.0.1:${port} }\n`);
        this.proc = spawn("docker-registry", ["serve", config], { stdio: "ignore" });
        this.host = `127.0.0.1:${port}`;
        await waitFor("docker-registry", 15_000, async () => ((await fetch(`http://${this.host}/v2/`)).ok ? true : undefined));
    }

    async stop(): Promise<void> {
        if (this.proc && this.proc.exitCode === null) {
            const exited = new Promise((r) => this.proc!.once("exit", r));
            this.proc.kill("SIGTERM");
            await exited;
        }
        if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    }

    private async putBlob(repo: string, content: Buffer): Promise<string> {
        const digest = `sha256:${createHash("sha256").update(content).digest("hex")}`;
        const start = await fetch(`http://${this.host}/v2/${repo}/blobs/uploads/`, { method: "POST" });
        const location = new URL(start.headers.get("location")!, `http://${this.host}`);
        location.searchParams.set("digest", digest);
        const put = await fetch(location, { method: "PUT", body: content, headers: { "Content-Type": "application/octet-stream" } });
        if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status}`);
        return digest;
    }

    /** Writes an OCI image index (as a provenance-carrying BuildKit push makes) under `tag`. */
    async writeIndex(repo: string, tag: string, child: { manifestDigest: string }): Promise<string> {
        const manifest = await fetch(`http://${this.host}/v2/${repo}/manifests/${child.manifestDigest}`, { headers: { Accept: MANIFEST_V2 } });
        const size = (await manifest.arrayBuffer()).byteLength;
        const index = Buffer.from(
            JSON.stringify({
                schemaVersion: 2,
                mediaType: "application/vnd.oci.image.index.v1+json",
                manifests: [{ mediaType: MANIFEST_V2, digest: child.manifestDigest, size, platform: { architecture: "amd64", os: "linux" } }],
            }),
        );
        const res = await fetch(`http://${this.host}/v2/${repo}/manifests/${tag}`, { method: "PUT", body: index, headers: { "Content-Type": "application/vnd.oci.image.index.v1+json" } });
        if (res.status !== 201) throw new Error(`index PUT: HTTP ${res.status} ${await res.text()}`);
        return res.headers.get("docker-content-digest")!;
    }

    /** Writes an image (config + one layer) and its v2 manifest; returns config and manifest digests. */
    async writeImage(repo: string, tag: string, seed: string): Promise<{ configDigest: string; manifestDigest: string }> {
        const layer = Buffer.from(`layer for ${seed}`);
        const layerDigest = await this.putBlob(repo, layer);
        const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: { Labels: { seed } }, rootfs: { type: "layers", diff_ids: [layerDigest] } }));
        const configDigest = await this.putBlob(repo, config);
        const manifest = Buffer.from(
            JSON.stringify({
                schemaVersion: 2,
                mediaType: MANIFEST_V2,
                config: { mediaType: "application/vnd.docker.container.image.v1+json", size: config.length, digest: configDigest },
                layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: layer.length, digest: layerDigest }],
            }),
        );
        const res = await fetch(`http://${this.host}/v2/${repo}/manifests/${tag}`, { method: "PUT", body: manifest, headers: { "Content-Type": MANIFEST_V2 } });
        if (res.status !== 201) throw new Error(`manifest PUT: HTTP ${res.status} ${await res.text()}`);
        return { configDigest, manifestDigest: res.headers.get("docker-content-digest")! };
    }
}

/**
 * A registry that, like every real private one, answers only to logins: Debian's docker-registry
 * over HTTPS (the certificate scripts/docker-env.sh made for this run) with htpasswd users. It can
 * restart with other passwords on the same port and storage, as a rotated token looks to a client.
 */
export class SecureRegistry {
    private proc?: ChildProcess;
    private dir = "";
    private port = 0;
    host = "";

    constructor(private users: Readonly<Record<string, string>>) {}

    async start(): Promise<void> {
        const certs = process.env.NODE_EXTRA_CA_CERTS;
        if (!certs) throw new Error("no registry certificate: run through scripts/test.sh (scripts/docker-env.sh makes it)");
        this.port = await freePort();
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-secure-registry-"));
        const tls = path.dirname(certs);
        fs.writeFileSync(
            path.join(this.dir, "config.yml"),
            [
                "version: 0.1",
                "log: { level: error }",
                `storage: { filesystem: { rootdirectory: ${this.dir}/data }, delete: { enabled: true } }`,
                `http: { addr: 127.0.0.1:${this.port}, tls: { certificate: ${tls}/cert.pem, key: ${tls}/key.pem } }`,
                `auth: { htpasswd: { realm: onedigest-test, path: ${this.dir}/htpasswd } }`,
                "",
            ].join("\n"),
        );
        this.host = `127.0.0.1:${this.port}`;
        await this.serve();
    }

    /** Stops, replaces every password, and serves the same images again on the same address. */
    async restart(users: Readonly<Record<string, string>>): Promise<void> {
        await this.halt();
        this.users = users;
        await this.serve();
    }

    async stop(): Promise<void> {
        await this.halt();
        if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    }

    private async serve(): Promise<void> {
        const lines = Object.entries(this.users).map(([user, password]) => {
            const out = spawnSync("htpasswd", ["-Bbn", user, password], { encoding: "utf8" });
            if (out.status !== 0) throw new Error(`htpasswd: ${out.stderr}`);
            return out.stdout.trim();
        });
        fs.writeFileSync(path.join(this.dir, "htpasswd"), `${lines.join("\n")}\n`);
        this.proc = spawn("docker-registry", ["serve", path.join(this.dir, "config.yml")], { stdio: "ignore" });
        // Up when it challenges an anonymous client.
        await waitFor("docker-registry (htpasswd)", 15_000, async () => ((await fetch(`https://${this.host}/v2/`)).status === 401 ? true : undefined));
    }

    private async halt(): Promise<void> {
        if (this.proc && this.proc.exitCode === null) {
            const exited = new Promise((r) => this.proc!.once("exit", r));
            this.proc.kill("SIGTERM");
            await exited;
        }
    }
}
