/**
 * images-by-digest: every container a target runs names its image by digest, never by a tag.
 * one-image-id: every deployment of a stack runs the same image ID (the config digest).
 */
import { archiveFiles, asString, field, isUnknown, items, named, parseJson, reveal, type Resource, type Unknown, type Value, UNKNOWN } from "../values";
import { TYPES, type Violation } from "./types";

export const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;
/** `repo@sha256:<64 hex>`, the repository optionally with a registry host and port. */
export const DIGEST_REF = /^[^\s@]+@sha256:[0-9a-f]{64}$/;
const FIX_REF = "deploy the pushed image's repo@sha256:<manifest digest> (onedigest: image.ref, or the ref a push returns), never a tag";

/** One image a resource runs: where it is set and what it says (UNKNOWN during a preview). */
export interface ImageUse {
    readonly path: string;
    readonly image: string | Unknown;
}

/** The Dockerrun.aws.json of a Beanstalk source bundle (an archive, or its text). */
function dockerrunImage(r: Resource): ImageUse[] {
    const files = archiveFiles(r.props.source);
    const text = files["Dockerrun.aws.json"];
    if (text === undefined) return isUnknown(r.props.source) ? [{ path: "source", image: UNKNOWN }] : [];
    if (isUnknown(text)) return [{ path: 'source["Dockerrun.aws.json"]', image: UNKNOWN }];
    const doc = parseJson(text) as { Image?: { Name?: unknown } } | undefined;
    const name = doc?.Image?.Name;
    return [{ path: 'source["Dockerrun.aws.json"].Image.Name', image: typeof name === "string" ? name : "" }];
}

/** The containers of a task definition (its containerDefinitions JSON). */
export function taskContainers(r: Resource): Array<{ index: number; def: Record<string, unknown> }> | Unknown {
    const defs = parseJson(r.props.containerDefinitions);
    if (isUnknown(defs)) return UNKNOWN;
    if (!Array.isArray(defs)) return [];
    return defs.map((def, index) => ({ index, def: (def ?? {}) as Record<string, unknown> }));
}

/** The containers of a Cloud Run service (v2: template.containers; v1: template.spec.containers). */
export function runContainers(r: Resource): Array<{ path: string; container: Value }> {
    const template = field(r.props, "template");
    const v2 = r.type === TYPES.cloudRunV2;
    const list = v2 ? field(template, "containers") : field(field(template, "spec"), "containers");
    const base = v2 ? "template.containers" : "template.spec.containers";
    if (isUnknown(list)) return [{ path: base, container: UNKNOWN }];
    return items(list).map((container, i) => ({ path: `${base}[${i}]`, container }));
}

/** Every image reference a resource runs, by type; empty for resources that run none. */
export function imagesOf(r: Resource): ImageUse[] {
    switch (r.type) {
        case TYPES.taskDefinition: {
            const containers = taskContainers(r);
            if (isUnknown(containers)) return [{ path: "containerDefinitions", image: UNKNOWN }];
            return containers.map(({ index, def }) => ({ path: `containerDefinitions[${index}].image`, image: typeof def.image === "string" ? def.image : "" }));
        }
        case TYPES.cloudRunV2:
        case TYPES.cloudRunV1:
            return runContainers(r).map(({ path, container }) => {
                const image = isUnknown(container) ? container : field(container, "image");
                return { path: isUnknown(container) ? path : `${path}.image`, image: isUnknown(image) ? UNKNOWN : (asString(image) ?? "") };
            });
        case TYPES.bucketObject:
            return dockerrunImage(r);
        case TYPES.container: {
            const image = r.props.image;
            return [{ path: "image", image: isUnknown(image) ? UNKNOWN : (asString(image) ?? "") }];
        }
        default:
            return [];
    }
}

export function checkImagesByDigest(r: Resource): Violation[] {
    const out: Violation[] = [];
    for (const use of imagesOf(r)) {
        if (isUnknown(use.image)) continue;
        const byId = r.type === TYPES.container && IMAGE_ID.test(use.image);
        if (byId || DIGEST_REF.test(use.image)) continue;
        const what = use.image === "" ? "has no image" : `is ${JSON.stringify(use.image)}, ${use.image.includes("@") ? "not a sha256 digest" : "a tag"}`;
        const allowed = r.type === TYPES.container ? "an image ID (sha256:<64 hex>) or repo@sha256:<64 hex>" : "repo@sha256:<64 hex>";
        out.push({ message: `${named(r)}: ${use.path} ${what}; expected ${allowed}. Fix: ${FIX_REF}.` });
    }
    if (r.type === TYPES.herokuRelease) {
        for (const key of ["imageId", "manifestDigest"] as const) {
            const value = r.props[key];
            if (isUnknown(value)) continue;
            const text = asString(value) ?? "";
            if (!IMAGE_ID.test(text)) {
                out.push({
                    message: `${named(r)}: ${key} is ${JSON.stringify(text)}; expected sha256:<64 hex> (${key === "imageId" ? "the image's config digest" : "the manifest digest the push to registry.heroku.com returned"}). Fix: release the pushed image by its digests, never a tag.`,
                });
            }
        }
    }
    return out;
}

