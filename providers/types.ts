/**
 * The shared contract every deployment target implements. A target is a ComponentResource built
 * from the common args (the one image, the app spec) plus its own validated settings.
 */
import * as pulumi from "@pulumi/pulumi";

import type { Reader } from "../validate";

export const PLATFORMS = ["linux/amd64", "linux/arm64"] as const;
export type Platform = (typeof PLATFORMS)[number];

/** The path every platform's health check and probe uses. */
export const HEALTH_PATH = "/healthcheck";

/** Seconds gunicorn waits for in-flight requests after SIGTERM (app/gunicorn.conf.py). */
export const GRACEFUL_TIMEOUT_SECONDS = 6;

/**
 * Requests the app serves at once on `cpus` CPUs: gunicorn's workers × threads as app/gunicorn.conf.py
 * sets them (workers = WEB_CONCURRENCY, else 2 per CPU up to 8; threads = GUNICORN_THREADS, else 4).
 * More than this in flight queue inside the instance instead of reaching another one.
 */
export function requestsInFlight(cpus: number, env: Readonly<Record<string, string | undefined>> = {}): number {
    const workers = Number(env.WEB_CONCURRENCY ?? Math.min(cpus * 2, 8));
    const threads = Number(env.GUNICORN_THREADS ?? 4);
    return workers * threads;
}

/** What is deployed: the same for every target. */
export interface AppSpec {
    /** DNS-safe; resource names derive from it. */
    readonly name: string;
    /** The Pulumi stack: every physical name is scoped by it (providers/names.ts). */
    readonly stack: string;
    /**
     * A stack named prod*: registries and secrets outlive `pulumi destroy` or a deletion window
     * (README: Retention); elsewhere destroy removes everything at once.
     */
    readonly production: boolean;
    readonly description: string;
    /** Port the container listens on (`PORT`). */
    readonly port: number;
    /** Plain environment variables (validated to hold no secret-like names). */
    readonly env: Readonly<Record<string, string>>;
    /** The app's SECRET_KEY; a Pulumi secret, never plain. */
    readonly secretKey: pulumi.Output<string>;
    /** @default "/healthcheck" */
    readonly healthPath: string;
}

/** A registry a target pushes the image into. */
export interface RegistryTarget {
    /** Registry host, e.g. `123.dkr.ecr.eu-west-1.amazonaws.com`. */
    readonly server: pulumi.Input<string>;
    /** Full repository without tag or digest, e.g. `<server>/app`. */
    readonly repository: pulumi.Input<string>;
    readonly username: pulumi.Input<string>;
    /** Kept secret by the push helper. */
    readonly password: pulumi.Input<string>;
    /**
     * Which manifests the registry takes: Docker v2 schema 2 only (Heroku's), or OCI too.
     * @default "any"
     */
    readonly manifest?: "any" | "docker-v2";
}

/** The pushed copy of the image in one registry. */
export interface PushedImage {
    /** `repository@sha256:<manifest digest>` — what deployments reference. */
    readonly ref: pulumi.Output<string>;
    /** The manifest digest alone, `sha256:…`. */
    readonly digest: pulumi.Output<string>;
    /** Resources a deployment must wait for (the push). */
    readonly resources: readonly pulumi.Resource[];
}

/** The one image of this deployment, wherever it came from (build, pinned ref, promotion). */
export interface ImageArtifact {
    /** Config digest `sha256:<64 hex>`: the identity of the bits, the same in every registry. */
    readonly imageId: pulumi.Output<string>;
    /**
     * What the local engine knows these bits by: the image ID on Docker's classic image store,
     * `<repository>@<manifest digest>` on the containerd store (whose IDs are manifest digests).
     */
    readonly localRef: pulumi.Output<string>;
    readonly platform: Platform;
    /** Pushes these bits into a registry; targets sharing a registry share one push through SharedResources. */
    push(name: string, registry: RegistryTarget, opts?: pulumi.ComponentResourceOptions): PushedImage;
}

/** Resources several targets can share (e.g. one ECR repository for ECS and Beanstalk). */
export interface SharedResources {
    /** The value made by `make` the first time `key` is asked for; the same value afterwards. */
    once<T>(key: string, make: () => T): T;
}

/**
 * When the three signals every target watches (is it up, is it failing, is it slow) alarm, and who
 * hears of it (`onedigest:alerts`; defaults in Pulumi.yaml).
 */
export interface AlertSettings {
    /** Where alarms are sent; without it they still exist, on each platform's console. */
    readonly email?: string;
    /** Share of requests answered 5xx, in percent, above which the app is failing. @default 5 */
    readonly errorRatePercent: number;
    /** 99th percentile of response time, in milliseconds, above which the app is slow. @default 1000 */
    readonly latencyP99Ms: number;
    /** Minutes in a row a signal must be past its threshold before it alarms. @default 3 */
    readonly unhealthyMinutes: number;
}

