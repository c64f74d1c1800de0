/**
 * What a policy sees of a resource: its inputs as the engine sent them, with secrets, unknowns,
 * assets and archives kept apart (the policy SDK's own view flattens secrets into plain values, so
 * a policy could not tell a secret input from a plain one).
 */

/** A value the engine does not know yet (during a preview): a policy cannot judge it, `up` will. */
export class Unknown {
    private readonly what = "unknown during preview";
    toString(): string {
        return `(${this.what})`;
    }
}
export const UNKNOWN = new Unknown();

export class Secret {
    constructor(readonly value: Value) {}
}

export class Asset {
    constructor(readonly file: { readonly text?: string; readonly path?: string; readonly uri?: string }) {}
}

export class Archive {
    constructor(readonly file: { readonly assets?: Readonly<Record<string, Value>>; readonly path?: string; readonly uri?: string }) {}
}

export type Scalar = null | boolean | number | string;
export type Value = Scalar | Unknown | Secret | Asset | Archive | readonly Value[] | { readonly [key: string]: Value };

export interface Resource {
    readonly type: string;
    readonly urn: string;
    /** The logical name the program gave it. */
    readonly name: string;
    readonly props: Readonly<Record<string, Value>>;
    readonly protect: boolean;
    readonly parent?: string;
    /** URNs it depends on, all of them and by input property (stack policies only). */
    readonly dependencies: readonly string[];
    readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
}

export interface StackInfo {
    readonly stack: string;
    readonly project: string;
    /** The stack's plain config (`namespace:key` → value); secret keys are listed, their values never kept. */
    readonly config: Readonly<Record<string, string>>;
    readonly secretKeys: readonly string[];
}

// The engine's wire signatures (@pulumi/pulumi runtime/rpc.ts).
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
export const UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isRecord(v: unknown): v is { readonly [key: string]: Value } {
    return typeof v === "object" && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/** A property value as the engine marshals it (Struct.toJavaScript()), with its special values recognised. */
export function fromWire(raw: unknown): Value {
    if (raw === UNKNOWN_SENTINEL) return UNKNOWN;
    if (raw === null || typeof raw === "boolean" || typeof raw === "number" || typeof raw === "string") return raw;
    if (raw === undefined) return null;
    if (Array.isArray(raw)) return raw.map(fromWire);
    const obj = raw as Record<string, unknown>;
    switch (obj[SIG_KEY]) {
        case SECRET_SIG:
            return new Secret(fromWire(obj.value));
        case ASSET_SIG:
            return new Asset({ text: stringOr(obj.text), path: stringOr(obj.path), uri: stringOr(obj.uri) });
        case ARCHIVE_SIG: {
            const assets = isRecord(obj.assets) ? Object.fromEntries(Object.entries(obj.assets).map(([k, v]) => [k, fromWire(v)])) : undefined;
            return new Archive({ assets, path: stringOr(obj.path), uri: stringOr(obj.uri) });
        }
        case RESOURCE_SIG:
            return stringOr(obj.id) ?? stringOr(obj.urn) ?? UNKNOWN;
        case OUTPUT_SIG: {
            if (!("value" in obj)) return UNKNOWN;
            const value = fromWire(obj.value);
            return obj.secret === true ? new Secret(value) : value;
        }
        default:
            return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, fromWire(v)]));
    }
}

function stringOr(v: unknown): string | undefined {
    return typeof v === "string" ? v : undefined;
}

/** The value with every secret wrapper removed (its contents kept): for reading, never for reporting. */
export function reveal(v: Value): Value {
    if (v instanceof Secret) return reveal(v.value);
    if (Array.isArray(v)) return v.map(reveal);
    if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)]));
    return v;
}

export function isUnknown(v: unknown): v is Unknown {
    return v instanceof Unknown;
}

/** True when any part of the value is unknown. */
export function hasUnknown(v: Value | undefined): boolean {
    if (v instanceof Unknown) return true;
    if (v instanceof Secret) return hasUnknown(v.value);
    if (v instanceof Archive) return Object.values(v.file.assets ?? {}).some(hasUnknown);
    if (Array.isArray(v)) return v.some(hasUnknown);
    if (isRecord(v)) return Object.values(v).some(hasUnknown);
    return false;
}

