/**
 * What the engine sent the pack, kept as it was sent. @pulumi/policy 1.21.0 hands a policy the
 * inputs with every secret already unwrapped (a policy cannot tell a secret from a plain value) and
 * keeps neither the stack's config from ConfigureStack nor anything the analyzer protocol does not
 * name. So the pack wraps the analyzer's RPC handlers once, before the policy server starts: each
 * request is recorded here (values.ts's view: secrets, unknowns, assets kept apart), then handed to
 * the SDK's own handler unchanged. The SDK version is pinned exactly (package.json): the handler
 * names below are that version's.
 */
import * as path from "path";

import { fromWire, isRecord, type Resource, type StackInfo, type Value } from "./values";

/** The part of a gRPC call the wrapper reads. */
interface Call<R> {
    readonly request: R;
}
type Handler = (call: Call<never>, callback: unknown) => unknown;

/** The protobuf accessors the wrapper reads (@pulumi/pulumi/proto/analyzer_pb). */
export interface WireStruct {
    toJavaScript(): Record<string, unknown>;
}
export interface WireOptions {
    getProtect(): boolean;
    getParent(): string;
}
export interface WireResource {
    getUrn(): string;
    getType(): string;
    getName(): string;
    getProperties(): WireStruct | undefined;
    getOptions(): WireOptions | undefined;
}
export interface WireStackResource extends WireResource {
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(f: (deps: { getUrnsList(): string[] }, key: string) => void): void };
}
export interface WireConfigure {
    getStack(): string;
    getProject(): string;
    getConfigMap(): { forEach(f: (value: string, key: string) => void): void };
    getConfigSecretKeysList(): string[];
}

/** Everything recorded from the engine's requests in this process. */
export class Recorder {
    private readonly byUrn = new Map<string, Resource>();
    private stackResources: readonly Resource[] = [];
    private info: StackInfo | undefined;

    /** Wraps the analyzer service's handlers so each request is recorded before the SDK handles it. */
    wrap<T extends Record<string, unknown>>(impl: T): T {
        const wrapped: Record<string, unknown> = { ...impl };
        const around = (name: string, record: (request: never) => void) => {
            const original = impl[name] as Handler | undefined;
            if (typeof original !== "function") throw new Error(`the policy SDK's analyzer has no ${name} handler: @pulumi/policy is not the version this pack pins`);
            wrapped[name] = function (this: unknown, call: Call<never>, callback: unknown) {
                try {
                    record(call.request);
                } catch (e) {
                    // Answered as the SDK answers its own failures, with the reason (not grpc's "Unknown error").
                    return (callback as (err: { code: number; details: string }) => void)({ code: 2, details: `onedigest policy pack, ${name}: ${(e as Error).message}` });
                }
                return original.call(this, call, callback);
            };
        };
        around("configureStack", (r: WireConfigure) => this.configure(r));
        around("analyze", (r: WireResource) => this.analyze(r));
        around("analyzeStack", (r: { getResourcesList(): WireStackResource[] }) => this.analyzeStack(r.getResourcesList()));
        return wrapped as T;
    }

    configure(request: WireConfigure): void {
        const secretKeys = request.getConfigSecretKeysList();
        const config: Record<string, string> = {};
        // A secret's value is dropped here: the pack knows secrets only as the secret inputs of resources.
        request.getConfigMap().forEach((value, key) => {
            if (!secretKeys.includes(key)) config[key] = value;
        });
        this.info = { stack: request.getStack(), project: request.getProject(), config, secretKeys };
    }

    analyze(request: WireResource): void {
        const r = resourceFromWire(request, [], {});
        this.byUrn.set(r.urn, r);
    }

    analyzeStack(resources: readonly WireStackResource[]): void {
        this.stackResources = resources.map((w) => {
            const deps: Record<string, string[]> = {};
            w.getPropertydependenciesMap().forEach((d, key) => (deps[key] = d.getUrnsList()));
            return resourceFromWire(w, w.getDependenciesList(), deps);
        });
        for (const r of this.stackResources) this.byUrn.set(r.urn, r);
    }

    /** The resource the engine asked about, as sent. */
    resource(urn: string): Resource {
        const r = this.byUrn.get(urn);
        if (!r) throw new Error(`no request recorded for ${urn}: the analyzer's handlers were not wrapped (see policy/engine.ts)`);
        return r;
    }

    /** Every resource of the last stack analysis. */
    resources(): readonly Resource[] {
        return this.stackResources;
    }

    /** The stack's name, project and plain config; from a URN when the engine sent no ConfigureStack. */
    stack(urn?: string): StackInfo {
        if (this.info) return this.info;
        const parts = (urn ?? this.stackResources[0]?.urn ?? "").replace(/^urn:pulumi:/, "").split("::");
        return { stack: parts[0] ?? "", project: parts[1] ?? "", config: {}, secretKeys: [] };
    }
}

export function resourceFromWire(w: WireResource, dependencies: readonly string[], propertyDependencies: Record<string, readonly string[]>): Resource {
    const props = fromWire(w.getProperties()?.toJavaScript() ?? {});
    const options = w.getOptions();
    return {
        type: w.getType(),
        urn: w.getUrn(),
        name: w.getName(),
        props: isRecord(props) ? (props as Record<string, Value>) : {},
        protect: options?.getProtect() ?? false,
        parent: options?.getParent() || undefined,
        dependencies,
        propertyDependencies,
    };
}

export const recorder = new Recorder();

let installed = false;

/**
 * Wraps the analyzer service of the policy server before it starts: `new PolicyPack` (index.ts)
 * adds the service to a grpc-js Server of the same @grpc/grpc-js the SDK loads.
 */
export function installRecorder(into: Recorder = recorder): void {
    if (installed) return;
    installed = true;
    const sdkDir = path.dirname(require.resolve("@pulumi/policy"));
    const grpc = require(require.resolve("@grpc/grpc-js", { paths: [sdkDir] })) as { Server: { prototype: { addService(service: unknown, impl: Record<string, unknown>): void } } };
    const addService = grpc.Server.prototype.addService;
    grpc.Server.prototype.addService = function (this: unknown, service: unknown, impl: Record<string, unknown>) {
        const isAnalyzer = typeof impl.analyze === "function" && typeof impl.analyzeStack === "function";
        return addService.call(this, service, isAnalyzer ? into.wrap(impl) : impl);
    };
}
