/**
 * What the push resource does, as plain async functions (tests run them against real loopback
 * registries and a real engine): a push of bits a registry already holds is a no-op, and every copy
 * is checked to be the bits deployed.
 *
 * ECR and Artifact Registry repositories with immutable tags refuse to write an existing tag again,
 * even with the same digest (ECR: ImageTagAlreadyExistsException), and `docker push` always writes
 * the tag. So a rollback or a re-promotion of bits a registry held before would fail there. Here the
 * registry is asked first: when the tag is already there with the same config digest, its manifest is
 * used as it is and nothing is pushed.
 */
import { EngineError, engineAddress, inspectImage, pushImage, tagImage, untagImage, type EngineAddress, type LocalImage } from "./engine";
import { MANIFEST_V2, RegistryClient, RegistryError, platformEntry, toDockerV2, type FetchedManifest } from "./client";
import { MANIFEST_INDEXES, exportImage } from "./export";

/** Which manifests a registry takes: any (OCI or Docker), or Docker v2 schema 2 only (Heroku's). */
export type ManifestKind = "any" | "docker-v2";

export interface PushInputs {
    /** What the engine knows the bits as: a name it resolves on either image store (the local tag). */
    readonly source: string;
    /** The config digest every copy must have: the identity of the bits. */
    readonly imageId: string;
    /** `host[:port]/path`, no tag. */
    readonly repository: string;
    readonly tag: string;
    readonly platform: string;
    readonly manifest: ManifestKind;
    /** The registry's login address, as the engine's X-Registry-Auth names it. */
    readonly server: string;
    readonly username: string;
    /** A secret input; a change of it alone changes nothing (see diffPush). */
    readonly password: string;
    /** The provider's docker:host, if set. */
    readonly dockerHost?: string;
}

export interface PushOutputs extends PushInputs {
    /** The manifest digest deployments pin. */
    readonly digest: string;
    /** `repository@digest`. */
    readonly ref: string;
    readonly mediaType: string;
    /** False when the registry held the bits already and nothing was pushed. */
    readonly pushed: boolean;
}

/** Fields whose change means other bits or another place: a new push (a replacement). */
export const PUSH_IDENTITY = ["imageId", "repository", "tag", "platform", "manifest"] as const;

export function diffPush(olds: PushInputs, news: PushInputs): { changes: boolean; replaces: string[] } {
    const replaces = PUSH_IDENTITY.filter((f) => olds[f] !== news[f]);
    return { changes: replaces.length > 0, replaces: [...replaces] };
}

export interface Deps {
    readonly registry: (inputs: PushInputs) => RegistryClient;
    readonly engine: (inputs: PushInputs) => EngineAddress;
}

const realDeps: Deps = {
    registry: (inputs) => new RegistryClient(inputs.repository, { username: inputs.username, password: inputs.password }),
    engine: (inputs) => engineAddress(inputs.dockerHost),
};

/** The image manifest a tag resolves to for the platform: itself, or its entry in an index. */
async function imageManifest(registry: RegistryClient, fetched: FetchedManifest, inputs: PushInputs): Promise<FetchedManifest> {
    if (!fetched.manifest.manifests) return fetched;
    const entry = platformEntry(fetched, inputs.platform);
    const child = entry && (await registry.getManifest(entry.digest));
    if (!child) throw new RegistryError(`${inputs.repository}:${inputs.tag} is an index without a ${inputs.platform} image`, 0);
    return child;
}

/**
 * Who pushes: the engine, or the program from the engine's export. The classic store keeps no
 * manifest and its push writes Docker v2 schema 2; the containerd store pushes the manifest it
 * keeps — Docker v2 from BuildKit, OCI from the legacy builder or an OCI pull, or a whole index
 * with its attestation manifests. A registry that takes Docker v2 schema 2 only (Heroku's) must
 * never be sent another kind, and an index is never sent anywhere: the program copies the one
 * platform's manifest and blobs itself, rewritten as Docker v2 where the registry needs it.
 */
