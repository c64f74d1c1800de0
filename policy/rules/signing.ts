/**
 * signed-images-only: with onedigest:image.signedBy set, the stack deploys only bits that can be
 * verified against it. What the pack can check from the stack alone: the setting's shape, that
 * nothing is built on the spot (new bits no one signed), and that every image pulled is pinned by
 * digest (a signature is over a digest; a tag can move after it was checked).
 */
import { asString, isUnknown, named, type Resource, type StackInfo } from "../values";
import { DIGEST_REF } from "./images";
import { TYPES, type Violation } from "./types";

export const SIGNED_BY_KEY = "onedigest:image";

/** The stack's `onedigest:image.signedBy`, or undefined when the stack does not set it. */
export function signedBy(stack: StackInfo): unknown {
    const text = stack.config[SIGNED_BY_KEY];
    if (text === undefined) return undefined;
    try {
        return (JSON.parse(text) as { signedBy?: unknown } | null)?.signedBy;
    } catch {
        return undefined;
    }
}

function wellFormed(v: unknown): boolean {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
    const o = v as Record<string, unknown>;
    const nonEmpty = (x: unknown) => typeof x === "string" && x.length > 0;
    const keys = Object.keys(o).sort().join(",");
    return (keys === "key" && nonEmpty(o.key)) || (keys === "identity,issuer" && nonEmpty(o.identity) && nonEmpty(o.issuer));
}

export function checkSignedImages(resources: readonly Resource[], stack: StackInfo): Violation[] {
    const signer = signedBy(stack);
    if (signer === undefined) return [];
    const out: Violation[] = [];
    if (!wellFormed(signer)) {
        out.push({ message: `${SIGNED_BY_KEY}.signedBy is ${JSON.stringify(signer)}; expected { key: "<public key>" } or { identity: "<signer identity>", issuer: "<OIDC issuer>" }. Fix: pulumi config set --path onedigest:image.signedBy.key -- "$(cat cosign.pub)".` });
    }
    for (const r of resources) {
        if (r.type === TYPES.dockerImage) {
            out.push({ urn: r.urn, message: `${named(r)}: the stack builds its image, but ${SIGNED_BY_KEY}.signedBy only admits signed bits and a fresh build is signed by no one. Fix: deploy a signed image by digest (onedigest:image.ref or image.promoteFrom), or remove signedBy.` });
        }
        if (r.type === TYPES.remoteImage) {
            const name = r.props.name;
            if (isUnknown(name)) continue;
            const ref = asString(name) ?? "";
            if (!DIGEST_REF.test(ref)) {
                out.push({ urn: r.urn, message: `${named(r)}: name is ${JSON.stringify(ref)}, not pinned by digest, so no signature check can hold for what runs. Fix: pull repo@sha256:<64 hex> (onedigest:image.ref).` });
            }
        }
    }
    return out;
}
