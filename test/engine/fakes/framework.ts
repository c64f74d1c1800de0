/**
 * The shared part of the fake `aws` and `gcp` resource provider plugins: a provider built from a
 * list of resource modules and a map of invokes, served with `@pulumi/pulumi`'s `provider.main`
 * (the real provider protocol over gRPC), over a locked JSON store that keeps a cloud's state
 * between runs and between the several plugin processes one `pulumi up` starts.
 *
 * How a cloud plugs in
 * --------------------
 * A cloud is a directory `fakes/<cloud>/` with one module per cloud service and an `index.ts` that
 * calls {@link serve} with a {@link Cloud}: its name and version (what the plugin reports), its
 * {@link ResourceModule}s, its {@link InvokeFn}s by token, and how its errors read
 * ({@link Cloud.formatError}). Anything else the engine asks for — a resource type or an invoke the
 * cloud does not list — fails with `unknown resource type` / `unknown function`.
 *
 * A {@link ResourceModule} is a small state machine over the store:
 * - `type`: the Pulumi token (`gcp:artifactregistry/repository:Repository`);
 * - `forceNew`: the Terraform provider's `ForceNew` fields as {@link ForceNew} rows, in the SDK's
 *   (camelCase) names; `diff` replaces the resource when one of them changes, and updates it in
 *   place for any other change;
 * - `deleteBeforeReplace` only where the cloud needs the old one gone first, with its source;
 * - `check` (optional) validates inputs the way the cloud's API would before any call;
 * - `create` / `read` / `update` / `delete`, each given an {@link Op}: the locked store
 *   ({@link Db}: `op.db.table(name)` is a plain object of records by key, saved when the call
 *   returns, dropped when it throws), the provider configuration (`op.setting("region", inputs)`:
 *   the resource's own `region`/`project` input, else `aws:region` / `gcp:project` … from
 *   Configure), the resource's URN and logical name, and the cloud's clock (`op.now()`).
 *   `read` returns undefined when the resource is gone.
 * - `importInputs` (optional): the inputs the cloud's record maps back to when the engine imports a
 *   resource (the `import` option: a Read with no state), as the Terraform bridge extracts them —
 *   the input fields the cloud keeps, without defaults or zero values. Without it an import's
 *   Read returns no inputs.
 * Inputs reach modules with secrets unwrapped; outputs whose input was secret go back secret.
 *
 * A module refuses what the cloud refuses by throwing a {@link CloudError} (HTTP status, the
 * cloud's error code, its message): the framework turns it into the cloud's own wording with
 * `formatError` (e.g. `Error creating Repository: googleapi: Error 409: …`). Each rule a module
 * enforces is a {@link Rule} row in a table at the top of that module: the rule, the error, and the
 * document or provider source line it comes from.
 *
 * The store
 * ---------
 * One JSON file per cloud, `$ONEDIGEST_FAKE_STORE/<cloud>.json` ({@link StoreData}): `tables` (per
 * module, records by key), `log` (every create/update/delete/invoke and every refusal, in order),
 * and `clockOffsetMs` (how far a test has moved the cloud's clock, for rules that hold a name for a
 * period). Every call runs inside {@link Store.transact}: an exclusive lock file, a fresh read, the
 * change, an atomic rename — so processes that run at once never lose each other's writes. Records
 * the engine never deletes (`retainOnDelete`) stay in the store and keep their names taken.
 *
 * Provider configuration
 * ----------------------
 * `provider.main`'s server ignores Configure; {@link serve} wraps it to capture the configuration
 * from the request's variables (`gcp:config:project`) and args (`project`), and adds what the
 * Node.js server does not send: a `detailedDiff` (per property path, `…_REPLACE` under a ForceNew
 * field) and a DiffConfig that never replaces the provider.
 */
import Module = require("module");
import * as fs from "fs";
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

/** A resource's properties as the engine sends them (secrets unwrapped before modules see them). */
export type Props = Record<string, unknown>;

/** A field the Terraform provider marks `ForceNew`, in the Pulumi SDK's name (dotted for nested). */
export interface ForceNew {
    readonly field: string;
    /** The schema line it comes from, e.g. `google/services/artifactregistry/resource_artifact_registry_repository.go:238`. */
    readonly source: string;
}

