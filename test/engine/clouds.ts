/**
 * The fake clouds for one real-engine test file: a PULUMI_HOME of its own holding the suite's
 * Docker provider plugin and the fake `aws` and `gcp` provider plugins (test/engine/fakes), a
 * directory for the fakes' state, two loopback registries that behave like ECR and Artifact
 * Registry (immutable tags), and the environment the Pulumi CLI needs to use them. The test reads
 * the fake clouds' state through `state()` / `table()` and the registries' pushes for its assertions.
 *
 *   const clouds = await FakeClouds.start(scratch);
 *   const env = cliEnv(backend, clouds.env());
 *   …
 *   clouds.table("gcp", "artifactregistry.repositories")
 *   clouds.artifactRegistry.pushes
 *   await clouds.stop();
 */
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";

import { ROOT } from "../mocks";
import { freePort } from "../pipeline/docker";
import { SecureRegistry } from "../registry";
import { PROBES } from "../../providers/gcpApisOperations";
import { Store, type Rule, type StoreData } from "./fakes/framework";
import { ENABLED_SERVICES } from "./fakes/gcp/common";
import { ok, run } from "./cli";

/** The versions the fakes are installed as: the SDKs' (node_modules/@pulumi/aws, @pulumi/gcp). */
export const FAKE_PLUGINS = { aws: "7.48.0", gcp: "9.37.0" } as const;
export type FakeCloud = keyof typeof FAKE_PLUGINS;

/** The suite's Docker provider plugin (scripts/docker-plugin.sh installs it into PULUMI_HOME). */
const DOCKER_PLUGIN = "resource-docker-v5.2.0";

/** The PULUMI_HOME this process runs with, where the suite installed the Docker plugin. */
export function suitePulumiHome(env: NodeJS.ProcessEnv = process.env): string {
    return env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi");
}

/**
 * Makes `home` a PULUMI_HOME with the suite's Docker plugin (links to its files in `from`) and the two
 * fakes, installed as the engine installs any plugin (`pulumi plugin install … --file`).
 */
export async function makePulumiHome(home: string, from: string = suitePulumiHome()): Promise<void> {
    const docker = path.join(from, "plugins", DOCKER_PLUGIN);
    if (!fs.existsSync(path.join(docker, "pulumi-resource-docker"))) {
        throw new Error(`no ${DOCKER_PLUGIN} in ${from}/plugins: install it with bash scripts/docker-plugin.sh "${from}"`);
    }
    // A directory of links to its files: the engine lists plugins as directories and skips a symlink to one.
    const linked = path.join(home, "plugins", DOCKER_PLUGIN);
    fs.mkdirSync(linked, { recursive: true });
    for (const file of fs.readdirSync(docker)) fs.symlinkSync(path.join(docker, file), path.join(linked, file));
    const env = { ...process.env, PULUMI_HOME: home, PULUMI_SKIP_UPDATE_CHECK: "true" };
    for (const [cloud, version] of Object.entries(FAKE_PLUGINS)) {
        const launcher = path.join(ROOT, "test", "engine", "fakes", "bin", cloud);
        ok(await run("pulumi", ["plugin", "install", "resource", cloud, `v${version}`, "--file", launcher], { cwd: home, env }), `pulumi plugin install resource ${cloud} v${version}`);
    }
}

// ---------------------------------------------------------------------------------------------
// Registries with immutable tags.

/**
 * The rules the registry stand-ins enforce on a push, beyond what Debian's docker-registry does
 * itself. Registries answer in the distribution spec's error shape (`{"errors":[{code, message}]}`,
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes).
 */
