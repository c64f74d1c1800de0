/**
 * One mocks module for every program test: records each registered resource (type, name, inputs),
 * answers provider invokes with realistic shapes, and runs the program under a given stack config.
 */
import { createHash } from "crypto";
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";

import { projectRoot } from "../config";
import { engineProbe } from "../providers/local";

/** Where the program's modules are (the repo, or bin/ when precompiled). */
export const ROOT = path.resolve(__dirname, "..");

export interface Recorded {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, unknown>;
    readonly id: string;
    /** The provider reference (`urn::id`) an explicit provider was given as. */
    readonly provider?: string;
}

export interface Invoke {
    readonly token: string;
    readonly inputs: Record<string, unknown>;
}

export const hex = (seed: string): string => createHash("sha256").update(seed).digest("hex");

/** What a mocked StackReference exports (for promotion tests). */
export interface StackOutputs {
    readonly [stack: string]: Record<string, unknown>;
}

export interface MockOptions {
    /** Outputs of other stacks, by stack name. */
    readonly stacks?: StackOutputs;
    /**
     * Image ID a pulled RemoteImage reports, by ref; default: what the engine's store reports for
     * that pull (the classic store: the config digest its registry names; containerd: the ref's digest).
     */
    readonly pulledIds?: Readonly<Record<string, string>>;
    /** The engine's image store, as the Docker resources report IDs. @default "classic" */
    readonly store?: "classic" | "containerd";
    /** Registry answers that replace the registry's own, by `repository@digest`: the bytes it sends. */
    readonly manifests?: Readonly<Record<string, Buffer>>;
    /** Output state that replaces the defaults below, by resource type. */
    readonly states?: Readonly<Record<string, (name: string, inputs: Record<string, unknown>) => Record<string, unknown>>>;
    /** Invoke results that replace the defaults below, by token. */
    readonly invokes?: Readonly<Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>>>;
    /** The API version the local target's engine answers (null: it does not answer). @default "1.51" (Docker 28) */
    readonly engineApiVersion?: string | null;
}

/**
 * An invoke's failure as the program sees a provider's: the SDK reads a failed call's message from
 * its gRPC `details` (a mock's thrown Error reaches the program with an empty message otherwise).
 */
export function invokeError(message: string): Error {
    return Object.assign(new Error(message), { details: message });
}

/** The registry every mocked run reads (a pinned or promoted ref's manifest): manifests by `repository@digest`. */
const REGISTRY = new Map<string, Buffer>();
const MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json";

/**
 * A reference by digest to an image the mocks' registry holds: a Docker v2 schema 2 manifest naming
 * `configDigest`, whose digest is the sha256 of its bytes, as every registry's is.
 */
export function registryRef(repository: string, configDigest: string): string {
    const bytes = Buffer.from(
        JSON.stringify({
            schemaVersion: 2,
            mediaType: MANIFEST_V2,
            config: { mediaType: "application/vnd.docker.container.image.v1+json", size: 1024, digest: configDigest },
            layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 2048, digest: `sha256:${hex(`layer:${configDigest}`)}` }],
        }),
    );
    const ref = `${repository}@${sha256(bytes)}`;
    REGISTRY.set(ref, bytes);
    return ref;
}