export function pushRoute(local: LocalImage, manifest: ManifestKind): "engine" | "copy" {
    const stored = local.descriptor?.mediaType;
    if (stored === undefined) return "engine";
    if (MANIFEST_INDEXES.includes(stored)) return "copy";
    return manifest === "docker-v2" && stored !== MANIFEST_V2 ? "copy" : "engine";
}

/** The engine's push: tag the source with the registry's name, push it with the login. */
async function enginePush(engine: EngineAddress, inputs: PushInputs): Promise<string> {
    await tagImage(engine, inputs.source, inputs.repository, inputs.tag);
    return pushImage(engine, inputs.repository, inputs.tag, { username: inputs.username, password: inputs.password, server: inputs.server });
}

/**
 * The program's own push of the engine's export: the platform's config and layers (those the
 * registry lacks), then its manifest — as the engine keeps it, or as Docker v2 schema 2 of the same
 * blobs where the registry takes only that. Returns the manifest digest.
 */
async function copyPush(engine: EngineAddress, registry: RegistryClient, inputs: PushInputs): Promise<string> {
    const exported = await exportImage(engine, inputs.source, inputs.platform);
    try {
        const { manifest, mediaType, bytes } = exported.manifest;
        if (manifest.config?.digest !== inputs.imageId) {
            throw new RegistryError(`the engine's ${inputs.source} is other bits (config digest ${String(manifest.config?.digest)}, not ${inputs.imageId})`, 0);
        }
        const v2 = inputs.manifest === "docker-v2" && mediaType !== MANIFEST_V2;
        const put = v2 ? toDockerV2(manifest) : bytes;
        for (const blob of [manifest.config, ...(manifest.layers ?? [])]) {
            if (!(await registry.hasBlob(blob.digest))) await registry.putBlob(blob.digest, exported.blob(blob.digest));
        }
        return await registry.putManifest(inputs.tag, put, v2 ? MANIFEST_V2 : mediaType);
    } finally {
        exported.remove();
    }
}

export async function push(inputs: PushInputs, deps: Deps = realDeps): Promise<PushOutputs> {
    const registry = deps.registry(inputs);
    let held = await registry.getManifest(inputs.tag);
    const pushed = held === undefined;
    if (!held) {
        const engine = deps.engine(inputs);
        const route = pushRoute(await inspectImage(engine, inputs.source), inputs.manifest);
        const digest = route === "copy" ? await copyPush(engine, registry, inputs) : await enginePush(engine, inputs);
        held = await registry.getManifest(digest);
        if (!held) throw new RegistryError(`${inputs.repository}@${digest} was pushed but the registry does not have it`, 404);
    }
    let image = await imageManifest(registry, held, inputs);
    const configDigest = image.manifest.config?.digest;
    if (configDigest !== inputs.imageId) {
        throw new RegistryError(
            `${inputs.repository}:${inputs.tag} holds other bits (config digest ${String(configDigest)}, not ${inputs.imageId}). ` +
                "Its tag names the image ID it should hold, and a registry with immutable tags cannot move it: delete that image from the repository and run again.",
            409,
        );
    }
    if (inputs.manifest === "docker-v2" && image.mediaType !== MANIFEST_V2) {
        // The same blobs under Docker's media types: the same config digest, a new manifest digest.
        const bytes = toDockerV2(image.manifest);
        const digest = await registry.putManifest(inputs.tag, bytes, MANIFEST_V2);
        image = { digest, mediaType: MANIFEST_V2, manifest: JSON.parse(bytes.toString("utf8")), bytes };
    }
    return { ...inputs, digest: image.digest, ref: `${inputs.repository}@${image.digest}`, mediaType: image.mediaType, pushed };
}

/** Drops the local tag the push made; the registry keeps the image (a rollback by digest finds it). */
export async function unpush(state: PushOutputs, deps: Deps = realDeps): Promise<void> {
    try {
        await untagImage(deps.engine(state), state.repository, state.tag);
    } catch (err) {
        // The engine may be gone or elsewhere by now; the registry's copy is what matters.
        if (!(err instanceof EngineError)) throw err;
    }
}