export const REGISTRY_RULES = {
    ecrImmutableTag: {
        rule: "ECR, imageTagMutability IMMUTABLE: a tag that exists is never pushed again, not even with the same digest",
        error: {
            status: 400,
            code: "TAG_INVALID",
            message: "The image tag '{tag}' already exists in the '{repository}' repository and cannot be overwritten because the repository is immutable.",
        },
        source:
            "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html; the API's ImageTagAlreadyExistsException (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImage.html); the message and code as docker prints them: moby/buildkit#3776, aws/containers-roadmap#862, aws/aws-cli#8671 (a re-run with the same image)",
    },
    artifactRegistryImmutableTag: {
        rule: "Artifact Registry, dockerConfig.immutableTags: a tag that exists cannot be pushed for another digest (the same digest again is no change)",
        error: { status: 400, code: "TAG_INVALID", message: "The repository has enabled tag immutability." },
        source:
            "https://cloud.google.com/artifact-registry/docs/docker/troubleshoot (the message; \"you can't push an image with a tag that is already used by another version of the image\"); https://cloud.google.com/artifact-registry/docs/repositories/update-repo-settings (immutable tags). Status and code are not documented: the distribution spec's TAG_INVALID",
    },
    artifactRegistryNoRepository: {
        rule: "Artifact Registry: an image is pushed only into a repository that exists (creating one is a separate step)",
        error: { status: 404, code: "NAME_UNKNOWN", message: "Repository \"{repository}\" not found" },
        source:
            "https://cloud.google.com/artifact-registry/docs/docker/troubleshoot (\"Unlike Container Registry, creating the repository is a separate operation from pushing the first image\"). The message is not documented: the distribution spec's NAME_UNKNOWN",
    },
} as const satisfies Record<string, Rule>;

/** How one registry stand-in behaves. */
export interface RegistryFlavour {
    readonly name: string;
    /** Refused with this rule when a pushed tag already exists; `sameDigest: "accept"` lets the same bits through again. */
    readonly immutableTag: Rule;
    readonly sameDigest: "refuse" | "accept";
    /** Whether a repository path (`project/repo/image`) may be pushed to; every path when not given. */
    readonly repositoryExists?: (name: string) => { ok: true } | { ok: false; rule: Rule; values: Record<string, string> };
}

/** One manifest PUT the registry saw: what was pushed where, and what it answered. */
export interface Push {
    readonly repository: string;
    readonly reference: string;
    readonly digest: string;
    readonly status: number;
    /** Set when this stand-in refused it (the rule's code). */
    readonly refused?: string;
}

function fill(rule: Rule, values: Record<string, string>): { status: number; body: string } {
    const message = rule.error.message.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
    return { status: rule.error.status, body: JSON.stringify({ errors: [{ code: rule.error.code, message, detail: null }] }) };
}

const MANIFEST_ACCEPT = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
].join(", ");

/**
 * A registry with immutable tags: Debian's docker-registry over HTTPS with htpasswd logins
 * (SecureRegistry), behind a small HTTPS reverse proxy that refuses a manifest PUT to a tag that
 * exists (as `flavour` says) and forwards everything else. Clients use `host` (the proxy).
 */
export class ImmutableRegistry {
    readonly backend: SecureRegistry;
    readonly pushes: Push[] = [];
    host = "";
    private server?: https.Server;
    private ca = "";

    constructor(
        readonly flavour: RegistryFlavour,
        users: Readonly<Record<string, string>>,
    ) {
        this.backend = new SecureRegistry(users);
    }