/** One rule a fake enforces: what the cloud refuses, how it answers, and where that is written. */
export interface Rule {
    readonly rule: string;
    readonly error: { readonly status: number; readonly code: string; readonly message: string };
    readonly source: string;
}

/** What the cloud answers when it refuses a call. `code` is the cloud's own (an AWS exception name, a Google reason). */
export class CloudError extends Error {
    constructor(
        readonly status: number,
        readonly code: string,
        message: string,
    ) {
        super(message);
        this.name = "CloudError";
    }

    /** The error a rule row describes, with `{placeholders}` in its message filled from `values`. */
    static of(rule: Rule, values: Readonly<Record<string, string | number>> = {}): CloudError {
        const message = rule.error.message.replace(/\{(\w+)\}/g, (whole, key: string) => (key in values ? String(values[key]) : whole));
        return new CloudError(rule.error.status, rule.error.code, message);
    }
}

/** What the engine asked for when a CloudError came back. */
export interface Operation {
    readonly verb: "creating" | "reading" | "updating" | "deleting" | "invoking";
    /** The resource type's last part (`Repository`) or the invoke's token. */
    readonly kind: string;
    readonly type: string;
}

/** One entry of the store's log. */
export interface LogEntry {
    readonly at: string;
    readonly op: "create" | "update" | "delete" | "invoke" | "refused";
    readonly type: string;
    readonly id?: string;
    readonly name?: string;
    readonly error?: string;
}

/** The JSON a cloud's store file holds. */
export interface StoreData {
    tables: Record<string, Record<string, Props>>;
    log: LogEntry[];
    clockOffsetMs: number;
}

/** The store inside one transaction: tables to read and change, the log, the cloud's clock. */
export class Db {
    constructor(private readonly data: StoreData) {}

    /** The records of one table by key; changes are saved when the transaction ends. */
    table<T extends Props = Props>(name: string): Record<string, T> {
        this.data.tables[name] ??= {};
        return this.data.tables[name] as Record<string, T>;
    }

    log(entry: Omit<LogEntry, "at">): void {
        this.data.log.push({ at: new Date(this.now()).toISOString(), ...entry });
    }

    /** The cloud's clock: the machine's, moved forward by what a test asked for. */
    now(): number {
        return Date.now() + this.data.clockOffsetMs;
    }

    /** Moves the cloud's clock forward: how a test lets a period pass. */
    advanceClock(ms: number): void {
        this.data.clockOffsetMs += ms;
    }
}

const LOCK_WAIT_MS = 10;
const LOCK_STALE_MS = 30_000;

function sleepSync(ms: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** One cloud's JSON store file, shared by every process that opens it. */
export class Store {
    constructor(readonly file: string) {}

    static empty(): StoreData {
        return { tables: {}, log: [], clockOffsetMs: 0 };
    }

    /** The store as it is now (writes are atomic renames, so a read needs no lock). */
    snapshot(): StoreData {
        try {
            return JSON.parse(fs.readFileSync(this.file, "utf8")) as StoreData;
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code === "ENOENT") return Store.empty();
            throw err;
        }
    }

    /**
     * Runs `fn` holding the store's lock on a fresh read; saves what it changed when it returns and
     * drops it when it throws. Synchronous from lock to rename, so nothing else in this process runs
     * in between either.
     */
    transact<T>(fn: (db: Db) => T): T {
        const release = this.lock();
        try {
            const data = this.snapshot();
            const result = fn(new Db(data));
            const tmp = `${this.file}.${process.pid}.tmp`;
            fs.writeFileSync(tmp, JSON.stringify(data, null, 1));
            fs.renameSync(tmp, this.file);
            return result;
        } finally {
            release();
        }
    }

    private lock(): () => void {
        const lock = `${this.file}.lock`;
        fs.mkdirSync(path.dirname(this.file), { recursive: true });
        for (;;) {
            try {
                const fd = fs.openSync(lock, "wx");
                fs.writeSync(fd, String(process.pid));
                fs.closeSync(fd);
                return () => fs.rmSync(lock, { force: true });
            } catch (err) {
                if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
                this.breakStale(lock);
                sleepSync(LOCK_WAIT_MS);
            }
        }
    }

    /** A lock whose holder died (a plugin killed mid-call) is removed once it is old enough. */
    private breakStale(lock: string): void {
        try {
            const holder = Number(fs.readFileSync(lock, "utf8"));
            const age = Date.now() - fs.statSync(lock).mtimeMs;
            if (age > LOCK_STALE_MS && !(holder > 0 && alive(holder))) fs.rmSync(lock, { force: true });
        } catch {
            // Released between the two reads: try again.
        }
    }
}

