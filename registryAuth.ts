/**
 * Who may read and write which registry. Credentials never sit in a resource's inputs: each push and
 * each pull goes through a docker.Provider whose `registryAuth` (a secret) covers exactly its
 * registry, built from tokens fetched fresh on every run — ECR from `aws.ecr.getAuthorizationToken`,
 * Artifact Registry from the GCP access token, Heroku from the API key, and any other registry from
 * the secret `onedigest:registryAuth`.
 */
import * as docker from "@pulumi/docker";
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

import { DEFAULT_REGISTRY_URL } from "./providers/heroku/client";
import { ConfigError, PROJECT, setCommand, type Problem } from "./validate";

/** One registry login, as the docker provider takes it. */
export interface RegistryLogin {
    readonly address: pulumi.Input<string>;
    readonly username?: pulumi.Input<string>;
    readonly password?: pulumi.Input<string>;
    /** A registry that needs no credentials (a public mirror). */
    readonly authDisabled?: boolean;
}

/** An entry of `onedigest:registryAuth`, validated. */
export interface ConfiguredLogin {
    readonly address: string;
    readonly username?: string;
    readonly password?: string;
    readonly authDisabled?: boolean;
}

const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;
const ARTIFACT_REGISTRY_HOST = /^[a-z0-9-]+-docker\.pkg\.dev$/;
const KEY = `${PROJECT}:registryAuth`;
export const REGISTRY_AUTH_EXAMPLE = [{ address: "registry.example.com", username: "deploy", password: "<token>" }];

/** The registry host of an image reference (`host[:port]/path…`), as Docker reads it. */
export function registryHost(ref: string): string {
    const first = ref.split("/")[0];
    return ref.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost") ? first : "docker.io";
}

/** Where the credentials for a registry host come from. */
export type RegistrySource =
    | { readonly kind: "configured"; readonly login: ConfiguredLogin }
    | { readonly kind: "ecr"; readonly registryId: string; readonly region: string }
    | { readonly kind: "artifact-registry" }
    | { readonly kind: "heroku" }
    | { readonly kind: "unknown" };

/** What the program knows about credentials, from config and the environment. */
export interface RegistryCredentials {
    readonly configured: readonly ConfiguredLogin[];
    /** The Heroku registry's host (registry.heroku.com unless HEROKU_REGISTRY_URL says otherwise). */
    readonly herokuHost: string;
    readonly herokuApiKey?: pulumi.Output<string>;
}

export function herokuRegistryHost(env: Readonly<Record<string, string | undefined>>): string {
    return new URL(env.HEROKU_REGISTRY_URL ?? DEFAULT_REGISTRY_URL).host;
}

/** Which kind of credentials `host` gets; an entry of `onedigest:registryAuth` wins over the rest. */
export function registrySource(host: string, creds: Pick<RegistryCredentials, "configured" | "herokuHost">): RegistrySource {
    const login = creds.configured.find((l) => l.address === host);
    if (login) return { kind: "configured", login };
    const ecr = ECR_HOST.exec(host);
    if (ecr) return { kind: "ecr", registryId: ecr[1], region: ecr[2] };
    if (ARTIFACT_REGISTRY_HOST.test(host)) return { kind: "artifact-registry" };
    if (host === creds.herokuHost) return { kind: "heroku" };
    return { kind: "unknown" };
}

/** The problem with pulling from `host`, if the program has no way to log in to it. */
export function pullProblem(host: string, creds: RegistryCredentials, what: string, source: RegistrySource = registrySource(host, creds)): Problem | undefined {
    if (source.kind === "unknown") {
        return {
            key: KEY,
            value: undefined,
            allowed: `credentials for ${host}, which ${what} pulls from (a secret list of {address, username, password}, or {address, authDisabled: true} for a public registry; ECR, Artifact Registry and Heroku need none)`,
            fix: setCommand(KEY, [{ address: host, username: "<user>", password: "<token>" }], { secret: true }),
        };
    }
    if (source.kind === "heroku" && !creds.herokuApiKey) {
        return {
            key: `${PROJECT}:herokuApiKey`,
            value: undefined,
            allowed: `a Heroku API key (secret) to pull from ${host}, or the HEROKU_API_KEY environment variable`,
            fix: `pulumi config set --secret ${PROJECT}:herokuApiKey <key>`,
        };
    }
    return undefined;
}