function sha256(bytes: Buffer): string {
    return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** One manifest request the program sent to a registry. */
export interface RegistryRead {
    readonly url: string;
    readonly authorization?: string;
}

export class RecordingMocks implements pulumi.runtime.Mocks {
    readonly resources: Recorded[] = [];
    /** Logical names each resource was registered as depending on (dependsOn and input dependencies). */
    readonly dependencies = new Map<string, string[]>();
    /** Resource options that change what the engine does on update, replace and destroy, by logical name. */
    readonly lifecycle = new Map<string, { retainOnDelete: boolean; deleteBeforeReplace: boolean; ignoreChanges: string[]; additionalSecretOutputs: string[]; importId: string }>();
    /** What each component registered as its outputs (`registerOutputs`), by logical name. */
    readonly componentOutputs = new Map<string, Record<string, unknown>>();
    /** The logical name of each resource's parent (the stack's, `onedigest-<stack>`, for top-level ones). */
    readonly parents = new Map<string, string>();
    /** What each resource's provider answered (its outputs), by logical name. */
    readonly state = new Map<string, Record<string, unknown>>();
    readonly invokes: Invoke[] = [];
    /** Every manifest request to a registry, in order. */
    readonly registryReads: RegistryRead[] = [];
    /** The engine's IDs of the images it holds, by the names they were built, pulled or tagged as. */
    private readonly engineIds = new Map<string, string>();

    constructor(private readonly options: MockOptions = {}) {}

    /** Records the engine's ID of an image built, pulled or tagged, by the name the engine resolves. */
    private holdImage(type: string, inputs: Record<string, unknown>, state: Record<string, unknown>): void {
        const containerd = this.options.store === "containerd";
        if (type === "docker:index/image:Image" && typeof state.repoDigest === "string") {
            // The classic store's ID is the config digest; the containerd store's, the manifest's.
            this.engineIds.set(String(inputs.imageName), containerd ? `sha256:${hex(`manifest:${state.repoDigest}`)}` : state.repoDigest);
        } else if (type === "docker:index/remoteImage:RemoteImage") {
            this.engineIds.set(String(inputs.name), String(state.imageId));
        } else if (type === "docker:index/tag:Tag") {
            this.engineIds.set(String(inputs.targetImage), String(state.sourceImageId));
        }
    }

    /** A registry's answer to GET /v2/<path>/manifests/<digest>: the manifest it holds, or 404. */
    registryFetch(url: string, headers: Record<string, string>): Response {
        this.registryReads.push({ url, authorization: headers.Authorization ?? headers.authorization });
        const match = /^https:\/\/([^/]+)\/v2\/(.+)\/manifests\/(sha256:[0-9a-f]{64})$/.exec(url);
        const ref = match ? `${match[1]}/${match[2]}@${match[3]}` : "";
        const bytes = this.options.manifests?.[ref] ?? REGISTRY.get(ref);
        if (!match || !bytes) return new Response(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }), { status: 404 });
        const type = (JSON.parse(bytes.toString()) as { mediaType?: string }).mediaType ?? MANIFEST_V2;
        return new Response(bytes, { status: 200, headers: { "Content-Type": type, "Docker-Content-Digest": match[3] } });
    }

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, unknown> } {
        const inputs = args.inputs as Record<string, unknown>;
        const id = `${args.name}-id`;
        this.resources.push({ type: args.type, name: args.name, inputs, id, provider: args.provider });
        const state = this.options.states?.[args.type]?.(args.name, inputs) ?? this.outputsFor(args.type, args.name, inputs);
        this.state.set(args.name, state);
        this.holdImage(args.type, inputs, state);
        return { id, state: { ...inputs, ...state } };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        const inputs = args.inputs as Record<string, unknown>;
        this.invokes.push({ token: args.token, inputs });
        const override = this.options.invokes?.[args.token];
        if (override) return override(inputs);
        switch (args.token) {
            case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
                return {
                    userName: "AWS",
                    password: "ecr-password-from-token",
                    authorizationToken: Buffer.from("AWS:ecr-password-from-token").toString("base64"),
                    proxyEndpoint: "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
                    registryId: "123456789012",
                    expiresAt: "2030-01-01T00:00:00Z",
                };
            case "aws:ec2/getVpc:getVpc":
                return { id: "vpc-0default", cidrBlock: "172.31.0.0/16", default: true };
            case "aws:ec2/getVpcs:getVpcs":
                return { ids: ["vpc-0default"], id: "eu-west-1" };
            case "aws:ec2/getSubnets:getSubnets":
                return { ids: ["subnet-a", "subnet-b", "subnet-c"] };
            case "aws:ec2/getSubnet:getSubnet":
                // Subnets named …a, …b, … are in zones eu-west-1a, -1b, …
                return { id: inputs.id, availabilityZone: `eu-west-1${String(inputs.id).slice(-1)}`, vpcId: "vpc-0123456789abcdef0" };
            case "aws:elasticbeanstalk/getSolutionStack:getSolutionStack":
                return { id: "stack", name: "64bit Amazon Linux 2023 v4.4.1 running Docker" };
            case "aws:index/getCallerIdentity:getCallerIdentity":
                return { accountId: "123456789012", arn: "arn:aws:iam::123456789012:user/ci", userId: "AIDA" };
            case "aws:index/getRegion:getRegion":
                return { name: "eu-west-1", region: "eu-west-1", id: "eu-west-1" };
            case "aws:index/getPartition:getPartition":
                return { partition: "aws", dnsSuffix: "amazonaws.com" };
            case "aws:elb/getServiceAccount:getServiceAccount":
                return { arn: "arn:aws:iam::156460612806:root", id: "156460612806" };
            case "gcp:organizations/getClientConfig:getClientConfig":
                return { accessToken: "ya29.short-lived-token", project: "p", region: "r", zone: "z", id: "x" };
            // A fresh account: nothing an earlier destroy retained (tests that adopt override these).
            // As the providers say it (the AWS SDK's retry.NotFoundError; Google's 404).
            case "aws:ecr/getRepository:getRepository":
                throw invokeError(`reading ECR Repository (${String(inputs.name)}): couldn't find resource`);
            case "aws:secretsmanager/getSecret:getSecret":
                throw invokeError(`reading Secrets Manager Secret (${String(inputs.name)}): couldn't find resource`);
            case "gcp:artifactregistry/getRepository:getRepository":
                throw invokeError("googleapi: Error 404: Requested entity was not found.");
            case "gcp:organizations/getProject:getProject":
                return { number: "987654321", projectId: inputs.projectId ?? "p", name: "p" };
            default:
                return inputs;
        }
    }

    private outputsFor(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
        switch (type) {
            case "docker:index/image:Image":
                // A local (skipPush) image: repoDigest is the image ID, the config digest, on either store.
                return { repoDigest: `sha256:${hex(`image-config:${name}`)}`, imageName: inputs.imageName };
            case "docker:index/remoteImage:RemoteImage": {
                const ref = String(inputs.name);
                const held = REGISTRY.get(ref);
                const configDigest = held ? (JSON.parse(held.toString()) as { config: { digest: string } }).config.digest : `sha256:${hex(`pulled:${ref}`)}`;
                const imageId = this.options.pulledIds?.[ref] ?? (this.options.store === "containerd" ? ref.slice(ref.indexOf("@") + 1) : configDigest);
                return { imageId, repoDigest: ref, name: ref };
            }
            case "docker:index/tag:Tag": {
                // The engine's ID of what was tagged, as kreuzwerker's Tag reads it after tagging.
                const sourceImageId = this.engineIds.get(String(inputs.sourceImage));
                if (!sourceImageId) throw new Error(`docker tag ${String(inputs.sourceImage)}: the mocked engine holds no such image`);
                return { sourceImageId };
            }
            case "pulumi-nodejs:dynamic/registry:Push": {
                // The registry's manifest digest for this repository and tag (the push reads it back).
                const digest = `sha256:${hex(`manifest:${String(inputs.repository)}:${String(inputs.tag)}`)}`;
                return { digest, ref: `${String(inputs.repository)}@${digest}`, mediaType: "application/vnd.docker.distribution.manifest.v2+json", pushed: true };
            }
            case "pulumi-nodejs:dynamic/registry:Signature":
                return { sbomDigest: `sha256:${hex(`sbom:${String(inputs.ref)}`)}`, sbomComponents: 42 };
            case "docker:index/container:Container":
                return { containerLogs: "" };
            case "pulumi:pulumi:StackReference": {
                const outputs = this.options.stacks?.[String(inputs.name ?? name)] ?? {};
                return { outputs, secretOutputNames: [] };
            }
            case "pulumi-nodejs:dynamic/heroku:App":
                return { appId: `app-${hex(String(inputs.name)).slice(0, 8)}`, webUrl: `https://${String(inputs.name)}-0123456789ab.herokuapp.com/` };
            case "pulumi-nodejs:dynamic/onedigest:GeneratedSecret":
                return { value: `generated-${hex(name).slice(0, 32)}` };
            case "pulumi-nodejs:dynamic/heroku:Release":
                return { releaseId: "release-1", version: 1, status: "succeeded" };
            case "aws:ecr/repository:Repository":
                return { repositoryUrl: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${String(inputs.name ?? name)}`, arn: `arn:aws:ecr:eu-west-1:123456789012:repository/${name}`, registryId: "123456789012" };
            case "aws:lb/loadBalancer:LoadBalancer":
                return { dnsName: `${name}-123.eu-west-1.elb.amazonaws.com`, arn: `arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/${name}`, arnSuffix: `app/${name}/1`, zoneId: "Z32O12XQLNTSW2" };
            case "aws:ecs/expressGatewayService:ExpressGatewayService": {
                // Express makes the endpoint: two letters of the name, a dash, 32 hex, on its own domain.
                const serviceName = String(inputs.serviceName ?? name);
                return {
                    serviceArn: `arn:aws:ecs:eu-west-1:123456789012:service/default/${serviceName}`,
                    cluster: "default",
                    ingressPaths: [{ accessType: "PUBLIC", endpoint: `https://${serviceName.slice(0, 2)}-${hex(serviceName).slice(0, 32)}.ecs.eu-west-1.on.aws` }],
                };
            }
            case "aws:lb/targetGroup:TargetGroup":
                return { arn: `arn:aws:mock:eu-west-1:123456789012:lb/targetGroup/${name}`, name: inputs.name ?? `${name}-physical`, arnSuffix: `targetgroup/${String(inputs.name ?? name)}/1` };
            case "aws:elasticbeanstalk/environment:Environment":
                // An environment with an Application Load Balancer reports it by ARN.
                return {
                    cname: `${name}.eu-west-1.elasticbeanstalk.com`,
                    endpointUrl: `awseb-${name}.elb.amazonaws.com`,
                    loadBalancers: [`arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/awseb-${name}/0123456789abcdef`],
                    autoscalingGroups: [`awseb-${name}-AWSEBAutoScalingGroup`],
                };
            case "gcp:monitoring/notificationChannel:NotificationChannel":
                return { name: `projects/onedigest-test/notificationChannels/${hex(name).slice(0, 19)}` };
            case "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig":
                return { uptimeCheckId: `${name}-${hex(name).slice(0, 8)}`, name: `projects/onedigest-test/uptimeCheckConfigs/${name}-${hex(name).slice(0, 8)}` };
            case "gcp:cloudrunv2/service:Service":
                return { uri: `https://${String(inputs.name ?? name)}-abc123-ew.a.run.app` };
            case "gcp:secretmanager/secret:Secret":
                return { name: `projects/987654321/secrets/${String(inputs.secretId ?? name)}` };
            case "aws:secretsmanager/secretVersion:SecretVersion": {
                // A version per value, as Secrets Manager gives each PutSecretValue: a rotation is a new ID.
                const h = hex(`version:${JSON.stringify(reveal(inputs.secretString))}`);
                return { versionId: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`, arn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}` };
            }
            case "gcp:secretmanager/secretVersion:SecretVersion":
                return { version: "1", name: `projects/987654321/secrets/x/versions/1` };
            case "gcp:serviceaccount/account:Account":
                return { email: `${String(inputs.accountId)}@${String(inputs.project ?? "p")}.iam.gserviceaccount.com` };
            case "gcp:artifactregistry/repository:Repository":
                return { name: String(inputs.repositoryId ?? name), registryUri: `${String(inputs.location)}-docker.pkg.dev/${String(inputs.project)}/${String(inputs.repositoryId ?? name)}` };
            default:
                // AWS auto-names resources the program leaves unnamed; the mock does the same.
                return type.startsWith("aws:") ? { arn: `arn:aws:mock:eu-west-1:123456789012:${type.split(":")[1]}/${name}`, name: inputs.name ?? `${name}-physical` } : {};
        }
    }
}