/** The store file of `cloud` in the directory the harness names in ONEDIGEST_FAKE_STORE. */
export function storeFor(cloud: string, env: NodeJS.ProcessEnv = process.env): Store {
    return new Store(path.join(requireEnv("ONEDIGEST_FAKE_STORE", env), `${cloud}.json`));
}

/** An environment variable the harness must set for a fake; fails loudly when it did not. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set: the fake cloud plugins run only under test/engine/clouds.ts`);
    return value;
}

/** What a module call gets: the locked store and where the call comes from. */
export interface Op {
    readonly db: Db;
    readonly type: string;
    readonly urn: string;
    /** The resource's logical name (the last part of its URN). */
    readonly name: string;
    /** The provider's configuration, keys without namespace (`region`, `project`). */
    readonly config: Readonly<Record<string, string>>;
    /** A resource's own input (`region`, `project`, …), else the provider's configuration; undefined when neither. */
    setting(key: string, inputs?: Props): string | undefined;
    now(): number;
}

export interface CreateResult {
    readonly id: string;
    readonly outs: Props;
}

/** One resource type of a cloud; see the file's doc comment. */
export interface ResourceModule {
    readonly type: string;
    readonly forceNew: readonly ForceNew[];
    readonly deleteBeforeReplace?: { readonly why: string; readonly source: string };
    check?(inputs: Props): Array<{ property: string; reason: string }>;
    create(op: Op, inputs: Props): CreateResult;
    read(op: Op, id: string, state: Props): Props | undefined;
    importInputs?(op: Op, id: string, outs: Props): Props;
    update(op: Op, id: string, olds: Props, news: Props): Props;
    delete(op: Op, id: string, state: Props): void;
}

export type InvokeFn = (op: Op, args: Props) => Props;

export interface Cloud {
    /** The package: `aws` or `gcp`. */
    readonly name: string;
    /** The version the plugin reports (the SDK's). */
    readonly version: string;
    readonly resources: readonly ResourceModule[];
    readonly invokes: Readonly<Record<string, InvokeFn>>;
    /** A refusal in the cloud's own words, as its Terraform provider reports it. */
    formatError(err: CloudError, op: Operation): string;
}

// ---------------------------------------------------------------------------------------------
// Values on the wire: secrets and unknowns.

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";
/** What the engine sends for a value not known yet (a preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(value: unknown): boolean {
    return value === UNKNOWN;
}

function isSecret(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG] === SECRET_VALUE;
}

/** The value with every secret wrapper removed. */
export function reveal(value: unknown): unknown {
    if (isSecret(value)) return reveal(value.value);
    if (Array.isArray(value)) return value.map(reveal);
    if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)]));
    return value;
}

function revealProps(props: Props): { plain: Props; secretKeys: Set<string> } {
    const secretKeys = new Set(Object.keys(props).filter((k) => JSON.stringify(props[k] ?? null).includes(SECRET_VALUE)));
    return { plain: reveal(props) as Props, secretKeys };
}

function wrapSecrets(outs: Props, secretKeys: ReadonlySet<string>): Props {
    return Object.fromEntries(Object.entries(outs).map(([k, v]) => [k, secretKeys.has(k) && v !== undefined ? { [SECRET_SIG]: SECRET_VALUE, value: v } : v]));
}

// ---------------------------------------------------------------------------------------------
// Diff: ForceNew fields replace, anything else updates in place.

export type DiffKind = "add" | "delete" | "update";

