/** `heroku`: a container app released through the Heroku Platform API (no @pulumi/heroku exists). */
import * as pulumi from "@pulumi/pulumi";

import { DEFAULT_API_URL, DEFAULT_REGISTRY_URL } from "./client";
import { HerokuApp, HerokuLogDrain, HerokuRelease } from "./resources";
import { LIMITS, physicalName } from "../names";
import { TargetComponent, plainEnv } from "../shared";
import type { TargetArgs, TargetModule } from "../types";
import { setCommand, type Reader } from "../../validate";

export const HEROKU_REGIONS = ["us", "eu"] as const;
export const DYNO_SIZES = ["eco", "basic", "standard-1x", "standard-2x", "performance-m", "performance-l", "performance-l-ram", "performance-xl", "performance-2xl"] as const;
/** Heroku's app-name rule: lowercase, starts with a letter, 3–30 characters, ends with a letter or digit. */
export const HEROKU_APP_NAME = /^[a-z][a-z0-9-]{1,28}[a-z0-9]$/;
/** The drains Heroku takes: syslog over TLS or TCP, or HTTPS (Heroku Dev Center, "Log Drains"). */
export const LOG_DRAIN_URL = /^(syslog\+tls:\/\/[^\s/:@]+:\d{1,5}|syslog:\/\/[^\s/:@]+:\d{1,5}|https:\/\/[^\s]+)$/;

export interface HerokuSettings {
    /** @default `<app>-<stack>-<hash of organization/project/stack>`, within 30 characters */
    readonly appName: string;
    /** @default "us" */
    readonly region: (typeof HEROKU_REGIONS)[number];
    /** Team that owns the app; personal account when unset. */
    readonly team?: string;
    /** @default "basic" */
    readonly dynoSize: (typeof DYNO_SIZES)[number];
    /** @default 1 */
    readonly quantity: number;
    /** @default 300 */
    readonly releaseTimeoutSeconds: number;
    /** Where Heroku drains the app's logs (router lines carry status and service time); none when unset. */
    readonly logDrainUrl?: string;
    readonly apiKey: pulumi.Output<string>;
    /** From HEROKU_API_URL / HEROKU_REGISTRY_URL (tests point them at local servers). */
    readonly apiUrl: string;
    readonly registryUrl: string;
}

export class HerokuService extends TargetComponent {

    constructor(name: string, args: TargetArgs<HerokuSettings>, opts?: pulumi.ComponentResourceOptions) {
        super("onedigest:heroku:App", name, {}, opts);
        const { app, image, settings } = args;
        const api = { apiKey: settings.apiKey, apiUrl: settings.apiUrl };

        const herokuApp = new HerokuApp(
            `${name}-app`,
            {
                name: settings.appName,
                region: settings.region,
                team: settings.team,
                // Heroku sets PORT itself; SECRET_KEY travels as a secret config var.
                configVars: pulumi.secret(app.secretKey.apply((secretKey) => ({ ...plainEnv(app, { port: false, proxies: 1, https: true }), SECRET_KEY: secretKey }))),
                ...api,
            },
            { parent: this },
        );
        const registryHost = new URL(settings.registryUrl).host;
        const pushed = image.push(
            `${name}-registry`,
            {
                server: registryHost,
                repository: pulumi.interpolate`${registryHost}/${herokuApp.name}/web`,
                username: "_",
                password: settings.apiKey,
                // Heroku releases only Docker v2 schema 2 images.
                manifest: "docker-v2",
            },
            { parent: this, dependsOn: [herokuApp] },
        );
        const release = new HerokuRelease(
            `${name}-release`,
            {
                app: herokuApp.name,
                imageId: image.imageId,
                manifestDigest: pushed.digest,
                quantity: settings.quantity,
                size: settings.dynoSize,
                timeoutSeconds: settings.releaseTimeoutSeconds,
                registryUrl: settings.registryUrl,
                ...api,
            },
            { parent: this, dependsOn: [...pushed.resources] },
        );
        // Heroku alerts only from its Dashboard (docs/monitoring.md): what the API offers is the
        // logs, each router line with its status and service time, to a service that alerts.
        if (settings.logDrainUrl) new HerokuLogDrain(`${name}-log-drain`, { app: herokuApp.name, url: settings.logDrainUrl, ...api }, { parent: this });
        // The URL waits for the release, so it is only exported once the new image serves.
        const url = pulumi.all([herokuApp.webUrl, release.version]).apply(([webUrl]) => webUrl.replace(/\/$/, ""));
        this.publish({ url, image: pushed.ref, imageId: release.imageId, dashboard: pulumi.interpolate`https://dashboard.heroku.com/apps/${herokuApp.name}/metrics/web` });
    }
}