/** The field `key` of an object (through secrets), or undefined. */
export function field(v: Value | undefined, key: string): Value | undefined {
    const plain = v instanceof Secret ? reveal(v) : v;
    return isRecord(plain) ? plain[key] : undefined;
}

/** The elements of a list (through secrets); an empty list for anything else. */
export function items(v: Value | undefined): readonly Value[] {
    const plain = v instanceof Secret ? reveal(v) : v;
    return Array.isArray(plain) ? plain : [];
}

export function asString(v: Value | undefined): string | undefined {
    const plain = v instanceof Secret ? reveal(v) : v;
    return typeof plain === "string" ? plain : undefined;
}

export function asNumber(v: Value | undefined): number | undefined {
    const plain = v instanceof Secret ? reveal(v) : v;
    if (typeof plain === "number") return plain;
    if (typeof plain === "string" && /^-?\d+$/.test(plain)) return Number(plain);
    return undefined;
}

export function asBoolean(v: Value | undefined): boolean | undefined {
    const plain = v instanceof Secret ? reveal(v) : v;
    if (typeof plain === "boolean") return plain;
    if (plain === "true" || plain === "false") return plain === "true";
    return undefined;
}

/** A JSON document held in a string (a task definition's containers, a policy document), parsed; UNKNOWN while unknown. */
export function parseJson(v: Value | undefined): unknown {
    if (isUnknown(v)) return UNKNOWN;
    const text = asString(v);
    if (text === undefined) return typeof v === "object" && v !== null && !(v instanceof Asset) && !(v instanceof Archive) ? reveal(v) : undefined;
    try {
        return JSON.parse(text) as unknown;
    } catch {
        return undefined;
    }
}

/** One scalar inside a value, with where it is and whether a secret holds it. */
export interface Leaf {
    readonly path: string;
    readonly value: Scalar | Unknown;
    readonly secret: boolean;
}

export function childPath(base: string, key: string | number): string {
    if (typeof key === "number") return `${base}[${key}]`;
    const safe = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
    if (safe.startsWith('"')) return `${base}[${safe}]`;
    return base ? `${base}.${safe}` : safe;
}

/** Every scalar of a value, assets' texts among them (`path["file"]`), depth first. */
export function* leaves(v: Value, path = "", secret = false): Generator<Leaf> {
    if (v instanceof Secret) {
        yield* leaves(v.value, path, true);
    } else if (v instanceof Asset) {
        if (v.file.text !== undefined) yield { path, value: v.file.text, secret };
    } else if (v instanceof Archive) {
        for (const [name, asset] of Object.entries(v.file.assets ?? {})) yield* leaves(asset, `${path}[${JSON.stringify(name)}]`, secret);
    } else if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) yield* leaves(v[i], childPath(path, i), secret);
    } else if (isRecord(v)) {
        for (const [k, x] of Object.entries(v)) yield* leaves(x, childPath(path, k), secret);
    } else {
        yield { path, value: v as Scalar | Unknown, secret };
    }
}

/** The files of an archive (name → text), where they are known text assets. */
export function archiveFiles(v: Value | undefined): Record<string, string | Unknown> {
    const plain = v instanceof Secret ? v.value : v;
    if (isUnknown(plain)) return {};
    if (!(plain instanceof Archive)) return {};
    const out: Record<string, string | Unknown> = {};
    for (const [name, asset] of Object.entries(plain.file.assets ?? {})) {
        const a = asset instanceof Secret ? asset.value : asset;
        if (isUnknown(a)) out[name] = UNKNOWN;
        else if (a instanceof Asset && a.file.text !== undefined) out[name] = a.file.text;
    }
    return out;
}

/** The stack a URN belongs to (`urn:pulumi:<stack>::<project>::…`). */
export function stackOfUrn(urn: string): string {
    return urn.replace(/^urn:pulumi:/, "").split("::")[0] ?? "";
}

/** How messages name a resource: its type and logical name. */
export function named(r: Pick<Resource, "type" | "name">): string {
    return `${r.type} "${r.name}"`;
}