/** The image ID one deployment runs, as it declares it, with where. */
export interface ImageIdUse {
    readonly resource: Resource;
    readonly path: string;
    readonly imageId: string;
}

function envImageId(entries: readonly Value[], nameKey: string, valueKey: string): Value | undefined {
    for (const e of entries) {
        if (asString(field(e, nameKey)) === "IMAGE_ID") return field(e, valueKey);
    }
    return undefined;
}

/** The image IDs a resource declares it runs: the local container's image or IMAGE_ID, a release's imageId, the IMAGE_ID a platform passes the app. */
export function imageIdsOf(r: Resource): ImageIdUse[] {
    const out: ImageIdUse[] = [];
    const add = (path: string, v: Value | undefined) => {
        const text = asString(v);
        if (text !== undefined && IMAGE_ID.test(text)) out.push({ resource: r, path, imageId: text });
    };
    switch (r.type) {
        case TYPES.container: {
            // A container labelled a monitor (the local target's Prometheus) watches the app, not runs it.
            if (items(r.props.labels).some((l) => asString(field(l, "label")) === "onedigest.role" && asString(field(l, "value")) === "monitor")) break;
            add("image", r.props.image);
            for (const entry of items(r.props.envs)) {
                const text = asString(entry);
                if (text?.startsWith("IMAGE_ID=")) add("envs[IMAGE_ID]", text.slice("IMAGE_ID=".length));
            }
            break;
        }
        case TYPES.herokuRelease:
            add("imageId", r.props.imageId);
            break;
        case TYPES.taskDefinition: {
            const containers = taskContainers(r);
            if (isUnknown(containers)) break;
            for (const { index, def } of containers) {
                const env = Array.isArray(def.environment) ? (def.environment as Value[]) : [];
                add(`containerDefinitions[${index}].environment[IMAGE_ID]`, envImageId(env, "name", "value"));
            }
            break;
        }
        case TYPES.cloudRunV2:
        case TYPES.cloudRunV1:
            for (const { path, container } of runContainers(r)) add(`${path}.envs[IMAGE_ID]`, envImageId(items(field(container, r.type === TYPES.cloudRunV2 ? "envs" : "envs")), "name", "value"));
            break;
        case TYPES.bucketObject:
            for (const [file, text] of Object.entries(archiveFiles(r.props.source))) {
                if (isUnknown(text)) continue;
                const doc = parseJson(text) as { option_settings?: unknown } | undefined;
                if (!doc || !Array.isArray(doc.option_settings)) continue;
                add(`source[${JSON.stringify(file)}].option_settings[IMAGE_ID]`, envImageId(reveal(doc.option_settings as Value) as Value[], "option_name", "value"));
            }
            break;
    }
    return out;
}

export function checkOneImageId(resources: readonly Resource[]): Violation[] {
    const uses = resources.flatMap(imageIdsOf);
    const count = new Map<string, number>();
    for (const u of uses) count.set(u.imageId, (count.get(u.imageId) ?? 0) + 1);
    if (count.size <= 1) return [];
    // The image most deployments run is the stack's; ties go to the smaller ID, so reports are stable.
    const ids = [...count.keys()].sort((a, b) => count.get(b)! - count.get(a)! || a.localeCompare(b));
    const main = ids[0];
    const witness = uses.filter((u) => u.imageId === main).sort((a, b) => a.resource.urn.localeCompare(b.resource.urn))[0];
    return uses
        .filter((u) => u.imageId !== main)
        .map((u) => ({
            urn: u.resource.urn,
            message: `${named(u.resource)}: ${u.path} runs ${u.imageId}, but ${named(witness.resource)} runs ${main}; a stack deploys one image ID (${ids.length} here: ${ids.join(", ")}). Fix: deploy the one image the stack builds, pins or promotes to every target.`,
        }));
}
