/**
 * The one typed, validated view of stack config. Everything is checked here, before any resource
 * is registered; defaults come from the `config:` block of Pulumi.yaml and nowhere else.
 */
import { createPublicKey } from "crypto";
import * as fs from "fs";
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";

import { modules, TARGET_KINDS, type TargetKind } from "./providers";
import { herokuRegistryHost, pullProblem, readRegistryAuth, registryHost, type RegistryCredentials } from "./registryAuth";
import { PLATFORMS, type AlertSettings, type Platform } from "./providers/types";
import { findCosign, type Signer } from "./registry/signatures";
import { ConfigError, PROJECT, Reader, mergeDefaults, setCommand, type Problem } from "./validate";

export const IMAGE_REF = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*@sha256:[0-9a-f]{64}$/;
/** `org/project/stack`, or a bare `stack` of this organization and project. */
export const STACK_NAME = /^(?:[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/)?[A-Za-z0-9_.-]+$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
/** Plain env vars must not carry secrets: those go through secretKey and the platforms' secret stores. */
const SECRET_LIKE = /(SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY)/;
/** Set by every platform or by the image itself; the app spec must not override them. */
const RESERVED_ENV = ["PORT", "SECRET_KEY", "APP_ENV", "APP_VERSION", "LAST_COMMIT_SHA", "APP_DESCRIPTION", "PROXY_FIX_COUNT", "PROXY_FIX_PROTO_COUNT", "IMAGE_ID", "CANONICAL_HOST"];

export interface AppConfig {
    readonly name: string;
    readonly description: string;
    readonly port: number;
    readonly env: Readonly<Record<string, string>>;
}

/** Whose signature an image from a registry must carry (`image.signedBy`); unset, none is checked. */
type Signed = { readonly signedBy?: Signer };

/** The cosign key every copy of a build is signed with (`image.signingKey` or `.signingKeyFile`). */
export interface SigningKey {
    readonly key: pulumi.Output<string>;
    /** From COSIGN_PASSWORD, as cosign reads it; empty for a key made without one. */
    readonly password: pulumi.Output<string>;
}

export type ImageConfig =
    | ({ readonly source: "build"; readonly platform: Platform; readonly signing?: SigningKey } & Signed)
    | ({ readonly source: "ref"; readonly platform: Platform; readonly ref: string } & Signed)
    | ({ readonly source: "promote"; readonly platform: Platform; readonly promoteFrom: string } & Signed);

export interface StackConfig {
    readonly stack: string;
    readonly targets: readonly TargetKind[];
    readonly app: AppConfig;
    /** Unset only where every target accepts a key generated into the stack's state (`local`). */
    readonly secretKey: pulumi.Output<string> | undefined;
    readonly image: ImageConfig;
    /** Validated settings per configured target kind. */
    readonly settings: Readonly<Partial<Record<TargetKind, unknown>>>;
    /** How to log in to the registries images are pulled from. */
    readonly registries: RegistryCredentials;
    /** Where alarms go and when they fire, for every target. */
    readonly alerts: AlertSettings;
}

/** Where the program looks for Pulumi.yaml: next to this file, or one level up when precompiled. */
export function findProjectFile(start: string = __dirname): string {
    for (const dir of [start, path.dirname(start)]) {
        const file = path.join(dir, "Pulumi.yaml");
        if (fs.existsSync(file)) return file;
    }
    throw new Error(`Pulumi.yaml not found next to ${start} or its parent`);
}

/** The project directory (where Pulumi.yaml and app/ live), whether run from source or from bin/. */
export function projectRoot(): string {
    return path.dirname(findProjectFile());
}

/** The `default` of every key declared in Pulumi.yaml's `config:` block, by short key. */
export function projectDefaults(file: string = findProjectFile()): Readonly<Record<string, unknown>> {
    const project = parseYaml(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
    const out: Record<string, unknown> = {};
    for (const [rawKey, decl] of Object.entries(project.config ?? {})) {
        const key = rawKey.startsWith(`${PROJECT}:`) ? rawKey.slice(PROJECT.length + 1) : rawKey;
        if (typeof decl === "object" && decl !== null && "default" in decl) {
            out[key] = (decl as { default: unknown }).default;
        }
    }
    return out;
}

/** A raw config value: JSON where it parses (objects, arrays, numbers, booleans), else the string. */
function rawValue(config: pulumi.Config, key: string): unknown {
    const text = config.get(key);
    if (text === undefined) return undefined;
    try {
        return JSON.parse(text) as unknown;
    } catch {
        return text;
    }
}

function readTargets(value: unknown, problems: Problem[]): TargetKind[] {
    const key = `${PROJECT}:targets`;
    const allowed = `a non-empty list of distinct target kinds from ${TARGET_KINDS.join(", ")}`;
    if (!Array.isArray(value) || value.length === 0) {
        problems.push({ key, value, allowed, fix: setCommand(key, [TARGET_KINDS[0]]) });
        return [];
    }
    const out: TargetKind[] = [];
    value.forEach((item: unknown, i: number) => {
        const itemKey = `${key}[${i}]`;
        if (typeof item !== "string" || !(TARGET_KINDS as readonly string[]).includes(item)) {
            problems.push({ key: itemKey, value: item, allowed: `one of ${TARGET_KINDS.join(", ")}`, fix: setCommand(itemKey, TARGET_KINDS[0]) });
        } else if (out.includes(item as TargetKind)) {
            problems.push({
                key: itemKey,
                value: item,
                allowed: "each target kind at most once",
                fix: setCommand(key, [...new Set(value.filter((v): v is string => typeof v === "string"))]),
            });
        } else {
            out.push(item as TargetKind);
        }
    });
    return out;
}

function readApp(r: Reader): AppConfig {
    r.rejectUnknown(["name", "description", "port", "env"]);
    const name = r.requiredString("name", "myapp", {
        pattern: /^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$/,
        allowed: "a DNS-safe name: 1-32 characters of a-z, 0-9 and '-', starting with a letter, not ending with '-'",
    });
    const description = r.string("description", "My app") ?? "";
    const port = r.requiredInteger("port", 1024, 65535, 8080);
    const env = r.stringMap("env", ENV_NAME, "an environment variable name matching [A-Z_][A-Z0-9_]*");
    for (const envName of Object.keys(env)) {
        if (RESERVED_ENV.includes(envName)) {
            r.fail(`env.${envName}`, envName, `a name other than ${RESERVED_ENV.join(", ")} (set by onedigest)`, "value");
        } else if (SECRET_LIKE.test(envName)) {
            r.report(
                `env.${envName}`,
                envName,
                "no secret-like names in plain environment (use onedigest:secretKey, which is stored as a secret)",
                `pulumi config rm --path ${r.path(`env.${envName}`)}`,
            );
        }
    }
    return { name, description, port, env };
}

const ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";
const DEPLOY_IDENTITY = "https://github.com/acme/shop/.github/workflows/deploy.yml@refs/heads/main";

/**
 * `image.signedBy`: a cosign public key (PEM), or a keyless certificate's identity and OIDC issuer.
 * A stack that pulls its image (a pin, a promotion) verifies it with cosign, which must be on PATH.
 */
function readSignedBy(r: Reader, pulls: boolean, env: Readonly<Record<string, string | undefined>>): Signed {
    const value = r.record.signedBy;
    if (value === undefined || value === null) return {};
    const key = r.path("signedBy");
    const allowed = "{ key: <PEM public key, as in cosign.pub> } or { identity: <certificate identity>, issuer: <OIDC issuer https URL> }";
    const keyFix = `pulumi config set --path ${key}.key -- "$(cat cosign.pub)"`;
    const identityFix = `${setCommand(`${key}.identity`, DEPLOY_IDENTITY)} && ${setCommand(`${key}.issuer`, ACTIONS_ISSUER)}`;
    const o = typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    const fields = o ? Object.keys(o).sort().join(",") : "";
    if (o && fields === "key") {
        const pem = typeof o.key === "string" ? o.key.trim() : "";
        if (/PRIVATE KEY-----/.test(pem)) {
            r.report("signedBy.key", undefined, "the PUBLIC key (cosign.pub): a private key must never be in stack config; make a new key pair, this one is exposed", keyFix, "a private key (not shown)");
            return {};
        }
        if (!/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----$/.test(pem) || !parsesAsPublicKey(pem)) {
            r.report("signedBy.key", o.key, "a PEM public key (-----BEGIN PUBLIC KEY----- …, as cosign generate-key-pair writes cosign.pub)", keyFix);
            return {};
        }
        return cosignThere(r, pulls, env) ? { signedBy: { key: `${pem}\n` } } : {};
    }
    if (o && fields === "identity,issuer") {
        const identity = typeof o.identity === "string" && o.identity.trim() !== "" ? o.identity : undefined;
        const issuer = typeof o.issuer === "string" && /^https:\/\/[^\s/]+(\/\S*)?$/.test(o.issuer) ? o.issuer : undefined;
        if (!identity) r.fail("signedBy.identity", o.identity, "a certificate identity (a keyless signer: the workflow's URL with its ref, or an email)", DEPLOY_IDENTITY);
        if (!issuer) r.fail("signedBy.issuer", o.issuer, "the OIDC issuer of the signer's identity, an https URL", ACTIONS_ISSUER);
        return identity && issuer && cosignThere(r, pulls, env) ? { signedBy: { identity, issuer } } : {};
    }
    r.report("signedBy", value, allowed, `pulumi config rm --path ${key} && ${keyFix}  (or: ${identityFix})`);
    return {};
}

function parsesAsPublicKey(pem: string): boolean {
    try {
        return createPublicKey(pem).type === "public";
    } catch {
        return false;
    }
}

/** A stack that checks signatures of what it pulls needs cosign; a build pulls nothing. */
function cosignThere(r: Reader, pulls: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
    if (!pulls || findCosign(env.PATH)) return true;
    r.report(
        "signedBy",
        undefined,
        "cosign v2 on PATH, which checks the signature of the image this stack pulls",
        "bash ../shared/tools/supply-chain/install.sh ~/.cache/onedigest/supply-chain && . ~/.cache/onedigest/supply-chain/env.sh  (or install cosign from https://docs.sigstore.dev/cosign/system_config/installation/)",
        "no cosign on PATH",
    );
    return false;
}

function readImage(r: Reader, env: Readonly<Record<string, string | undefined>>, secret: boolean): ImageConfig {
    r.rejectUnknown(["platform", "ref", "promoteFrom", "signedBy", "signingKey", "signingKeyFile"]);
    const platform = r.oneOf("platform", PLATFORMS, "linux/amd64") ?? "linux/amd64";
    const ref = r.string("ref", "registry.example.com/app@sha256:<64 hex>", {
        pattern: IMAGE_REF,
        allowed: "an image reference pinned by digest: repo@sha256:<64 hex>",
    });
    const promoteFrom = r.string("promoteFrom", "dev", {
        pattern: STACK_NAME,
        allowed: "a stack name: dev (this organization and project) or org/project/stack",
    });
    if (r.has("ref") && r.has("promoteFrom")) {
        r.report(
            "promoteFrom",
            r.record.promoteFrom,
            `not both ${r.path("ref")} and ${r.path("promoteFrom")}: pin an image or promote one, not both`,
            `pulumi config rm --path ${r.path("ref")}  (or: pulumi config rm --path ${r.path("promoteFrom")})`,
        );
    }
    const signed = readSignedBy(r, ref !== undefined || promoteFrom !== undefined, env);
    const signing = readSigningKey(r, ref !== undefined || promoteFrom !== undefined, secret, env);
    if (ref) return { source: "ref", platform, ref, ...signed };
    if (promoteFrom) return { source: "promote", platform, promoteFrom, ...signed };
    return { source: "build", platform, ...signed, ...(signing ? { signing } : {}) };
}

/**
 * `image.signingKey` (a secret: the cosign private key's PEM) or `image.signingKeyFile` (a path to
 * it): what a build stack signs each pushed copy with. Never plain config; only a build signs.
 */
function readSigningKey(r: Reader, pulls: boolean, secret: boolean, env: Readonly<Record<string, string | undefined>>): SigningKey | undefined {
    const inline = r.record.signingKey;
    const file = r.record.signingKeyFile;
    if (inline === undefined && file === undefined) return undefined;
    const keyFix = `pulumi config set --secret --path ${r.path("signingKey")} -- "$(cat cosign.key)"`;
    const fileFix = setCommand(r.path("signingKeyFile"), "/run/secrets/cosign.key");
    if (pulls) {
        r.report(inline !== undefined ? "signingKey" : "signingKeyFile", undefined, "no signing key on a stack that pulls its image: a stack signs only what it builds", `pulumi config rm --path ${r.path(inline !== undefined ? "signingKey" : "signingKeyFile")}`, "a value (not shown)");
        return undefined;
    }
    let pem: string | undefined;
    if (inline !== undefined) {
        if (file !== undefined) return r.report("signingKeyFile", file, `not both ${r.path("signingKey")} and ${r.path("signingKeyFile")}`, `pulumi config rm --path ${r.path("signingKeyFile")}`);
        if (!secret) return r.report("signingKey", undefined, "a secret value: a private key is never stored in plain config", keyFix, "a value (not shown: it is a private key)");
        pem = typeof inline === "string" ? inline : undefined;
    } else if (typeof file === "string" && file !== "") {
        try {
            pem = fs.readFileSync(file, "utf8");
        } catch (err) {
            return r.report("signingKeyFile", file, `a readable file holding a cosign private key (${(err as NodeJS.ErrnoException).code ?? "unreadable"})`, fileFix);
        }
    } else {
        return r.fail("signingKeyFile", file, "a path to a cosign private key file", "/run/secrets/cosign.key");
    }
    if (pem === undefined || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
        return r.report(inline !== undefined ? "signingKey" : "signingKeyFile", undefined, "a cosign private key (PEM: -----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----, as cosign generate-key-pair writes cosign.key)", inline !== undefined ? keyFix : fileFix, "a value that is not one (not shown)");
    }
    return { key: pulumi.secret(pem), password: pulumi.secret(env.COSIGN_PASSWORD ?? "") };
}

/**
 * An email address as the HTML standard's `<input type="email">` accepts one (WHATWG HTML, "Valid
 * e-mail address"): what every platform's email channel takes.
 */
export const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

function readAlerts(r: Reader, raw: unknown): AlertSettings {
    // Not an object at all: that one problem says it; its fields would only repeat it.
    if (raw !== undefined && (typeof raw !== "object" || raw === null || Array.isArray(raw))) return { errorRatePercent: 5, latencyP99Ms: 1000, unhealthyMinutes: 3 };
    r.rejectUnknown(["email", "errorRatePercent", "latencyP99Ms", "unhealthyMinutes"]);
    const email = r.string("email", "oncall@example.com", { pattern: EMAIL, allowed: "an email address such as oncall@example.com" });
    const errorRatePercent = r.number("errorRatePercent", 0.1, 100, 5);
    if (errorRatePercent === undefined && !r.has("errorRatePercent")) r.fail("errorRatePercent", undefined, "a number from 0.1 to 100", 5);
    return {
        ...(email ? { email } : {}),
        errorRatePercent: errorRatePercent ?? 5,
        // Cloud Run and the load balancers end a request at 60 s: a slower p99 is never measured.
        latencyP99Ms: r.requiredInteger("latencyP99Ms", 10, 60000, 1000),
        unhealthyMinutes: r.requiredInteger("unhealthyMinutes", 1, 60, 3),
    };
}

/** Everything `loadConfig` reads, so tests can pass plain values. */
export interface ConfigSources {
    readonly stack: string;
    /** The project's keys (without `onedigest:`) as raw JSON-ish values. */
    readonly values: Readonly<Record<string, unknown>>;
    readonly secretKey: pulumi.Output<string> | undefined;
    /** Other secret keys of the project (herokuApiKey), if set and non-empty. */
    secret(key: string): pulumi.Output<string> | undefined;
    providerConfig(namespace: string, key: string): string | undefined;
    readonly env: Readonly<Record<string, string | undefined>>;
    /** Every `onedigest:` key the stack sets, to catch typos such as `onedigest:ecss`. */
    readonly setKeys?: readonly string[];
    /** Full keys (`onedigest:registryAuth`) the stack holds as secrets. */
    readonly secretKeys?: readonly string[];
    /** @default "organization" (the file backend's) */
    readonly organization?: string;
    /** @default "onedigest" */
    readonly project?: string;
}

/** The project's own keys; anything else under `onedigest:` is a mistake. */
export function knownKeys(): string[] {
    return ["targets", "secretKey", "herokuApiKey", "registryAuth", "app", "image", "alerts", ...Object.values(modules).map((m) => m.settingsKey)];
}

/** The config keys the engine marked secret (it lists a key whose any part was set with --secret). */
function configSecretKeys(): string[] {
    // The SDK keeps the list beside the config; the language host also passes it in the environment.
    const store = (require("@pulumi/pulumi/runtime/state") as { getStore(): { config: Record<string, string | undefined> } }).getStore();
    const raw = store.config.PULUMI_CONFIG_SECRET_KEYS ?? process.env.PULUMI_CONFIG_SECRET_KEYS ?? "[]";
    try {
        return JSON.parse(raw) as string[];
    } catch {
        return [];
    }
}

/** Reads the running stack's config from the Pulumi runtime. */
export function runtimeSources(): ConfigSources {
    const config = new pulumi.Config(PROJECT);
    const values: Record<string, unknown> = {};
    for (const key of knownKeys().filter((k) => k !== "secretKey" && k !== "herokuApiKey")) {
        values[key] = rawValue(config, key);
    }
    const setKeys = Object.keys(pulumi.runtime.allConfig())
        .filter((k) => k.startsWith(`${PROJECT}:`))
        .map((k) => k.slice(PROJECT.length + 1));
    return {
        stack: pulumi.getStack(),
        organization: pulumi.getOrganization(),
        project: pulumi.getProject(),
        secretKeys: configSecretKeys(),
        values,
        secretKey: config.get("secretKey") ? config.requireSecret("secretKey") : undefined,
        secret: (key) => (config.get(key) ? config.requireSecret(key) : undefined),
        providerConfig: (namespace, key) => new pulumi.Config(namespace).get(key),
        env: process.env,
        setKeys,
    };
}

/** Validates everything; throws one ConfigError listing every problem. */
export function loadConfig(sources: ConfigSources = runtimeSources(), defaults = projectDefaults()): StackConfig {
    const problems: Problem[] = [];
    const value = (key: string): unknown => mergeDefaults(defaults[key], sources.values[key]);

    const known = knownKeys();
    for (const key of sources.setKeys ?? []) {
        if (!known.includes(key)) {
            // Its value is not shown: an unknown key may well hold a secret.
            problems.push({ key: `${PROJECT}:${key}`, value: undefined, shown: "a value", allowed: `one of the keys ${known.join(", ")}`, fix: `pulumi config rm ${PROJECT}:${key}` });
        }
    }
    const targets = readTargets(value("targets"), problems);
    const app = readApp(new Reader(`${PROJECT}:app`, value("app"), problems));
    const organization = sources.organization ?? "organization";
    const project = sources.project ?? PROJECT;
    let image = readImage(new Reader(`${PROJECT}:image`, value("image"), problems), sources.env, (sources.secretKeys ?? []).includes(`${PROJECT}:image`));
    const alerts = readAlerts(new Reader(`${PROJECT}:alerts`, value("alerts"), problems), value("alerts"));
    if (image.source === "promote" && !image.promoteFrom.includes("/")) {
        image = { ...image, promoteFrom: `${organization}/${project}/${image.promoteFrom}` };
    }
    const herokuApiKey = sources.secret("herokuApiKey") ?? (sources.env.HEROKU_API_KEY ? pulumi.secret(sources.env.HEROKU_API_KEY) : undefined);
    const registries: RegistryCredentials = {
        configured: readRegistryAuth(sources.values.registryAuth, (sources.secretKeys ?? []).includes(`${PROJECT}:registryAuth`), problems),
        herokuHost: herokuRegistryHost(sources.env),
        herokuApiKey,
    };
    if (image.source === "ref") {
        const problem = pullProblem(registryHost(image.ref), registries, `${PROJECT}:image.ref`);
        if (problem) problems.push(problem);
    }
    if (sources.secretKey === undefined && !(targets.length > 0 && targets.every((kind) => modules[kind].generatedSecretKeyIsEnough))) {
        const key = `${PROJECT}:secretKey`;
        problems.push({ key, value: undefined, allowed: "a secret string (the app's SECRET_KEY; only a stack whose targets are all local may leave it unset)", fix: setCommand(key, "<random 64 hex>", { secret: true }) });
    }

    const settings: Partial<Record<TargetKind, unknown>> = {};
    for (const kind of targets) {
        const module = modules[kind];
        const key = `${PROJECT}:${module.settingsKey}`;
        if (!module.platforms.includes(image.platform)) {
            problems.push({
                key: `${PROJECT}:image.platform`,
                value: image.platform,
                allowed: `a platform target ${kind} runs: ${module.platforms.join(", ")}`,
                fix: setCommand(`${PROJECT}:image.platform`, module.platforms[0]),
            });
        }
        settings[kind] = module.parse(new Reader(key, value(module.settingsKey), problems), {
            stack: sources.stack,
            appName: app.name,
            appPort: app.port,
            appEnv: app.env,
            organization,
            project,
            platform: image.platform,
            providerConfig: sources.providerConfig,
            secret: sources.secret,
            env: sources.env,
        });
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return {
        stack: sources.stack,
        targets,
        app,
        secretKey: sources.secretKey,
        image,
        settings,
        registries,
        alerts,
    };
}