    async start(): Promise<void> {
        await this.backend.start();
        const certFile = process.env.NODE_EXTRA_CA_CERTS!;
        const tls = path.dirname(certFile);
        this.ca = fs.readFileSync(certFile, "utf8");
        this.server = https.createServer({ cert: fs.readFileSync(path.join(tls, "cert.pem")), key: fs.readFileSync(path.join(tls, "key.pem")) }, (req, res) => {
            this.handle(req, res).catch((err: Error) => {
                if (!res.headersSent) res.writeHead(502, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ errors: [{ code: "UNKNOWN", message: `registry proxy: ${err.message}` }] }));
            });
        });
        const port = await freePort();
        await new Promise<void>((resolve, reject) => {
            this.server!.once("error", reject);
            this.server!.listen(port, "127.0.0.1", () => resolve());
        });
        this.host = `127.0.0.1:${port}`;
    }

    async stop(): Promise<void> {
        if (this.server) {
            this.server.closeAllConnections();
            await new Promise((resolve) => this.server!.close(resolve));
        }
        await this.backend.stop();
    }

    /** The tags of a repository path as the registry lists them (with a login). */
    async tags(name: string, login: { username: string; password: string }): Promise<string[]> {
        const res = await this.upstream("GET", `/v2/${name}/tags/list`, { authorization: basic(login) });
        if (res.status === 404) return [];
        return ((JSON.parse(res.body.toString()) as { tags?: string[] | null }).tags ?? []).sort();
    }

    private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        const url = new URL(req.url ?? "/", `https://${this.host}`);
        const target = /^\/v2\/(.+?)\/(manifests|blobs|tags)\/(.*)$/.exec(url.pathname);
        if (target && this.flavour.repositoryExists && req.headers.authorization) {
            const verdict = this.flavour.repositoryExists(target[1]);
            if (!verdict.ok) return this.answer(res, fill(verdict.rule, verdict.values));
        }
        if (req.method === "PUT" && target?.[2] === "manifests") {
            const body = await readAll(req);
            const [name, reference] = [target[1], target[3]];
            const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
            if (!reference.startsWith("sha256:") && req.headers.authorization) {
                const existing = await this.upstream("HEAD", `/v2/${name}/manifests/${reference}`, { authorization: req.headers.authorization, accept: MANIFEST_ACCEPT });
                const existingDigest = String(existing.headers["docker-content-digest"] ?? "");
                if (existing.status === 200 && (this.flavour.sameDigest === "refuse" || existingDigest !== digest)) {
                    const refusal = fill(this.flavour.immutableTag, { tag: reference, repository: name });
                    this.pushes.push({ repository: name, reference, digest, status: refusal.status, refused: this.flavour.immutableTag.error.code });
                    return this.answer(res, refusal);
                }
            }
            const status = await this.forward(req, res, body);
            this.pushes.push({ repository: name, reference, digest, status });
            return;
        }
        await this.forward(req, res);
    }

    private answer(res: http.ServerResponse, reply: { status: number; body: string }): void {
        res.writeHead(reply.status, { "Content-Type": "application/json", "Docker-Distribution-Api-Version": "registry/2.0" });
        res.end(reply.body);
    }

    /** Passes a request to docker-registry with its Host header, so the URLs it answers with point here. */
    private forward(req: http.IncomingMessage, res: http.ServerResponse, body?: Buffer): Promise<number> {
        return new Promise((resolve, reject) => {
            const up = https.request(
                { host: "127.0.0.1", port: Number(this.backend.host.split(":")[1]), method: req.method, path: req.url, headers: req.headers, ca: this.ca, servername: "localhost" },
                (upRes) => {
                    res.writeHead(upRes.statusCode ?? 502, upRes.headers);
                    upRes.pipe(res);
                    upRes.on("end", () => resolve(upRes.statusCode ?? 502));
                },
            );
            up.on("error", reject);
            if (body) up.end(body);
            else req.pipe(up);
        });
    }

    private upstream(method: string, pathname: string, headers: http.OutgoingHttpHeaders): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
        return new Promise((resolve, reject) => {
            const up = https.request({ host: "127.0.0.1", port: Number(this.backend.host.split(":")[1]), method, path: pathname, headers: { ...headers, host: this.host }, ca: this.ca, servername: "localhost" }, (res) => {
                readAll(res).then((body) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }), reject);
            });
            up.on("error", reject);
            up.end();
        });
    }
}

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => resolve(Buffer.concat(chunks)));
        stream.on("error", reject);
    });
}

export function basic(login: { username: string; password: string }): string {
    return `Basic ${Buffer.from(`${login.username}:${login.password}`).toString("base64")}`;
}