/**
 * Resolves an Output (or plain value) once the mocked engine has settled it; rejects when the
 * output failed (an error thrown inside apply), instead of hanging.
 */
export function promiseOf<T>(value: pulumi.Input<T>): Promise<T> {
    // Output keeps its settled value behind an internal promise(); it is the only way to see failures.
    return (pulumi.output(value) as unknown as { promise(): Promise<T> }).promise();
}

/** Project keys from a stack file, as the engine passes them to the program (`project:key` → string). */
export function stackFileConfig(stack: string): Record<string, unknown> {
    const file = path.join(projectRoot(), `Pulumi.${stack}.yaml`);
    const parsed = parseYaml(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
    return parsed.config ?? {};
}

/** Config in the engine's shape: each value a string, objects as JSON. */
export function engineConfig(config: Record<string, unknown>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(config)) {
        const full = key.includes(":") ? key : `onedigest:${key}`;
        out[full] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return out;
}

/** A plain secret for tests: the engine hands secrets to the program in clear and lists their keys. */
export const TEST_SECRET = "test-secret-key-0123456789abcdef";

export interface ProgramRun {
    readonly mocks: RecordingMocks;
    readonly outputs: Record<string, unknown>;
    /** All recorded resources of a type. */
    ofType(type: string): Recorded[];
}

/**
 * index.ts runs the program when it is loaded, so each run loads it afresh; the modules it imports
 * hold no state of a run and stay loaded (compiling them again each run was most of a run's time).
 */
function clearProgramModules(): void {
    delete require.cache[require.resolve(path.join(ROOT, "index"))];
}

/**
 * Waits until the program has registered everything: the SDK's own queue of pending resource
 * operations (what the language host waits for before it reports a program done), including
 * resources registered late, inside applies.
 */
async function settle(): Promise<void> {
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
    await settings.waitForRPCs().catch(() => undefined);
}

interface RegisterRequest {
    getName(): string;
    getDependenciesList(): string[];
    getRetainondelete(): boolean | undefined;
    getDeletebeforereplace(): boolean;
    getIgnorechangesList(): string[];
    getImportid(): string;
    getAdditionalsecretoutputsList(): string[];
    getParent(): string;
}
interface OutputsRequest {
    getUrn(): string;
    getOutputs(): { toJavaScript(): Record<string, unknown> } | undefined;
}
interface MonitorLike {
    registerResource(req: RegisterRequest, callback: unknown): unknown;
    registerResourceOutputs(req: OutputsRequest, callback: unknown): unknown;
}

/** Wraps the mock monitor so each registration's dependencies, parent and component outputs are recorded by name. */
function recordDependencies(mocks: RecordingMocks): void {
    const monitor = pulumi.runtime.getMonitor() as unknown as MonitorLike;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
        mocks.dependencies.set(req.getName(), req.getDependenciesList().map((urn) => urn.slice(urn.lastIndexOf("::") + 2)));
        mocks.lifecycle.set(req.getName(), {
            retainOnDelete: req.getRetainondelete() ?? false,
            deleteBeforeReplace: req.getDeletebeforereplace(),
            ignoreChanges: req.getIgnorechangesList(),
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            importId: req.getImportid(),
        });
        const parent = req.getParent();
        mocks.parents.set(req.getName(), parent.slice(parent.lastIndexOf("::") + 2));
        return register(req, callback);
    };
    const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req, callback) => {
        const urn = req.getUrn();
        mocks.componentOutputs.set(urn.slice(urn.lastIndexOf("::") + 2), req.getOutputs()?.toJavaScript() ?? {});
        return registerOutputs(req, callback);
    };
}

