/**
 * Where the one image comes from — a build (default), a pinned `repo@sha256:` ref (pin/rollback),
 * or another stack's image (promotion) — and how targets push those same bits to their registries.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

import { projectRoot, type AppConfig, type ImageConfig } from "./config";
import type { ImageArtifact, Platform, PushedImage, RegistryTarget } from "./providers/types";
import { RegistryPush } from "./registry/push";
import { dockerHost, loginFor, registryHost, registryProvider, type RegistryCredentials, type RegistryLogin } from "./registryAuth";
import { PROJECT } from "./validate";

export const APP_DIR = path.join(projectRoot(), "app");
export const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;

/** CI variables that carry the commit being built, in the order they are trusted. */
const COMMIT_ENV = ["LAST_COMMIT_SHA", "GITHUB_SHA", "CI_COMMIT_SHA", "BUILDKITE_COMMIT", "CIRCLE_SHA1", "GIT_COMMIT"];

export function commitSha(env: Readonly<Record<string, string | undefined>> = process.env, cwd: string = projectRoot()): string {
    for (const name of COMMIT_ENV) {
        const value = env[name]?.trim();
        if (value) return value;
    }
    try {
        return execFileSync("git", ["rev-parse", "HEAD"], { cwd, stdio: ["ignore", "pipe", "ignore"] }).toString().trim() || "unknown";
    } catch {
        return "unknown";
    }
}

export function packageVersion(file: string = path.join(projectRoot(), "package.json")): string {
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
}

/** Build arguments baked into the image so /healthcheck tells which commit runs. */
export function buildArgs(app: AppConfig, env: Readonly<Record<string, string | undefined>> = process.env): Record<string, string> {
    const args: Record<string, string> = {
        APP_VERSION: packageVersion(),
        LAST_COMMIT_SHA: commitSha(env),
        APP_DESCRIPTION: app.description,
    };
    // A mirror or air-gapped copy of the pinned base; unset, the Dockerfile's digest-pinned default is used.
    if (env.ONEDIGEST_BASE_IMAGE) args.BASE_IMAGE = env.ONEDIGEST_BASE_IMAGE;
    return args;
}

/** The tag a push uses: named after the image ID, so the same bits always get the same tag. */
export function tagFor(imageId: string): string {
    if (!IMAGE_ID.test(imageId)) throw new Error(`not an image ID (sha256:<64 hex>): ${imageId}`);
    return imageId.replace(":", "-");
}

/** Asserts a resolved image ID has the identity shape; a wrong value here would deploy the wrong bits. */
export function checkImageId(imageId: string, what: string): string {
    if (!IMAGE_ID.test(imageId)) throw new Error(`${what} is not an image ID (sha256:<64 hex>): ${JSON.stringify(imageId)}`);
    return imageId;
}

class Artifact implements ImageArtifact {
    constructor(
        readonly imageId: pulumi.Output<string>,
        readonly platform: Platform,
    ) {}

    push(name: string, registry: RegistryTarget, opts: pulumi.ComponentResourceOptions = {}): PushedImage {
        // Tagged by its image ID, so the same bits always get the same tag; a registry that holds
        // them already (a rollback, a re-promotion) is not pushed to again (registry/operations.ts).
        const pushed = new RegistryPush(
            `${name}-push`,
            {
                // The bits pushed are exactly the bits built or pulled: the engine's image by its ID.
                source: this.imageId,
                imageId: this.imageId,
                repository: registry.repository,
                tag: this.imageId.apply(tagFor),
                platform: this.platform,
                manifest: registry.manifest ?? "any",
                server: registry.server,
                username: registry.username,
                password: registry.password,
                ...dockerHost(),
            },
            opts,
        );
        return { digest: pushed.digest, ref: pushed.ref, resources: [pushed] };
    }
}

/** Another stack's image, as read before any resource: what to pull, the ID it must have, the login. */
export interface Promotion {
    readonly ref: string;
    readonly imageId: string;
    readonly login: pulumi.Output<RegistryLogin>;
}

/**
 * Reads the stack a promotion comes from, before any resource is created: a stack that exports no
 * image, or an image in a registry this stack cannot log in to, stops the program with its own
 * message (the stack reference is read, nothing is created).
 */
export async function lookUpPromotion(config: ImageConfig, registries: RegistryCredentials, opts: pulumi.CustomResourceOptions = {}): Promise<Promotion | undefined> {
    if (config.source !== "promote") return undefined;
    const from = new pulumi.StackReference(config.promoteFrom, { name: config.promoteFrom }, opts);
    const [id, deployments] = await Promise.all([from.getOutputDetails("imageId"), from.getOutputDetails("deployments")]);
    const imageId = checkImageId(String(id.value ?? id.secretValue), `${config.promoteFrom}'s imageId`);
    const ref = promotedRef(config.promoteFrom, deployments.value ?? deployments.secretValue);
    return { ref, imageId, login: loginFor(registryHost(ref), registries, `promotion from ${config.promoteFrom}`) };
}

