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
        readonly source: ImageArtifact["source"],
        readonly localName: pulumi.Output<string>,
        readonly imageId: pulumi.Output<string>,
        readonly platform: Platform,
        private readonly dependsOn: readonly pulumi.Resource[],
    ) {}

    push(name: string, registry: RegistryTarget, opts: pulumi.ComponentResourceOptions = {}): PushedImage {
        // Tag the local image by its ID, not its name: the bits pushed are exactly the bits built.
        const tag = new docker.Tag(
            `${name}-tag`,
            {
                sourceImage: this.imageId,
                targetImage: pulumi.interpolate`${registry.repository}:${this.imageId.apply(tagFor)}`,
            },
            { ...opts, dependsOn: [...this.dependsOn] },
        );
        const pushed = new docker.RegistryImage(
            `${name}-push`,
            {
                name: tag.targetImage,
                // Older digests stay in the registry so a rollback by digest still finds them.
                keepRemotely: true,
                triggers: { imageId: this.imageId },
                authConfig: {
                    address: registry.server,
                    username: registry.username,
                    password: pulumi.secret(registry.password),
                },
            },
            { ...opts, additionalSecretOutputs: ["authConfig"] },
        );
        const digest = pushed.sha256Digest;
        return { digest, ref: pulumi.interpolate`${registry.repository}@${digest}`, resources: [pushed] };
    }
}

/** The one image of this deployment: at most one docker.Image per `pulumi up`. */
export function resolveImage(config: ImageConfig, app: AppConfig, opts: pulumi.CustomResourceOptions = {}): ImageArtifact {
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
            return new Artifact("build", image.imageName, imageId, config.platform, [image]);
        }
        case "ref": {
            const pulled = new docker.RemoteImage(
                `${app.name}-pinned`,
                { name: config.ref, platform: config.platform, keepLocally: true },
                opts,
            );
            const imageId = pulled.imageId.apply((id) => checkImageId(id, `the ID of ${config.ref}`));
            return new Artifact("ref", pulumi.output(config.ref), imageId, config.platform, [pulled]);
        }
        case "promote": {
            const from = new pulumi.StackReference(config.promoteFrom, { name: config.promoteFrom }, opts);
            const promotedId = from.requireOutput("imageId").apply((id) => checkImageId(String(id), `${config.promoteFrom}'s imageId`));
            const ref = from.requireOutput("deployments").apply((deployments) => promotedRef(config.promoteFrom, deployments));
            const pulled = new docker.RemoteImage(
                `${app.name}-promoted`,
                { name: ref, platform: config.platform, keepLocally: true },
                opts,
            );
            // The bits pulled must be the bits the other stack tested; refuse anything else.
            const imageId = pulumi.all([pulled.imageId, promotedId]).apply(([got, want]) => {
                if (got !== want) {
                    throw new Error(`promotion refused: ${config.promoteFrom} exports imageId ${want} but its image pulled as ${got}`);
                }
                return got;
            });
            return new Artifact("promote", ref, imageId, config.platform, [pulled]);
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
