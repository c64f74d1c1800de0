import * as assert from "assert";

import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

import { Recorder, type WireResource } from "../engine";
import { policies, resourcePolicy, stackPolicy } from "../policies";
import { checkRegistriesRetained } from "../rules/production";
import { checkNoPublicIngress, DEFAULT_INGRESS, type IngressConfig } from "../rules/network";

function wire(urn: string, type: string, props: Record<string, unknown>): WireResource {
    const name = urn.split("::").pop() ?? "";
    return { getUrn: () => urn, getType: () => type, getName: () => name, getProperties: () => ({ toJavaScript: () => props }), getOptions: () => undefined };
}

function runResource(p: ResourceValidationPolicy, urn: string, config: object = {}): string[] {
    const out: string[] = [];
    const validate = p.validateResource as (args: unknown, report: (m: string) => void) => void;
    validate({ urn, getConfig: () => config }, (m) => out.push(m));
    return out;
}

describe("the pack", () => {
    it("holds these promises as mandatory and advises these", () => {
        const by = (level: string) => policies.filter((p) => p.enforcementLevel === level).map((p) => p.name);
        assert.deepStrictEqual(by("mandatory"), [
            "images-by-digest",
            "one-image-id",
            "no-public-ingress",
            "prod-registries-retained",
            "prod-deletion-protection",
            "prod-https",
            "prod-log-retention",
            "no-plain-secrets",
            "registry-hardening",
            "iam-least-privilege",
            "signed-images-only",
        ]);
        assert.deepStrictEqual(by("advisory"), ["ecs-circuit-breaker", "alb-drop-invalid-headers", "prod-alb-deletion-protection"]);
    });

    it("holds the production policies on prod* stacks only, or on the stacks the pack config names", () => {
        const recorder = new Recorder();
        const policy = resourcePolicy({ name: "p", description: "d", level: "mandatory", defaults: {}, production: true }, (r) => checkRegistriesRetained(r), recorder);
        const urn = (stack: string) => `urn:pulumi:${stack}::onedigest::aws:ecr/repository:Repository::ecr`;
        for (const stack of ["prod", "dev", "live"]) recorder.analyze(wire(urn(stack), "aws:ecr/repository:Repository", { forceDelete: true }));
        assert.strictEqual(runResource(policy, urn("prod")).length, 1);
        assert.deepStrictEqual(runResource(policy, urn("dev")), []);
        assert.deepStrictEqual(runResource(policy, urn("live")), []);
        assert.strictEqual(runResource(policy, urn("live"), { productionPrefix: "live" }).length, 1);
        assert.deepStrictEqual(policy.configSchema, { properties: { productionPrefix: { type: "string", default: "prod", description: "Stacks whose name starts with this are production" } } });
    });

    it("passes a stack policy the pack config merged over its defaults, and reports each violation on its resource", () => {
        const recorder = new Recorder();
        let seen: IngressConfig | undefined;
        const policy: StackValidationPolicy = stackPolicy({ name: "s", description: "d", level: "mandatory", defaults: DEFAULT_INGRESS }, (resources, config) => ((seen = config), checkNoPublicIngress(resources, config)), recorder);
        recorder.analyzeStack([
            Object.assign(wire("urn:pulumi:dev::p::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::ssh", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", { ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" }), {
                getDependenciesList: () => [],
                getPropertydependenciesMap: () => ({ forEach: () => undefined }),
            }),
        ]);
        const reported: Array<[string, string | undefined]> = [];
        const validate = policy.validateStack as (args: unknown, report: (m: string, urn?: string) => void) => void;
        validate({ getConfig: () => ({ allowedPorts: [22] }) }, (m, urn) => reported.push([m, urn]));
        assert.deepStrictEqual(seen, { productionPrefix: "prod", allowedPorts: [22] });
        assert.deepStrictEqual(reported.map(([, urn]) => urn), ["urn:pulumi:dev::p::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::ssh"]);
        assert.match(reported[0][0], /its security group belongs to no load balancer/);
    });
});