/**
 * Google's APIs as the program's readiness check (providers/gcpApisOperations.ts) reads them: an
 * API answers once the fake gcp store has it enabled for the project, and before that 403
 * PERMISSION_DENIED, reason SERVICE_DISABLED, with the message Google gives ("… has not been used in
 * project … before or it is disabled …": https://cloud.google.com/service-usage/docs/troubleshooting;
 * the body shape of https://cloud.google.com/apis/design/errors). A path is `/<service>/<API path>`;
 * the stack reaches it through the Google provider's custom endpoint settings (gcpConfig()).
 */
export class GoogleApis {
    host = "";
    readonly requests: string[] = [];
    private server?: https.Server;

    constructor(private readonly gcpStore: Store) {}

    async start(): Promise<void> {
        const tls = path.dirname(process.env.NODE_EXTRA_CA_CERTS!);
        this.server = https.createServer({ cert: fs.readFileSync(path.join(tls, "cert.pem")), key: fs.readFileSync(path.join(tls, "key.pem")) }, (req, res) => {
            const url = new URL(req.url ?? "/", "https://x");
            const [service, , project] = url.pathname.split("/").slice(1);
            this.requests.push(`${req.method} ${url.pathname}`);
            const enabled = (this.gcpStore.snapshot().tables[ENABLED_SERVICES] ?? {})[`${project}/${service}`] !== undefined;
            if (enabled) return void res.writeHead(200, { "content-type": "application/json" }).end("{}");
            const message = `${service} has not been used in project ${project} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/${service}/overview?project=${project} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.`;
            res.writeHead(403, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: 403, message, status: "PERMISSION_DENIED", details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "SERVICE_DISABLED" }] } }));
        });
        const port = await freePort();
        await new Promise<void>((resolve, reject) => {
            this.server!.once("error", reject);
            this.server!.listen(port, "127.0.0.1", () => resolve());
        });
        this.host = `127.0.0.1:${port}`;
    }

    async stop(): Promise<void> {
        if (!this.server) return;
        this.server.closeAllConnections();
        await new Promise((resolve) => this.server!.close(resolve));
    }

    /** The Google provider's custom endpoint settings that point the readiness check here. */
    config(): Record<string, string> {
        return Object.fromEntries(Object.entries(PROBES).map(([service, probe]) => [`gcp:${probe.configKey}`, `https://${this.host}/${service}/`]));
    }
}

// ---------------------------------------------------------------------------------------------
// The clouds.

/** The logins the registry stand-ins accept: ECR's `AWS` and Artifact Registry's `oauth2accesstoken`, with this run's tokens. */
export interface CloudLogins {
    readonly ecr: { readonly username: "AWS"; readonly password: string };
    readonly artifactRegistry: { readonly username: "oauth2accesstoken"; readonly password: string };
}

export class FakeClouds {
    private constructor(
        /** The PULUMI_HOME the CLI gets. */
        readonly home: string,
        /** Where the fakes keep their state: one JSON store per cloud. */
        readonly storeDir: string,
        readonly logins: CloudLogins,
        /** Stands in for ECR: what the fake aws provider's repositoryUrl and getAuthorizationToken point at. */
        readonly ecr: ImmutableRegistry,
        /** Stands in for Artifact Registry: what the fake gcp provider's registryUri points at. */
        readonly artifactRegistry: ImmutableRegistry,
        /** Stands in for the APIs the program polls after enabling them. */
        readonly googleApis: GoogleApis,
        private readonly scratch: string,
        private readonly ownsScratch: boolean,
    ) {}

