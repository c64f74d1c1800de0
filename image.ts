/**
 * Where the one image comes from — a build (default), a pinned `repo@sha256:` ref (pin/rollback),
 * or another stack's image (promotion) — and how targets push those same bits to their registries.
 */
import * as path from "path";

import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

import { commitSha, packageVersion } from "./buildFacts";
import { projectRoot, type AppConfig, type ImageConfig, type SigningKey } from "./config";
import type { ImageArtifact, Platform, PushedImage, RegistryTarget } from "./providers/types";
import { RegistryClient, readRegistryImage, splitDigestRef, type Login, type RegistryImage } from "./registry/client";
import { RegistryPush } from "./registry/push";
import { RegistrySignature } from "./registry/sign";
import { verifySignature, type Signer, type SignatureLogin } from "./registry/signatures";
import { dockerHost, loginFor, registryHost, registryProvider, type RegistryCredentials, type RegistryLogin } from "./registryAuth";
import { PROJECT } from "./validate";

export const APP_DIR = path.join(projectRoot(), "app");
export const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;
export { commitSha, packageVersion };

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

/**
 * The local name a build is tagged with, `<app>:<version>-<stack>`: each stack writes only its own,
 * so two stacks building on one engine at once cannot take each other's bits. The local tag reads
 * the build's name right after it; a name two stacks share could hold the other stack's build by
 * then. Characters a Docker tag cannot hold become "-", and the tag is cut at Docker's 128.
 */
export function buildName(app: string, version: string, stack: string): string {
    return `${app}:${`${version}-${stack}`.replace(/[^\w.-]/g, "-").slice(0, 128)}`;
}

/** Asserts a resolved image ID has the identity shape; a wrong value here would deploy the wrong bits. */
export function checkImageId(imageId: string, what: string): string {
    if (!IMAGE_ID.test(imageId)) throw new Error(`${what} is not an image ID (sha256:<64 hex>): ${JSON.stringify(imageId)}`);
    return imageId;
}

/** `name:tag` or `host/path:tag` → its repository (the name without the tag). */
export function repositoryOf(name: string): string {
    const colon = name.lastIndexOf(":");
    return colon > name.lastIndexOf("/") ? name.slice(0, colon) : name;
}

/**
 * How the engine is asked for these bits. The engine's ID of an image is its config digest on
 * Docker's classic image store, and a manifest digest on the containerd store, which does not
 * resolve a config digest: there the image is named by the local tag's repository and that digest.
 */
export function localRef(tagName: string, engineId: string, imageId: string): string {
    checkImageId(engineId, `the engine's ID of ${tagName}`);
    return engineId === imageId ? imageId : `${repositoryOf(tagName)}@${engineId}`;
}

class Artifact implements ImageArtifact {
    readonly localRef: pulumi.Output<string>;

    constructor(
        readonly imageId: pulumi.Output<string>,
        readonly platform: Platform,
        tag: docker.Tag,
        private readonly signing?: SigningKey,
    ) {
        this.localRef = pulumi.all([tag.targetImage, tag.sourceImageId, imageId]).apply(([name, engineId, id]) => localRef(name, engineId, id));
    }