/** The drain URL, never printed: a drain's URL often carries the receiver's token. */
function readLogDrainUrl(r: Reader): string | undefined {
    const value = r.record.logDrainUrl;
    if (value === undefined || value === null) return undefined;
    if (typeof value === "string" && LOG_DRAIN_URL.test(value)) return value;
    r.report(
        "logDrainUrl",
        value,
        "a log drain URL: syslog+tls://host:port, syslog://host:port or https://host/path",
        setCommand(r.path("logDrainUrl"), "syslog+tls://logs.example.com:6514", { secret: true }),
        "a value that is not one (not shown: it may hold a token)",
    );
    return undefined;
}

export const heroku: TargetModule<HerokuSettings> = {
    kind: "heroku",
    settingsKey: "heroku",
    platforms: ["linux/amd64"],
    parse(r, ctx) {
        r.rejectUnknown(["appName", "region", "team", "dynoSize", "quantity", "releaseTimeoutSeconds", "logDrainUrl"]);
        const nameRule = { pattern: HEROKU_APP_NAME, allowed: "a Heroku app name: 3-30 characters of a-z, 0-9 and '-', starting with a letter, ending with a letter or digit" };
        // Heroku app names are global: the default carries a hash of organization, project and
        // stack, so it is this stack's and unlikely to be anyone else's.
        const appName = r.string("appName", "myapp-prod", nameRule) ?? physicalName([ctx.appName, ctx.stack], { ...LIMITS.herokuApp, unique: `${ctx.organization}/${ctx.project}/${ctx.stack}` });
        const dynoSize = r.oneOf("dynoSize", DYNO_SIZES, "basic") ?? "basic";
        const quantity = r.requiredInteger("quantity", 0, 100, 1);
        if ((dynoSize === "eco" || dynoSize === "basic") && quantity > 1) {
            r.fail("quantity", quantity, `0 or 1 for ${dynoSize} dynos (scale out with standard-1x or larger)`, 1);
        }
        const apiKey = ctx.secret("herokuApiKey") ?? (ctx.env.HEROKU_API_KEY ? pulumi.secret(ctx.env.HEROKU_API_KEY) : undefined);
        if (!apiKey) {
            r.reportKey(
                "onedigest:herokuApiKey",
                undefined,
                "a Heroku API key (secret), or the HEROKU_API_KEY environment variable",
                "pulumi config set --secret onedigest:herokuApiKey <key from `heroku authorizations:create`>",
            );
        }
        return {
            appName,
            region: r.oneOf("region", HEROKU_REGIONS, "us") ?? "us",
            team: r.string("team", "my-team"),
            dynoSize,
            quantity,
            releaseTimeoutSeconds: r.requiredInteger("releaseTimeoutSeconds", 30, 3600, 300),
            logDrainUrl: readLogDrainUrl(r),
            apiKey: apiKey ?? pulumi.output(""),
            apiUrl: ctx.env.HEROKU_API_URL ?? DEFAULT_API_URL,
            registryUrl: ctx.env.HEROKU_REGISTRY_URL ?? DEFAULT_REGISTRY_URL,
        };
    },
    deploy: (name, args, opts) => new HerokuService(name, args, opts),
};