/** Sets mocks and config for one program run and clears the program's modules from the cache. */
async function prepare(config: Record<string, unknown>, options: MockOptions & { stack?: string; preview?: boolean; plainKeys?: readonly string[]; secretKeys?: readonly string[] }): Promise<RecordingMocks> {
    const mocks = new RecordingMocks(options);
    const api = options.engineApiVersion === undefined ? "1.51" : options.engineApiVersion;
    engineProbe.apiVersion = api === null ? () => Promise.reject(new Error("cannot reach the Docker engine")) : () => Promise.resolve(api);
    await pulumi.runtime.setMocks(mocks, "onedigest", options.stack ?? "test", options.preview ?? false, "organization");
    const withSecret: Record<string, unknown> = { secretKey: TEST_SECRET, ...config };
    for (const [k, v] of Object.entries(withSecret)) if (v === null) delete withSecret[k];
    const engine = engineConfig(withSecret);
    const secretKeys = ["onedigest:secretKey", "onedigest:herokuApiKey", "onedigest:registryAuth", ...(options.secretKeys ?? [])].filter((k) => k in engine && !(options.plainKeys ?? []).includes(k));
    pulumi.runtime.setAllConfig(engine, secretKeys);
    clearProgramModules();
    recordDependencies(mocks);
    answerRegistries(mocks);
    return mocks;
}