export interface TargetArgs<S> {
    readonly app: AppSpec;
    readonly image: ImageArtifact;
    readonly settings: S;
    readonly shared: SharedResources;
    readonly alerts: AlertSettings;
}

/** What every target exposes. */
export interface Deployment {
    /** Public base URL of the running app. */
    readonly url: pulumi.Output<string>;
    /** The reference it runs: `repo@sha256:…` (for the local engine, the image's `localRef`). */
    readonly image: pulumi.Output<string>;
    /** Config digest of what it runs. */
    readonly imageId: pulumi.Output<string>;
    /**
     * Where the app answers before `url`'s domain points at it: its load balancer's own name. The
     * post-deploy check connects there, with `url`'s host as the TLS server name and Host header.
     */
    readonly origin?: pulumi.Output<string>;
    /** The DNS record `url`'s domain needs: `<domain> CNAME <load balancer>`. */
    readonly dnsRecord?: pulumi.Output<string>;
    /** Where to look when it alarms: the platform console's dashboard of the deployment. */
    readonly dashboard?: pulumi.Output<string>;
}

/** Read-only view of everything a target's settings parser may consult. */
export interface ParseContext {
    readonly stack: string;
    readonly appName: string;
    readonly appPort: number;
    /** `app.env`, validated. */
    readonly appEnv: Readonly<Record<string, string>>;
    /** The Pulumi organization and project (globally unique names hash them with the stack). */
    readonly organization: string;
    readonly project: string;
    readonly platform: Platform;
    /** Another namespace's config, e.g. `("aws", "region")`. */
    providerConfig(namespace: string, key: string): string | undefined;
    /** A secret key of this project (e.g. `herokuApiKey`), if set and non-empty. */
    secret(key: string): pulumi.Output<string> | undefined;
    readonly env: Readonly<Record<string, string | undefined>>;
}

/** What a target's lookups know of the deployment before any resource exists. */
export interface LookupContext {
    readonly app: Pick<AppSpec, "name" | "stack" | "production">;
}

/** One deployment target: its settings key, how to validate them, and how to deploy. */
export interface TargetModule<S> {
    /** The kind as users write it in `onedigest:targets`; the key of this module in providers/index.ts. */
    readonly kind: string;
    /** Config object holding this target's settings, e.g. `ecs` for `onedigest:ecs`. */
    readonly settingsKey: string;
    /** Platforms the target can run. */
    readonly platforms: readonly Platform[];
    /**
     * True where a SECRET_KEY generated into the stack's state will do (nothing else shares the app's
     * sessions); a stack whose targets all say so may leave `secretKey` unset.
     * @default false
     */
    readonly generatedSecretKeyIsEnough?: boolean;
    /** Validates the settings (recording problems on the reader); must not create resources. */
    parse(settings: Reader, ctx: ParseContext): S;
    /**
     * Lookups the target needs before any resource is registered (the network it deploys into, what
     * an earlier `pulumi destroy` left to adopt), returning the settings with what they found. A
     * missing thing is a ConfigError naming the key: the program's first line, and nothing created.
     */
    prepare?(settings: S, ctx: LookupContext): Promise<S>;
    deploy(name: string, args: TargetArgs<S>, opts?: pulumi.ComponentResourceOptions): Deployment;
}

/** A target module with its settings type erased, as the kind → module map holds it. */
export interface Target {
    readonly kind: string;
    readonly settingsKey: string;
    readonly platforms: readonly Platform[];
    readonly generatedSecretKeyIsEnough: boolean;
    parse(settings: Reader, ctx: ParseContext): unknown;
    prepare(settings: unknown, ctx: LookupContext): Promise<unknown>;
    deploy(name: string, args: TargetArgs<unknown>, opts?: pulumi.ComponentResourceOptions): Deployment;
}

/** Erases a module's settings type; `deploy` only ever receives what that module's `parse` returned. */
export function defineTarget<S>(module: TargetModule<S>): Target {
    return {
        kind: module.kind,
        settingsKey: module.settingsKey,
        platforms: module.platforms,
        generatedSecretKeyIsEnough: module.generatedSecretKeyIsEnough ?? false,
        parse: (settings, ctx) => module.parse(settings, ctx),
        prepare: (settings, ctx) => (module.prepare ? module.prepare(settings as S, ctx) : Promise.resolve(settings)),
        deploy: (name, args, opts) => module.deploy(name, { ...args, settings: args.settings as S }, opts),
    };
}