export interface DiffResult {
    readonly changes: boolean;
    readonly replaces: string[];
    /** Property path (`template.containers[0].image`) → what changed, and whether it forces a replacement. */
    readonly detailed: Record<string, { kind: DiffKind; replace: boolean }>;
    readonly deleteBeforeReplace: boolean;
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `template.containers[0].image` → `template.containers.image`: how ForceNew fields are named. */
function fieldOf(propertyPath: string): string {
    return propertyPath.replace(/\[\d+\]/g, "");
}

function forcesNew(module: Pick<ResourceModule, "forceNew">, propertyPath: string): boolean {
    const field = fieldOf(propertyPath);
    return module.forceNew.some((f) => field === f.field || field.startsWith(`${f.field}.`));
}

function walk(olds: unknown, news: unknown, at: string, out: Array<[string, DiffKind]>): void {
    if (isUnknown(news)) {
        out.push([at, olds === undefined ? "add" : "update"]);
    } else if (isObject(olds) && isObject(news)) {
        for (const key of new Set([...Object.keys(olds), ...Object.keys(news)])) walk(olds[key], news[key], at ? `${at}.${key}` : key, out);
    } else if (Array.isArray(olds) && Array.isArray(news) && olds.length === news.length) {
        olds.forEach((o, i) => walk(o, news[i], `${at}[${i}]`, out));
    } else if (olds === undefined || olds === null) {
        if (news !== undefined && news !== null) out.push([at, "add"]);
    } else if (news === undefined || news === null) {
        out.push([at, "delete"]);
    } else if (JSON.stringify(olds) !== JSON.stringify(news)) {
        out.push([at, "update"]);
    }
}

/**
 * The diff of a resource's old inputs against its new ones. Outputs the cloud computed are not
 * compared: a field left out of both inputs is no change, whatever the cloud filled in.
 */
export function diffInputs(module: Pick<ResourceModule, "forceNew" | "deleteBeforeReplace">, oldInputs: Props, newInputs: Props, ignoreChanges: readonly string[] = []): DiffResult {
    const changed: Array<[string, DiffKind]> = [];
    walk(reveal(oldInputs), reveal(newInputs), "", changed);
    const detailed: DiffResult["detailed"] = {};
    const replaces = new Set<string>();
    for (const [at, kind] of changed) {
        if (at.startsWith("__") || ignoreChanges.some((p) => at === p || at.startsWith(`${p}.`) || at.startsWith(`${p}[`))) continue;
        const replace = forcesNew(module, at);
        detailed[at] = { kind, replace };
        if (replace) replaces.add(at.split(/[.[]/)[0]);
    }
    return {
        changes: Object.keys(detailed).length > 0,
        replaces: [...replaces],
        detailed,
        deleteBeforeReplace: replaces.size > 0 && module.deleteBeforeReplace !== undefined,
    };
}

// ---------------------------------------------------------------------------------------------
// The provider.

function lastPart(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

function typeOf(urn: string): string {
    return urn.split("::")[2]?.split("$").pop() ?? "";
}

class FakeProvider implements pulumi.provider.Provider {
    readonly version: string;
    /** What Configure said, keys without namespace. */
    readonly config: Record<string, string> = {};
    private readonly modules: Map<string, ResourceModule>;

    constructor(
        readonly cloud: Cloud,
        readonly store: Store,
    ) {
        this.version = cloud.version;
        this.modules = new Map(cloud.resources.map((m) => [m.type, m]));
    }

    module(type: string): ResourceModule {
        const module = this.modules.get(type);
        if (!module) throw new Error(`unknown resource type ${type}: the fake ${this.cloud.name} provider serves only ${[...this.modules.keys()].join(", ")}`);
        return module;
    }

    /** Runs one module call in one transaction; a CloudError comes back in the cloud's words and is logged. */
    private apply<T>(urn: string, type: string, verb: Operation["verb"], fn: (op: Op) => T): T {
        const config = this.config;
        try {
            return this.store.transact((db) => {
                const op: Op = {
                    db,
                    type,
                    urn,
                    name: lastPart(urn),
                    config,
                    setting: (key, inputs) => {
                        const own = inputs?.[key];
                        return typeof own === "string" && own !== "" ? own : config[key];
                    },
                    now: () => db.now(),
                };
                return fn(op);
            });
        } catch (err) {
            if (!(err instanceof CloudError)) throw err;
            const message = this.cloud.formatError(err, { verb, kind: type.split(":").pop() ?? type, type });
            this.store.transact((db) => db.log({ op: "refused", type, name: lastPart(urn), error: message }));
            throw new Error(message);
        }
    }

    async check(urn: string, _olds: Props, news: Props): Promise<pulumi.provider.CheckResult> {
        const module = this.module(typeOf(urn));
        return { inputs: news, failures: module.check?.(reveal(news) as Props) ?? [] };
    }

    async create(urn: string, inputs: Props): Promise<pulumi.provider.CreateResult> {
        const type = typeOf(urn);
        const module = this.module(type);
        const { plain, secretKeys } = revealProps(inputs);
        const result = this.apply(urn, type, "creating", (op) => {
            const created = module.create(op, plain);
            op.db.log({ op: "create", type, id: created.id, name: op.name });
            return created;
        });
        return { id: result.id, outs: wrapSecrets(result.outs, secretKeys) };
    }

    async read(id: string, urn: string, props: Props = {}): Promise<pulumi.provider.ReadResult> {
        const type = typeOf(urn);
        const module = this.module(type);
        const { plain, secretKeys } = revealProps(props);
        // An import reads a resource the stack has no state of: no properties at all.
        const importing = Object.keys(props).length === 0;
        const read = this.apply(urn, type, "reading", (op) => {
            const outs = module.read(op, id, plain);
            return { outs, inputs: outs !== undefined && importing ? module.importInputs?.(op, id, outs) : undefined };
        });
        if (read.outs === undefined) return { id: "", props: {} };
        return { id, props: wrapSecrets(read.outs, secretKeys), ...(read.inputs ? { inputs: read.inputs } : {}) };
    }

    async update(id: string, urn: string, olds: Props, news: Props): Promise<pulumi.provider.UpdateResult> {
        const type = typeOf(urn);
        const module = this.module(type);
        const { plain, secretKeys } = revealProps(news);
        const outs = this.apply(urn, type, "updating", (op) => {
            const updated = module.update(op, id, reveal(olds) as Props, plain);
            op.db.log({ op: "update", type, id, name: op.name });
            return updated;
        });
        return { outs: wrapSecrets(outs, secretKeys) };
    }

    async delete(id: string, urn: string, props: Props): Promise<void> {
        const type = typeOf(urn);
        const module = this.module(type);
        this.apply(urn, type, "deleting", (op) => {
            module.delete(op, id, reveal(props) as Props);
            op.db.log({ op: "delete", type, id, name: op.name });
        });
    }

    async invoke(token: string, inputs: Props): Promise<pulumi.provider.InvokeResult> {
        const fn = this.cloud.invokes[token];
        if (!fn) throw new Error(`unknown function ${token}: the fake ${this.cloud.name} provider answers only ${Object.keys(this.cloud.invokes).join(", ")}`);
        const outputs = this.apply(`invoke::${token}`, token, "invoking", (op) => {
            const result = fn(op, reveal(inputs) as Props);
            op.db.log({ op: "invoke", type: token });
            return result;
        });
        return { outputs };
    }
}

// ---------------------------------------------------------------------------------------------
// The gRPC server: provider.main's, with Configure captured and a detailed diff.

interface GrpcCall {
    request: {
        getUrn(): string;
        getId(): string;
        getOlds(): { toJavaScript(): Props } | undefined;
        getNews(): { toJavaScript(): Props } | undefined;
        getOldInputs?(): { toJavaScript(): Props } | undefined;
        getIgnorechangesList?(): string[];
        getVariablesMap?(): { entries(): Iterable<[string, string]> };
        getArgs?(): { toJavaScript(): Props } | undefined;
    };
}
type Callback = (err: unknown, value?: unknown) => void;
type Handler = (call: GrpcCall, callback: Callback) => void;

/** Requires a module as `@pulumi/pulumi` itself resolves it, so the patched classes are the ones it uses. */
function pulumiRequire<T>(id: string): T {
    return require(require.resolve(id, { paths: [path.dirname(require.resolve("@pulumi/pulumi/package.json"))] })) as T;
}

function configValue(value: unknown): string | undefined {
    const plain = reveal(value);
    if (plain === undefined || plain === null) return undefined;
    return typeof plain === "string" ? plain : JSON.stringify(plain);
}

/** Adds to provider.main's service what the fakes need; see the file's doc comment. */
function patchService(provider: FakeProvider, impl: Record<string, Handler>): void {
    const provproto = pulumiRequire<Record<string, any>>("@pulumi/pulumi/proto/provider_pb");
    const configure = impl.configure.bind(impl);
    impl.configure = (call, callback) => {
        const req = call.request;
        for (const [key, value] of req.getVariablesMap?.().entries() ?? []) {
            const bare = key.replace(new RegExp(`^${provider.cloud.name}:(config:)?`), "");
            if (bare !== key) provider.config[bare] = value;
        }
        for (const [key, value] of Object.entries(req.getArgs?.()?.toJavaScript() ?? {})) {
            const text = configValue(value);
            if (text !== undefined && key !== "version") provider.config[key] = text;
        }
        configure(call, callback);
    };
    impl.diffConfig = (call, callback) => {
        const olds = (call.request.getOldInputs?.() ?? call.request.getOlds())?.toJavaScript() ?? {};
        const news = call.request.getNews()?.toJavaScript() ?? {};
        const resp = new provproto.DiffResponse();
        const changed = Object.keys({ ...olds, ...news }).filter((k) => k !== "version" && JSON.stringify(reveal(olds[k])) !== JSON.stringify(reveal(news[k])));
        resp.setChanges(changed.length > 0 ? provproto.DiffResponse.DiffChanges.DIFF_SOME : provproto.DiffResponse.DiffChanges.DIFF_NONE);
        resp.setDiffsList(changed);
        callback(undefined, resp);
    };
    // An import's Read carries no properties at all, which provider.main's read cannot take.
    const read = impl.read.bind(impl);
    impl.read = (call, callback) => {
        const req = call.request as GrpcCall["request"] & { getProperties(): unknown; setProperties(value: unknown): void };
        if (!req.getProperties()) req.setProperties(pulumiRequire<{ Struct: { fromJavaScript(v: object): unknown } }>("google-protobuf/google/protobuf/struct_pb").Struct.fromJavaScript({}));
        read(call, callback);
    };
    impl.diff = (call, callback) => {
        try {
            const req = call.request;
            const module = provider.module(typeOf(req.getUrn()));
            const olds = (req.getOldInputs?.() ?? req.getOlds())?.toJavaScript() ?? {};
            const result = diffInputs(module, olds, req.getNews()?.toJavaScript() ?? {}, req.getIgnorechangesList?.() ?? []);
            const resp = new provproto.DiffResponse();
            const kinds = provproto.PropertyDiff.Kind;
            resp.setChanges(result.changes ? provproto.DiffResponse.DiffChanges.DIFF_SOME : provproto.DiffResponse.DiffChanges.DIFF_NONE);
            resp.setReplacesList(result.replaces);
            resp.setDiffsList([...new Set(Object.keys(result.detailed).map((p) => p.split(/[.[]/)[0]))]);
            resp.setDeletebeforereplace(result.deleteBeforeReplace);
            resp.setHasdetaileddiff(true);
            const detailed = resp.getDetaileddiffMap();
            for (const [at, { kind, replace }] of Object.entries(result.detailed)) {
                const diff = new provproto.PropertyDiff();
                diff.setKind(kinds[`${kind.toUpperCase()}${replace ? "_REPLACE" : ""}`]);
                diff.setInputdiff(true);
                detailed.set(at, diff);
            }
            callback(undefined, resp);
        } catch (err) {
            callback(err);
        }
    };
}

/** Serves `cloud` as a resource provider plugin on the engine's behalf; the entry of fakes/<cloud>/index.ts. */
export function serve(cloud: Cloud, args: string[] = process.argv.slice(2)): Promise<void> {
    // The engine ends a plugin with a signal, so Node.js never writes the compile cache that
    // scripts/register.js turned on: write it now, with the fake's modules loaded, for the next start.
    (Module as { flushCompileCache?: () => void }).flushCompileCache?.();
    const provider = new FakeProvider(cloud, storeFor(cloud.name));
    const grpc = pulumiRequire<{ Server: { prototype: { addService(service: unknown, impl: Record<string, Handler>): void } } }>("@grpc/grpc-js");
    const addService = grpc.Server.prototype.addService;
    grpc.Server.prototype.addService = function (this: unknown, service: unknown, impl: Record<string, Handler>) {
        patchService(provider, impl);
        return addService.call(this, service, impl);
    };
    return pulumi.provider.main(provider, args);
}