const realFetch = globalThis.fetch;

/**
 * Registry manifest requests go to this run's mocked registry until the run ends (restoreFetch);
 * every other request is sent as it is.
 */
function answerRegistries(mocks: RecordingMocks): void {
    globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
        const url = input instanceof Request ? input.url : String(input);
        if (!/^https:\/\/[^/]+\/v2\/.+\/manifests\//.test(url)) return realFetch(input, init);
        return mocks.registryFetch(url, (init?.headers ?? {}) as Record<string, string>);
    };
}

function restoreFetch(): void {
    globalThis.fetch = realFetch;
}

/**
 * Runs the program (index.ts) under mocks with `config` (project keys may omit `onedigest:`).
 * `secretKey` is added unless the config says `secretKey: null`.
 */
export async function runProgram(
    config: Record<string, unknown>,
    options: MockOptions & { stack?: string; preview?: boolean; plainKeys?: readonly string[]; secretKeys?: readonly string[] } = {},
): Promise<ProgramRun> {
    const mocks = await prepare(config, options);
    const outputs: Record<string, unknown> = {};
    try {
        const program = await evaluate();
        for (const [key, value] of Object.entries(program)) outputs[key] = await promiseOf(value as pulumi.Input<unknown>);
        await settle();
    } finally {
        restoreFetch();
    }
    for (const r of mocks.resources) (r as { inputs: Record<string, unknown> }).inputs = (await readArchives(r.inputs)) as Record<string, unknown>;
    return { mocks, outputs, ofType: (type) => mocks.resources.filter((r) => r.type === type) };
}

