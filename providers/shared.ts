/** Helpers every target uses; nothing here names a cloud. */
import * as pulumi from "@pulumi/pulumi";

import { physicalName, type NameRule } from "./names";
import type { AppSpec, Deployment, SharedResources } from "./types";

/** Stacks named prod* keep what cannot be rebuilt (images, secrets) past a destroy. */
export function isProductionStack(stack: string): boolean {
    return stack.startsWith("prod");
}

/** The physical name of one of the app's resources: `<app>-<stack>[-<suffix>…]` within `rule`. */
export function scopedName(app: Pick<AppSpec, "name" | "stack">, rule: NameRule, ...suffix: string[]): string {
    return physicalName([app.name, app.stack, ...suffix], rule);
}

/**
 * Plain environment of the container: the app's env, its image ID, how many proxies in front of it set
 * X-Forwarded-* (the app trusts exactly that many), and PORT where the platform does not set it
 * itself (Heroku and Cloud Run do, and refuse it). SECRET_KEY is never in it.
 */
export function plainEnv(
    app: AppSpec,
    opts: {
        port: boolean;
        proxies: number;
        schemeProxies?: number;
        imageId?: string;
        /** Redirect to HTTPS unless `app.env` says otherwise: for targets that serve TLS. */
        https?: boolean;
        /** Where the HTTPS redirect points, for front ends that pass any Host header on (an ALB). */
        canonicalHost?: string;
        /**
         * The front end serves or redirects to HTTPS itself (Cloud Run, ECS Express): no FORCE_HTTPS,
         * not even app.env's. The app sees only HTTPS requests there and has no host of its own to
         * redirect to (it refuses FORCE_HTTPS without CANONICAL_HOST).
         */
        frontEndHttps?: boolean;
    },
): Record<string, string> {
    const env: Record<string, string> = { ...(opts.https ? { FORCE_HTTPS: "1" } : {}), ...app.env, PROXY_FIX_COUNT: String(opts.proxies) };
    if (opts.canonicalHost !== undefined) env.CANONICAL_HOST = opts.canonicalHost;
    if (opts.frontEndHttps) delete env.FORCE_HTTPS;
    // The config digest the deployment runs, reported by /healthcheck so a check can prove the bits.
    if (opts.imageId !== undefined) env.IMAGE_ID = opts.imageId;
    if (opts.schemeProxies !== undefined && opts.schemeProxies !== opts.proxies) env.PROXY_FIX_PROTO_COUNT = String(opts.schemeProxies);
    if (opts.port) env.PORT = String(app.port);
    return env;
}

/** Sorted `NAME=value` entries, for APIs that take a list of strings. */
export function envList(env: Readonly<Record<string, string>>): string[] {
    return Object.keys(env)
        .sort()
        .map((k) => `${k}=${env[k]}`);
}

export class SharedRegistry implements SharedResources {
    private readonly values = new Map<string, unknown>();

    once<T>(key: string, make: () => T): T {
        if (!this.values.has(key)) this.values.set(key, make());
        return this.values.get(key) as T;
    }
}

/**
 * A lookup's answer, or undefined when its error says the thing is not there (`notFound`). Any other
 * failure (credentials, permissions) stops the run naming the lookup: taken for "not there", it would
 * turn into a create that fails on a name that is still taken.
 */
export async function findOptional<T>(what: string, lookup: Promise<T>, notFound: RegExp): Promise<T | undefined> {
    try {
        return await lookup;
    } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (notFound.test(message)) return undefined;
        throw new Error(`looking up ${what} before any resource: ${message}`);
    }
}

/** What a deployment exports: url, image and imageId, and whichever of the optional fields it has. */
function published(d: Deployment): Record<string, pulumi.Output<string>> {
    return {
        url: d.url,
        image: d.image,
        imageId: d.imageId,
        ...(d.origin ? { origin: d.origin } : {}),
        ...(d.dnsRecord ? { dnsRecord: d.dnsRecord } : {}),
        ...(d.dashboard ? { dashboard: d.dashboard } : {}),
    };
}

/** The resolved outputs of a deployment, for stack exports. */
export function exportable(d: Deployment) {
    return pulumi.output(published(d));
}

/** A target's component: what every target exposes, published once its children exist. */
export abstract class TargetComponent extends pulumi.ComponentResource implements Deployment {
    declare readonly url: pulumi.Output<string>;
    declare readonly image: pulumi.Output<string>;
    declare readonly imageId: pulumi.Output<string>;
    declare readonly origin?: pulumi.Output<string>;
    declare readonly dnsRecord?: pulumi.Output<string>;
    declare readonly dashboard?: pulumi.Output<string>;

    /** Sets what the deployment exposes and registers it as the component's outputs; call last. */
    protected publish(deployment: Deployment): void {
        const outputs = published(deployment);
        Object.assign(this, outputs);
        this.registerOutputs(outputs);
    }
}