/** A login for `host`, fetched fresh on this run; throws what `pullProblem` reports. */
export function loginFor(host: string, creds: RegistryCredentials, what: string, opts: pulumi.InvokeOptions = {}): pulumi.Output<RegistryLogin> {
    const source = registrySource(host, creds);
    const problem = pullProblem(host, creds, what, source);
    if (problem) throw new ConfigError([problem]);
    switch (source.kind) {
        case "configured":
            return pulumi.output({ ...source.login, password: source.login.password === undefined ? undefined : pulumi.secret(source.login.password) });
        case "ecr": {
            const token = aws.ecr.getAuthorizationTokenOutput({ registryId: source.registryId, region: source.region }, opts);
            return pulumi.output({ address: host, username: token.userName, password: pulumi.secret(token.password) });
        }
        case "artifact-registry":
            // A short-lived OAuth token of whoever runs Pulumi, never a key file.
            return pulumi.output({ address: host, username: "oauth2accesstoken", password: pulumi.secret(gcp.organizations.getClientConfigOutput(opts).accessToken) });
        case "heroku":
            return pulumi.output({ address: host, username: "_", password: pulumi.secret(creds.herokuApiKey!) });
        default:
            throw new Error(`no credentials for ${host}`);
    }
}

/** `docker:host` and friends, so an explicit provider talks to the same engine as the default one. */
function engineSettings(): docker.ProviderArgs {
    const config = new pulumi.Config("docker");
    const host = config.get("host");
    const context = config.get("context");
    return { ...(host ? { host } : {}), ...(context ? { context } : {}) };
}

/** The provider's `docker:host`, for what talks to the engine without the provider (registry/push.ts). */
export function dockerHost(): { dockerHost?: string } {
    const host = engineSettings().host;
    return host ? { dockerHost: host as string } : {};
}

/**
 * A docker provider that can log in to exactly one registry. Its `registryAuth` is a secret and,
 * being provider configuration, changes to it (a rotated token) change no resource that uses it.
 */
export function registryProvider(name: string, login: pulumi.Input<RegistryLogin>, opts: pulumi.CustomResourceOptions = {}): docker.Provider {
    return new docker.Provider(
        name,
        {
            ...engineSettings(),
            registryAuth: pulumi.secret(
                pulumi.output(login).apply((l) => [
                    l.authDisabled ? { address: l.address, authDisabled: true } : { address: l.address, username: l.username ?? "", password: l.password ?? "" },
                ]),
            ),
        },
        opts,
    );
}

/** Reads `onedigest:registryAuth`: a list of logins; problems are recorded, never thrown. */
export function readRegistryAuth(value: unknown, secret: boolean, problems: Problem[]): ConfiguredLogin[] {
    if (value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0)) return [];
    const shown = "a value (not shown: it holds credentials)";
    if (!secret) {
        problems.push({
            key: KEY,
            value,
            shown,
            allowed: "a secret value: registry credentials are never stored in plain config",
            fix: setCommand(KEY, REGISTRY_AUTH_EXAMPLE, { secret: true }),
        });
    }
    const list = Array.isArray(value) ? value : [value];
    const out: ConfiguredLogin[] = [];
    list.forEach((entry: unknown, i: number) => {
        const key = `${KEY}[${i}]`;
        const e = (typeof entry === "object" && entry !== null ? entry : {}) as Record<string, unknown>;
        const address = e.address;
        const unknownFields = Object.keys(e).filter((k) => !["address", "username", "password", "authDisabled"].includes(k));
        const hostOk = typeof address === "string" && /^[a-z0-9.-]+(:\d+)?$/.test(address);
        const authDisabled = e.authDisabled === true || e.authDisabled === "true";
        const hasLogin = typeof e.username === "string" && e.username !== "" && typeof e.password === "string" && e.password !== "";
        if (!hostOk || unknownFields.length > 0 || (!authDisabled && !hasLogin)) {
            problems.push({
                key,
                value: entry,
                shown,
                allowed: "{address: <registry host[:port]>, username, password} or {address, authDisabled: true}",
                fix: setCommand(key, REGISTRY_AUTH_EXAMPLE[0], { secret: true }),
            });
            return;
        }
        out.push(authDisabled ? { address: address as string, authDisabled: true } : { address: address as string, username: e.username as string, password: e.password as string });
    });
    return out;
}