/**
 * A recorded input with every asset archive read into `{ archive: { <path>: <text> } }`: the SDK
 * records archives with promised contents, which assertions cannot read as they are.
 */
async function readArchives(value: unknown): Promise<unknown> {
    if (value instanceof pulumi.asset.AssetArchive) {
        const assets = (await value.assets) as Record<string, pulumi.asset.StringAsset>;
        const files = await Promise.all(Object.entries(assets).map(async ([file, asset]) => [file, await asset.text] as const));
        return { archive: Object.fromEntries(files) };
    }
    if (Array.isArray(value)) return Promise.all(value.map(readArchives));
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await readArchives(v)] as const)));
    }
    return value;
}

/** The files of a Beanstalk source bundle, as the program registers the object. */
export function bundleFiles(bundle: Recorded): Readonly<Record<string, string>> {
    const files = (bundle.inputs.source as { archive?: Record<string, string> } | undefined)?.archive;
    assert.ok(files, `${bundle.name} has no source archive`);
    return files;
}

/** The program as the language host runs it: its module's export is an async function returning the stack's outputs. */
async function evaluate(): Promise<Record<string, unknown>> {
    const main = require(path.join(ROOT, "index")) as () => Promise<Record<string, unknown>>;
    return main();
}

/** Runs the program expecting a config error; returns its message and what got registered. */
export async function runProgramError(config: Record<string, unknown>, options: MockOptions & { stack?: string; plainKeys?: readonly string[]; secretKeys?: readonly string[] } = {}): Promise<{ message: string; resources: Recorded[] }> {
    const mocks = await prepare(config, options);
    try {
        await evaluate();
    } catch (err) {
        await settle();
        return { message: (err as Error).message, resources: mocks.resources };
    } finally {
        restoreFetch();
    }
    throw new Error("expected the program to fail with a config error, but it ran");
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Whether a recorded input was passed as a Pulumi secret. */
export function isSecret(value: unknown): boolean {
    return typeof value === "object" && value !== null && SECRET_SIG in value;
}

/** The local target's app container, not its Prometheus: the two register in whichever order their inputs resolve. */
export function isAppContainer(r: Recorded): boolean {
    return r.type === "docker:index/container:Container" && r.name.endsWith("-container");
}

/** A recorded input with every secret wrapper removed. */
export function reveal(value: unknown): unknown {
    if (isSecret(value)) return reveal((value as { value: unknown }).value);
    if (Array.isArray(value)) return value.map(reveal);
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)]));
    }
    return value;
}