/** The one image of this deployment: at most one docker.Image per `pulumi up`. */
export function resolveImage(config: ImageConfig, app: AppConfig, registries: RegistryCredentials, promotion?: Promotion, opts: pulumi.CustomResourceOptions = {}): ImageArtifact {
    switch (config.source) {
        case "build": {
            const version = packageVersion();
            const image = new docker.Image(
                `${app.name}-image`,
                {
                    imageName: `${app.name}:${version}`,
                    skipPush: true,
                    build: {
                        context: APP_DIR,
                        dockerfile: path.join(APP_DIR, "Dockerfile"),
                        platform: config.platform,
                        args: buildArgs(app),
                    },
                },
                opts,
            );
            // For a local (skipPush) image, repoDigest is the image ID: the config digest.
            const imageId = image.repoDigest.apply((id) => checkImageId(id, "the built image's ID"));
            return new Artifact(imageId, config.platform);
        }
        case "ref": {
            const provider = registryProvider(`${app.name}-pull`, loginFor(registryHost(config.ref), registries, `${PROJECT}:image.ref`), opts);
            const pulled = new docker.RemoteImage(
                `${app.name}-pinned`,
                { name: config.ref, platform: config.platform, keepLocally: true },
                { ...opts, provider },
            );
            const imageId = pulled.imageId.apply((id) => checkImageId(id, `the ID of ${config.ref}`));
            return new Artifact(imageId, config.platform);
        }
        case "promote": {
            if (!promotion) throw new Error(`promotion from ${config.promoteFrom}: its stack was not read first (lookUpPromotion)`);
            const provider = registryProvider(`${app.name}-pull`, promotion.login, opts);
            const pulled = new docker.RemoteImage(
                `${app.name}-promoted`,
                { name: promotion.ref, platform: config.platform, keepLocally: true },
                { ...opts, provider },
            );
            // The bits pulled must be the bits the other stack tested; refuse anything else.
            const imageId = pulumi.all([pulled.imageId, promotion.imageId]).apply(([got, want]) => {
                if (got !== want) {
                    throw new Error(`promotion refused: ${config.promoteFrom} exports imageId ${want} but its image pulled as ${got}`);
                }
                return got;
            });
            return new Artifact(imageId, config.platform);
        }
    }
}

/** The first registry reference (`repo@sha256:…`) among another stack's deployments. */
export function promotedRef(stack: string, deployments: unknown): string {
    if (typeof deployments === "object" && deployments !== null) {
        for (const entry of Object.values(deployments)) {
            const image = (entry as { image?: unknown } | null)?.image;
            if (typeof image === "string" && /^[^@\s]+\/[^@\s]+@sha256:[0-9a-f]{64}$/.test(image)) return image;
        }
    }
    throw new Error(`promotion refused: ${stack} exports no deployment with a registry image (repo@sha256:…) to promote`);
}

/** Docker's two image stores. Only on the classic one is the local image ID the config digest. */
export type ImageStore = "classic" | "containerd";

/**
 * The engine's image store, from `docker info --format '{{json .DriverStatus}}'`: the containerd
 * store reports `["driver-type", "io.containerd.snapshotter.v1"]`; the classic one names its
 * graph driver's details (overlay2: "Backing Filesystem", …) and no driver-type.
 */
export function imageStoreOf(driverStatusJson: string): ImageStore {
    const status = JSON.parse(driverStatusJson || "null") as Array<[string, string]> | null;
    return (status ?? []).some(([key, value]) => key === "driver-type" && value.startsWith("io.containerd.snapshotter")) ? "containerd" : "classic";
}

const STORE_CACHE = Symbol.for("onedigest.imageStore");

/**
 * The store of the engine this run uses, asked once per process; undefined when the engine cannot
 * be asked (no CLI, engine down: the docker provider then reports that itself).
 */
export function engineImageStore(env: NodeJS.ProcessEnv = process.env): ImageStore | undefined {
    const cache = globalThis as unknown as Record<symbol, ImageStore | undefined | null>;
    if (!(STORE_CACHE in cache)) {
        try {
            const out = execFileSync("docker", ["info", "--format", "{{json .DriverStatus}}"], { env, timeout: 20_000, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
            cache[STORE_CACHE] = imageStoreOf(out);
        } catch {
            cache[STORE_CACHE] = null;
        }
    }
    return cache[STORE_CACHE] ?? undefined;
}

/**
 * Stops before any resource on the containerd image store. There the local image ID is a manifest
 * or index digest, not the config digest every target and promotion compare, and pushes carry OCI
 * manifests that Heroku refuses.
 */
export function requireClassicImageStore(store: ImageStore | undefined): void {
    if (store !== "containerd") return;
    throw new pulumi.RunError(
        "Docker's containerd image store is enabled on this engine (docker info: driver-type io.containerd.snapshotter.v1). " +
            "onedigest identifies an image by its config digest, which that store does not report as the image ID, and its pushes " +
            "use OCI manifests that Heroku refuses. Switch the engine to the classic store and run again: Docker Desktop → Settings → " +
            'General → untick "Use containerd for pulling and storing images"; Docker Engine → set {"features": {"containerd-snapshotter": false}} ' +
            "in /etc/docker/daemon.json and restart dockerd (images are kept per store: rebuild or pull after switching).",
    );
}