    /**
     * A PULUMI_HOME with the fakes, an empty store and the two registries, under `scratch` (a
     * temporary directory when not given). The registries need the engine environment
     * (scripts/docker-env.sh: NODE_EXTRA_CA_CERTS and its key).
     */
    static async start(scratch?: string): Promise<FakeClouds> {
        const dir = scratch ?? fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-clouds-"));
        const home = path.join(dir, "pulumi-home");
        const storeDir = path.join(dir, "clouds");
        fs.mkdirSync(storeDir, { recursive: true });
        await makePulumiHome(home);
        const token = (prefix: string) => `${prefix}-${randomBytes(12).toString("hex")}`;
        const logins: CloudLogins = {
            ecr: { username: "AWS", password: token("ecr-token") },
            artifactRegistry: { username: "oauth2accesstoken", password: token("ya29.fake") },
        };
        const gcpStore = new Store(path.join(storeDir, "gcp.json"));
        const ecr = new ImmutableRegistry({ name: "ecr", immutableTag: REGISTRY_RULES.ecrImmutableTag, sameDigest: "refuse" }, { AWS: logins.ecr.password });
        const artifactRegistry = new ImmutableRegistry(
            {
                name: "artifact-registry",
                immutableTag: REGISTRY_RULES.artifactRegistryImmutableTag,
                sameDigest: "accept",
                // `project/repository/image…`: the repository must exist in the fake gcp store.
                repositoryExists: (name) => {
                    const [project, repositoryId] = name.split("/");
                    const repositories = Object.values(gcpStore.snapshot().tables["artifactregistry.repositories"] ?? {});
                    return repositories.some((r) => r.project === project && r.repositoryId === repositoryId)
                        ? { ok: true }
                        : { ok: false, rule: REGISTRY_RULES.artifactRegistryNoRepository, values: { repository: `${project}/${repositoryId ?? ""}` } };
                },
            },
            { oauth2accesstoken: logins.artifactRegistry.password },
        );
        const googleApis = new GoogleApis(gcpStore);
        await ecr.start();
        await artifactRegistry.start();
        await googleApis.start();
        return new FakeClouds(home, storeDir, logins, ecr, artifactRegistry, googleApis, dir, scratch === undefined);
    }

    /**
     * What the CLI's environment needs (pass to cliEnv): the PULUMI_HOME, where the fakes find their
     * code and state, and the registries and logins the fakes hand out.
     */
    env(): NodeJS.ProcessEnv {
        return {
            PULUMI_HOME: this.home,
            ONEDIGEST_FAKES_ROOT: ROOT,
            ONEDIGEST_FAKE_STORE: this.storeDir,
            ONEDIGEST_FAKE_AWS_REGISTRY: this.ecr.host,
            ONEDIGEST_FAKE_AWS_PASSWORD: this.logins.ecr.password,
            ONEDIGEST_FAKE_GCP_REGISTRY: this.artifactRegistry.host,
            ONEDIGEST_FAKE_GCP_TOKEN: this.logins.artifactRegistry.password,
        };
    }

    /** A fake cloud's state as it is now. */
    state(cloud: FakeCloud): StoreData {
        return this.store(cloud).snapshot();
    }

    /** One table of a fake cloud's state: records by key. */
    table<T = Record<string, unknown>>(cloud: FakeCloud, name: string): Record<string, T> {
        return (this.state(cloud).tables[name] ?? {}) as Record<string, T>;
    }

    /** Moves a fake cloud's clock forward (for rules that hold a name for a period). */
    advanceClock(cloud: FakeCloud, ms: number): void {
        this.store(cloud).transact((db) => db.advanceClock(ms));
    }

    /** Stack config every stack on the fakes needs: where the Google provider's APIs are. */
    gcpConfig(): Record<string, string> {
        return this.googleApis.config();
    }

    async stop(): Promise<void> {
        await this.ecr.stop();
        await this.artifactRegistry.stop();
        await this.googleApis.stop();
        if (this.ownsScratch) fs.rmSync(this.scratch, { recursive: true, force: true });
    }

    private store(cloud: FakeCloud): Store {
        return new Store(path.join(this.storeDir, `${cloud}.json`));
    }
}