/** The inputs, secrets revealed, of the one resource registered under `name`. */
export function inputsOf(run: ProgramRun, name: string): Record<string, unknown> {
    const found = run.mocks.resources.filter((r) => r.name === name);
    assert.strictEqual(found.length, 1, `expected one resource named ${name}, got ${found.length}`);
    return reveal(found[0].inputs) as Record<string, unknown>;
}

/** The explicit provider a recorded resource was registered with, if any. */
export function providerOf(mocks: RecordingMocks, resource: Recorded): Recorded | undefined {
    if (!resource.provider) return undefined;
    const id = resource.provider.slice(resource.provider.lastIndexOf("::") + 2);
    return mocks.resources.find((r) => r.type.startsWith("pulumi:providers:") && r.id === id);
}

/** The type of the program's registry pushes (registry/push.ts). */
export const PUSH = "pulumi-nodejs:dynamic/registry:Push";

/** The login a push carries, revealed; its password must be a secret input. */
export function pushLoginOf(push: Recorded): { server: unknown; username: unknown; password: unknown } {
    assert.strictEqual(push.type, PUSH);
    assert.ok(isSecret(push.inputs.password), `${push.name}: the registry password is not a secret`);
    return { server: push.inputs.server, username: push.inputs.username, password: reveal(push.inputs.password) };
}

/** The registry logins of a docker provider: `[{address, username, password}]`, revealed. */
export function registryAuthOf(provider: Recorded | undefined): Array<Record<string, unknown>> {
    assert.ok(provider, "registered without an explicit docker provider");
    assert.strictEqual(provider.type, "pulumi:providers:docker");
    assert.ok(isSecret(provider.inputs.registryAuth) || typeof provider.inputs.registryAuth === "string", `${provider.name}: registryAuth is not a secret`);
    const value = reveal(provider.inputs.registryAuth);
    return (typeof value === "string" ? JSON.parse(value) : value) as Array<Record<string, unknown>>;
}

/** Names of inputs that carry registry credentials; none may appear on a resource. */
export const CREDENTIAL_INPUTS = ["authConfig", "registryAuth", "password"];
