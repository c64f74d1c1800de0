/**
 * An image as the engine holds it, read from its export (`docker save`: GET /images/{name}/get).
 * On the containerd image store the export is an OCI image layout whose blobs are the engine's own
 * manifest, config and compressed layers: the bits a push would send. The push copies them itself
 * where the engine's push would not do (registry/operations.ts).
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { platformEntry, type FetchedManifest, type Manifest } from "./client";
import { EngineError, requestStream, type EngineAddress } from "./engine";

export const MANIFEST_INDEXES = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];

/** The image manifest of an export, and its blobs. */
export interface ExportedImage {
    readonly manifest: FetchedManifest;
    /** A blob of the export, checked against its digest. */
    blob(digest: string): Buffer;
    /** Removes the unpacked export. */
    remove(): void;
}

const BLOCK = 512;

/** A tar header's text field: up to the first NUL. */
function text(header: Buffer, start: number, length: number): string {
    const field = header.subarray(start, start + length);
    const end = field.indexOf(0);
    return field.subarray(0, end < 0 ? field.length : end).toString("utf8");
}

/** The `path` of a pax extended header's records (`<len> path=<value>\n`), if it has one. */
function paxPath(records: Buffer): string | undefined {
    let at = 0;
    while (at < records.length) {
        const space = records.indexOf(0x20, at);
        const length = Number(records.subarray(at, space).toString());
        if (space < 0 || !Number.isInteger(length) || length <= 0) return undefined;
        const record = records.subarray(space + 1, at + length - 1).toString("utf8");
        if (record.startsWith("path=")) return record.slice("path=".length);
        at += length;
    }
    return undefined;
}

/** Where a tar entry goes under `dir`; names that would leave it are refused. */
function inside(dir: string, name: string): string {
    const target = path.resolve(dir, name);
    if (target !== dir && !target.startsWith(dir + path.sep)) throw new EngineError(`the image export holds an entry outside its directory: ${name}`, 0);
    return target;
}

/**
 * Unpacks a tar stream (ustar, with pax or GNU long names) into `dir`: regular files and
 * directories only, which is all an image export holds.
 */
export async function untar(stream: AsyncIterable<Buffer>, dir: string): Promise<void> {
    let pending = Buffer.alloc(0);
    // The entry being read: its bytes up to `size` are kept, the rest of its last block is padding.
    let entry: { type: string; size: number; read: number; total: number; fd?: number; data?: Buffer[] } | undefined;
    let longName: string | undefined;
    let ended = false;
    const close = (e: NonNullable<typeof entry>) => {
        if (e.fd !== undefined) fs.closeSync(e.fd);
        if (e.data) {
            const body = Buffer.concat(e.data);
            longName = e.type === "L" ? text(body, 0, body.length) : paxPath(body);
        }
    };
    for await (const chunk of stream) {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        let at = 0;
        while (!ended) {
            if (entry) {
                const take = Math.min(entry.total - entry.read, pending.length - at);
                const keep = Math.max(0, Math.min(take, entry.size - entry.read));
                const part = pending.subarray(at, at + keep);
                if (entry.fd !== undefined) fs.writeSync(entry.fd, part);
                else entry.data?.push(Buffer.from(part));
                entry.read += take;
                at += take;
                if (entry.read < entry.total) break;
                close(entry);
                entry = undefined;
                continue;
            }
            if (pending.length - at < BLOCK) break;
            const header = pending.subarray(at, at + BLOCK);
            at += BLOCK;
            if (header.every((b) => b === 0)) {
                ended = true;
                break;
            }
            const size = parseInt(text(header, 124, 12).trim() || "0", 8);
            const type = text(header, 156, 1) || "0";
            const prefix = text(header, 345, 155);
            const name = longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
            const next = { type, size, read: 0, total: Math.ceil(size / BLOCK) * BLOCK };
            if (type === "x" || type === "L") {
                entry = { ...next, data: [] };
                continue;
            }
            longName = undefined;
            if (type === "5") {
                fs.mkdirSync(inside(dir, name), { recursive: true });
            } else if (type === "0" || type === "7") {
                const target = inside(dir, name);
                fs.mkdirSync(path.dirname(target), { recursive: true });
                entry = { ...next, fd: fs.openSync(target, "w") };
            } else {
                // Global pax headers, links and the like: an image export needs none of them.
                entry = next;
            }
            if (entry && entry.total === 0) {
                close(entry);
                entry = undefined;
            }
        }
        pending = pending.subarray(at);
    }
    if (entry) {
        close(entry);
        throw new EngineError("the image export ended inside a tar entry", 0);
    }
    if (!ended) throw new EngineError("the image export ended without the tar's end marker", 0);
}

function readJson<T>(file: string): T {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}

/**
 * Exports `name` from the engine and returns its image manifest for `platform` (the manifest
 * itself, or its entry in an index), with the blobs it names.
 */
export async function exportImage(address: EngineAddress, name: string, platform: string): Promise<ExportedImage> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-export-"));
    const remove = () => fs.rmSync(dir, { recursive: true, force: true });
    try {
        const [osName, architecture, variant] = platform.split("/");
        const query = `names=${encodeURIComponent(name)}&platform=${encodeURIComponent(JSON.stringify({ os: osName, architecture, ...(variant ? { variant } : {}) }))}`;
        await untar(await requestStream(address, "GET", `/images/get?${query}`, `docker save ${name}`), dir);
        const blob = (digest: string): Buffer => {
            const hex = /^sha256:([0-9a-f]{64})$/.exec(digest)?.[1];
            const file = hex && path.join(dir, "blobs", "sha256", hex);
            if (!file || !fs.existsSync(file)) throw new EngineError(`the export of ${name} lacks blob ${digest}`, 0);
            const bytes = fs.readFileSync(file);
            if (`sha256:${createHash("sha256").update(bytes).digest("hex")}` !== digest) throw new EngineError(`the export of ${name} holds a blob ${digest} with other contents`, 0);
            return bytes;
        };
        const layout = path.join(dir, "index.json");
        if (!fs.existsSync(layout)) throw new EngineError(`the export of ${name} is not an OCI image layout (no index.json)`, 0);
        const top = readJson<Manifest>(layout).manifests ?? [];
        if (top.length !== 1) throw new EngineError(`the export of ${name} lists ${top.length} images, not one`, 0);
        const read = (digest: string, mediaType: string | undefined): FetchedManifest => {
            const bytes = blob(digest);
            const manifest = JSON.parse(bytes.toString("utf8")) as Manifest;
            return { digest, mediaType: manifest.mediaType ?? mediaType ?? "", manifest, bytes };
        };
        let manifest = read(top[0].digest, top[0].mediaType);
        if (manifest.manifest.manifests) {
            const entry = platformEntry(manifest, platform);
            if (!entry) throw new EngineError(`${name} is an index without a ${platform} image`, 0);
            manifest = read(entry.digest, entry.mediaType);
        }
        return { manifest, blob, remove };
    } catch (err) {
        remove();
        throw err;
    }
}
