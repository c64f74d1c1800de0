import * as assert from "assert";

import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";

import { Recorder } from "../engine";
import { Archive, Asset, Secret, UNKNOWN, UNKNOWN_SENTINEL, fromWire, leaves } from "../values";

const SIG = "4dabf18193072939515e22adb298388d";
const secretWire = (value: unknown) => ({ [SIG]: "1b47061264138c4ac30d75fd1eb44270", value });
const handler = (_call: unknown, _callback?: unknown): void => undefined;
const URN = "urn:pulumi:prod::onedigest::aws:ecs/taskDefinition:TaskDefinition::task";

function analyzeRequest(props: Record<string, unknown>): analyzer.AnalyzeRequest {
    const req = new analyzer.AnalyzeRequest();
    req.setUrn(URN);
    req.setType("aws:ecs/taskDefinition:TaskDefinition");
    req.setName("task");
    req.setProperties(Struct.fromJavaScript(props as never));
    const opts = new analyzer.AnalyzerResourceOptions();
    opts.setProtect(true);
    opts.setParent("urn:pulumi:prod::onedigest::onedigest:aws:EcsService::svc");
    req.setOptions(opts);
    return req;
}

describe("values: the engine's wire format", () => {
    it("keeps secrets, unknowns, assets and archives apart", () => {
        const v = fromWire({
            plain: "x",
            secret: secretWire("s"),
            unknown: UNKNOWN_SENTINEL,
            asset: { [SIG]: "c44067f5952c0a294b673a41bacd8c17", text: "hello" },
            archive: { [SIG]: "0def7320c3a5731c473e5ecbe6d01bc7", assets: { "a.json": { [SIG]: "c44067f5952c0a294b673a41bacd8c17", text: "{}" } } },
            output: { [SIG]: "d0e6a833031e9bbcd3f4e8bde6ca49a4", value: "o", secret: true },
            unknownOutput: { [SIG]: "d0e6a833031e9bbcd3f4e8bde6ca49a4" },
            ref: { [SIG]: "5cf8f73096256a8f31e491e813e4eb8e", urn: "urn:x", id: "sg-1" },
        }) as Record<string, unknown>;
        assert.strictEqual(v.plain, "x");
        assert.ok(v.secret instanceof Secret && v.secret.value === "s");
        assert.strictEqual(v.unknown, UNKNOWN);
        assert.ok(v.asset instanceof Asset && v.asset.file.text === "hello");
        assert.ok(v.archive instanceof Archive);
        assert.ok(v.output instanceof Secret && v.output.value === "o");
        assert.strictEqual(v.unknownOutput, UNKNOWN);
        assert.strictEqual(v.ref, "sg-1");
    });

    it("lists every leaf with its path and whether a secret holds it", () => {
        const v = fromWire({ a: [1, secretWire({ b: "c" })], "d.e": "f" });
        assert.deepStrictEqual([...leaves(v)], [
            { path: "a[0]", value: 1, secret: false },
            { path: "a[1].b", value: "c", secret: true },
            { path: '["d.e"]', value: "f", secret: false },
        ]);
    });
});

describe("engine: what the pack records of the engine's requests", () => {
    it("records an Analyze request as sent (secrets kept apart) before the SDK's handler runs", () => {
        const recorder = new Recorder();
        const seen: string[] = [];
        const impl = {
            analyze: (call: { request: analyzer.AnalyzeRequest }) => seen.push(`sdk saw ${call.request.getUrn()}, recorder has ${recorder.resource(URN).name}`),
            analyzeStack: handler,
            configureStack: handler,
            getPluginInfo: () => "untouched",
        };
        const wrapped = recorder.wrap(impl);
        assert.strictEqual(wrapped.getPluginInfo, impl.getPluginInfo);
        wrapped.analyze({ request: analyzeRequest({ containerDefinitions: secretWire("[]"), family: "f" }) } as never);
        assert.deepStrictEqual(seen, [`sdk saw ${URN}, recorder has task`]);
        const r = recorder.resource(URN);
        assert.ok(r.props.containerDefinitions instanceof Secret);
        assert.strictEqual(r.props.family, "f");
        assert.strictEqual(r.protect, true);
        assert.strictEqual(r.parent, "urn:pulumi:prod::onedigest::onedigest:aws:EcsService::svc");
    });

    it("records a stack analysis with each resource's property dependencies", () => {
        const recorder = new Recorder();
        const wrapped = recorder.wrap({ analyze: handler, analyzeStack: handler, configureStack: handler });
        const req = new analyzer.AnalyzeStackRequest();
        const r = new analyzer.AnalyzerResource();
        r.setUrn(URN);
        r.setType("aws:ecs/taskDefinition:TaskDefinition");
        r.setName("task");
        r.setProperties(Struct.fromJavaScript({ executionRoleArn: UNKNOWN_SENTINEL }));
        r.setDependenciesList(["urn:role"]);
        const deps = new analyzer.AnalyzerPropertyDependencies();
        deps.setUrnsList(["urn:role"]);
        r.getPropertydependenciesMap().set("executionRoleArn", deps);
        req.setResourcesList([r]);
        wrapped.analyzeStack({ request: req } as never, () => undefined);
        const [got] = recorder.resources();
        assert.deepStrictEqual([got.urn, got.props.executionRoleArn, got.dependencies, got.propertyDependencies], [URN, UNKNOWN, ["urn:role"], { executionRoleArn: ["urn:role"] }]);
    });

    it("keeps the stack's plain config and drops every secret's value", () => {
        const recorder = new Recorder();
        const wrapped = recorder.wrap({ analyze: handler, analyzeStack: handler, configureStack: handler });
        const req = new analyzer.AnalyzerStackConfigureRequest();
        req.setStack("prod");
        req.setProject("onedigest");
        req.getConfigMap().set("onedigest:image", '{"promoteFrom":"dev"}').set("onedigest:secretKey", "the-secret");
        req.setConfigSecretKeysList(["onedigest:secretKey"]);
        wrapped.configureStack({ request: req } as never, () => undefined);
        assert.deepStrictEqual(recorder.stack(), { stack: "prod", project: "onedigest", config: { "onedigest:image": '{"promoteFrom":"dev"}' }, secretKeys: ["onedigest:secretKey"] });
    });

    it("names the stack from a URN when no ConfigureStack came, and fails loudly for a resource it never saw", () => {
        const recorder = new Recorder();
        assert.strictEqual(recorder.stack(URN).stack, "prod");
        assert.throws(() => recorder.resource(URN), /no request recorded for urn:pulumi:prod::onedigest::aws:ecs\/taskDefinition:TaskDefinition::task: the analyzer's handlers were not wrapped/);
    });

    it("refuses an SDK whose analyzer lacks a handler it wraps", () => {
        assert.throws(() => new Recorder().wrap({ analyze: handler }), /the policy SDK's analyzer has no configureStack handler: @pulumi\/policy is not the version this pack pins/);
    });

    it("answers a request it cannot read with the reason, not the SDK's handler", () => {
        const recorder = new Recorder();
        let sdkCalled = false;
        const wrapped = recorder.wrap({ analyze: (_call: unknown, _callback: unknown) => (sdkCalled = true), analyzeStack: handler, configureStack: handler });
        let answer: unknown;
        wrapped.analyze({ request: { getProperties: () => { throw new Error("boom"); } } } as never, (err: unknown) => (answer = err));
        assert.deepStrictEqual(answer, { code: 2, details: "onedigest policy pack, analyze: boom" });
        assert.strictEqual(sdkCalled, false);
    });
});