    push(name: string, registry: RegistryTarget, opts: pulumi.ComponentResourceOptions = {}): PushedImage {
        // Tagged by its image ID, so the same bits always get the same tag; a registry that holds
        // them already (a rollback, a re-promotion) is not pushed to again (registry/operations.ts).
        const pushed = new RegistryPush(
            `${name}-push`,
            {
                // The bits pushed are exactly the bits built or pulled: the engine's image, by a name it resolves.
                source: this.localRef,
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
        // A build's copies are signed where the registry can hold a signature: Heroku's takes Docker
        // v2 image manifests only, and cosign's signatures are OCI artifacts.
        if (!this.signing || registry.manifest === "docker-v2") return { digest: pushed.digest, ref: pushed.ref, resources: [pushed] };
        const signature = new RegistrySignature(
            `${name}-signature`,
            { ref: pushed.ref, server: registry.server, username: registry.username, password: registry.password, signingKey: this.signing.key, signingKeyPassword: this.signing.password },
            { ...opts, dependsOn: [pushed] },
        );
        return { digest: pushed.digest, ref: pushed.ref, resources: [pushed, signature] };
    }
}

/** An image in a registry, as read before any resource: what to pull, its config digest, the login. */
export interface RegistryRef {
    readonly ref: string;
    /** The config digest the registry's manifest of `ref` names: content addressing ties it to `ref`. */
    readonly imageId: string;
    readonly login: pulumi.Output<RegistryLogin>;
}

/** Reads what a reference by digest is, from its registry, with a login. */
export type RegistryReader = (ref: string, platform: string, login: Login) => Promise<RegistryImage>;

const readFromRegistry: RegistryReader = (ref, platform, login) => readRegistryImage(ref, platform, new RegistryClient(splitDigestRef(ref).repository, login));

/**
 * A login's values, once the run has them (config secrets, tokens from invokes: known in a preview
 * too). The SDK's Output keeps its settled value behind `promise()`, which it does not declare; it
 * is the one way to see an Output fail (a token invoke refused) instead of waiting for ever.
 */
function loginValues(login: pulumi.Output<RegistryLogin>): Promise<Login> {
    const settled = (login as unknown as { promise?: () => Promise<{ username?: string; password?: string; authDisabled?: boolean }> }).promise;
    if (typeof settled !== "function") throw new Error("the Pulumi SDK's Output has no promise(): a login cannot be read before any resource");
    return settled.call(login).then((l) => (l.authDisabled ? {} : { username: l.username, password: l.password }));
}

async function configDigest(ref: string, platform: string, login: pulumi.Output<RegistryLogin>, read: RegistryReader, what: string): Promise<string> {
    let values: Login;
    try {
        values = await loginValues(login);
    } catch (err) {
        throw new pulumi.RunError(`${what}: no login for ${registryHost(ref)}: ${(err as Error).message}`);
    }
    try {
        return (await read(ref, platform, values)).configDigest;
    } catch (err) {
        throw new pulumi.RunError(`${what}: cannot read ${ref} from its registry: ${(err as Error).message}`);
    }
}

/**
 * Reads, before any resource is created, the image a pinned ref or a promotion names: its config
 * digest from the registry's manifest of that digest, and for a promotion the other stack's outputs
 * (a stack that exports no image, an image in a registry this stack cannot log in to, or an image
 * whose config digest is not the imageId the stack exports stops the program with its own message).
 */
/** Checks that a reference carries the signer's signature over its digest; throws why not. */
export type SignatureVerifier = (ref: string, signer: Signer, login: SignatureLogin, what: string) => Promise<void>;

/** With `image.signedBy` set, bits this stack did not build deploy only with that signer's signature. */
async function checkSigned(config: ImageConfig, ref: string, login: pulumi.Output<RegistryLogin>, what: string, verify: SignatureVerifier): Promise<void> {
    if (config.signedBy) await verify(ref, config.signedBy, await loginValues(login), what);
}

export async function lookUpImage(
    config: ImageConfig,
    registries: RegistryCredentials,
    opts: pulumi.CustomResourceOptions = {},
    read: RegistryReader = readFromRegistry,
    verify: SignatureVerifier = verifySignature,
): Promise<RegistryRef | undefined> {
    switch (config.source) {
        case "build":
            return undefined;
        case "ref": {
            const what = `${PROJECT}:image.ref`;
            const login = loginFor(registryHost(config.ref), registries, what);
            const imageId = checkImageId(await configDigest(config.ref, config.platform, login, read, what), `the config digest of ${config.ref}`);
            await checkSigned(config, config.ref, login, what, verify);
            return { ref: config.ref, imageId, login };
        }
        case "promote": {
            const from = new pulumi.StackReference(config.promoteFrom, { name: config.promoteFrom }, opts);
            const [id, deployments] = await Promise.all([from.getOutputDetails("imageId"), from.getOutputDetails("deployments")]);
            const imageId = checkImageId(String(id.value ?? id.secretValue), `${config.promoteFrom}'s imageId`);
            const ref = promotedRef(config.promoteFrom, deployments.value ?? deployments.secretValue);
            const login = loginFor(registryHost(ref), registries, `promotion from ${config.promoteFrom}`);
            // The bits in the registry must be the bits the other stack tested; refuse anything else.
            const got = await configDigest(ref, config.platform, login, read, `promotion from ${config.promoteFrom}`);
            if (got !== imageId) throw new pulumi.RunError(`promotion refused: ${config.promoteFrom} exports imageId ${imageId} but its image ${ref} has config digest ${got}`);
            await checkSigned(config, ref, login, `promotion from ${config.promoteFrom}`, verify);
            return { ref, imageId, login };
        }
    }
}

/**
 * A pull must leave the engine holding what was asked: its ID is the config digest (the classic
 * store) or the reference's own digest (the containerd store keeps the manifest or index pulled).
 */
export function checkPulled(engineId: string, source: RegistryRef, what: string): string {
    checkImageId(engineId, `the ID of ${source.ref}`);
    if (engineId !== source.imageId && engineId !== splitDigestRef(source.ref).digest) {
        throw new Error(`${what}: ${source.ref} pulled as ${engineId}, which is neither its config digest ${source.imageId} nor its manifest digest`);
    }
    return engineId;
}

/** The local tag named after the image ID: the name the engine runs and pushes these bits by. */
function localTag(app: AppConfig, source: pulumi.Input<string>, imageId: pulumi.Input<string>, opts: pulumi.CustomResourceOptions): docker.Tag {
    return new docker.Tag(`${app.name}-tag`, { sourceImage: source, targetImage: pulumi.interpolate`${app.name}:${pulumi.output(imageId).apply(tagFor)}` }, opts);
}

/** The one image of this deployment: at most one docker.Image per `pulumi up`. */
export function resolveImage(config: ImageConfig, app: AppConfig, registries: RegistryCredentials, source?: RegistryRef, opts: pulumi.CustomResourceOptions = {}): ImageArtifact {
    switch (config.source) {
        case "build": {
            const version = packageVersion();
            const image = new docker.Image(
                `${app.name}-image`,
                {
                    imageName: buildName(app.name, version, pulumi.getStack()),
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
            // For a local (skipPush) image, repoDigest is the config digest, on either image store.
            const imageId = image.repoDigest.apply((id) => checkImageId(id, "the built image's ID"));
            return new Artifact(imageId, config.platform, localTag(app, image.imageName, imageId, opts), config.signing);
        }
        case "ref":
        case "promote": {
            if (!source) throw new Error(`${config.source === "ref" ? `${PROJECT}:image.ref` : `promotion from ${config.promoteFrom}`}: its registry was not read first (lookUpImage)`);
            const provider = registryProvider(`${app.name}-pull`, source.login, opts);
            const pulled = new docker.RemoteImage(
                `${app.name}-${config.source === "ref" ? "pinned" : "promoted"}`,
                { name: source.ref, platform: config.platform, keepLocally: true },
                { ...opts, provider },
            );
            const what = config.source === "ref" ? `${PROJECT}:image.ref` : `promotion from ${config.promoteFrom}`;
            const checked = pulumi.all([pulled.imageId, pulled.name]).apply(([id, name]) => (checkPulled(id, source, what), name));
            return new Artifact(pulumi.output(source.imageId), config.platform, localTag(app, checked, source.imageId, opts));
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
