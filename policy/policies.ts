/**
 * The pack's policies: each one rule of rules/ run on what the engine sent (engine.ts), with its
 * enforcement level and the config a team may change per stack (`--policy-pack-config`).
 */
import type { PolicyConfigSchema, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

import { recorder, type Recorder } from "./engine";
import { checkCircuitBreaker, checkDropInvalidHeaders } from "./rules/advice";
import { checkLeastPrivilege, checkRegistryHardening } from "./rules/access";
import { checkImagesByDigest, checkOneImageId } from "./rules/images";
import { DEFAULT_INGRESS, checkNoPublicIngress, type IngressConfig } from "./rules/network";
import { DEFAULT_RETENTION, checkAlbDeletionProtection, checkDeletionProtection, checkHttps, checkLogRetention, checkRegistriesRetained, type RetentionConfig } from "./rules/production";
import { DEFAULT_SECRETS, checkNoPlainSecrets, type SecretsConfig } from "./rules/secrets";
import { checkSignedImages } from "./rules/signing";
import { DEFAULT_PRODUCTION_PREFIX, isProduction, type Violation } from "./rules/types";
import type { Resource, StackInfo } from "./values";

interface Production {
    /** Stacks whose name starts with this are production. @default "prod" */
    readonly productionPrefix: string;
}
const PRODUCTION: Production = { productionPrefix: DEFAULT_PRODUCTION_PREFIX };
const PRODUCTION_SCHEMA: PolicyConfigSchema["properties"] = {
    productionPrefix: { type: "string", default: DEFAULT_PRODUCTION_PREFIX, description: "Stacks whose name starts with this are production" },
};

type Level = "mandatory" | "advisory";

interface Spec<C> {
    readonly name: string;
    readonly description: string;
    readonly level: Level;
    readonly defaults: C;
    readonly schema?: PolicyConfigSchema["properties"];
    /** Held on production stacks only. */
    readonly production?: boolean;
}

function settings<C extends object>(spec: Spec<C>, given: object): C & Production {
    return { ...PRODUCTION, ...spec.defaults, ...given } as C & Production;
}

function schemaOf<C>(spec: Spec<C>): PolicyConfigSchema | undefined {
    const properties = { ...(spec.schema ?? {}), ...(spec.production ? PRODUCTION_SCHEMA : {}) };
    return Object.keys(properties).length > 0 ? { properties } : undefined;
}

function applies(spec: Spec<unknown>, stack: StackInfo, config: Production): boolean {
    return !spec.production || isProduction(stack, config.productionPrefix);
}

function report(violations: readonly Violation[], reportViolation: ReportViolation, withUrn: boolean): void {
    for (const v of violations) reportViolation(v.message, withUrn ? v.urn : undefined);
}

export function resourcePolicy<C extends object>(spec: Spec<C>, rule: (r: Resource, config: C, stack: StackInfo) => Violation[], from: Recorder = recorder): ResourceValidationPolicy {
    return {
        name: spec.name,
        description: spec.description,
        enforcementLevel: spec.level,
        configSchema: schemaOf(spec),
        validateResource: (args, reportViolation) => {
            const config = settings(spec, args.getConfig());
            const stack = from.stack(args.urn);
            if (!applies(spec, stack, config)) return;
            report(rule(from.resource(args.urn), config, stack), reportViolation, false);
        },
    };
}

export function stackPolicy<C extends object>(spec: Spec<C>, rule: (resources: readonly Resource[], config: C, stack: StackInfo) => Violation[], from: Recorder = recorder): StackValidationPolicy {
    return {
        name: spec.name,
        description: spec.description,
        enforcementLevel: spec.level,
        configSchema: schemaOf(spec),
        validateStack: (args, reportViolation) => {
            const config = settings(spec, args.getConfig());
            const stack = from.stack();
            if (!applies(spec, stack, config)) return;
            report(rule(from.resources(), config, stack), reportViolation, true);
        },
    };
}

const none = {};

export const policies = [
    resourcePolicy(
        { name: "images-by-digest", description: "Every container a target runs names its image by digest (repo@sha256:…, or the local image ID), never a tag: ECS task definitions, Cloud Run services, Beanstalk's Dockerrun.aws.json, Heroku releases, local containers.", level: "mandatory", defaults: none },
        (r) => checkImagesByDigest(r),
    ),
    stackPolicy(
        { name: "one-image-id", description: "All of a stack's deployments run the same image ID (the config digest sha256:…).", level: "mandatory", defaults: none },
        (resources) => checkOneImageId(resources),
    ),
    stackPolicy<IngressConfig>(
        {
            name: "no-public-ingress",
            description: "No security group ingress from 0.0.0.0/0 or ::/0 but a load balancer's, on its allowed ports (80 and 443).",
            level: "mandatory",
            defaults: DEFAULT_INGRESS,
            schema: { allowedPorts: { type: "array", items: { type: "integer" }, default: [...DEFAULT_INGRESS.allowedPorts], description: "Ports a load balancer may take from anywhere" } },
        },
        (resources, config) => checkNoPublicIngress(resources, config),
    ),
    resourcePolicy(
        { name: "prod-registries-retained", description: "On production stacks, deleting a registry never deletes its images (ECR forceDelete off; onedigest retains production registries on delete).", level: "mandatory", defaults: none, production: true },
        (r) => checkRegistriesRetained(r),
    ),
    resourcePolicy(
        { name: "prod-deletion-protection", description: "On production stacks, Cloud Run services have deletionProtection.", level: "mandatory", defaults: none, production: true },
        (r) => checkDeletionProtection(r),
    ),
    stackPolicy(
        { name: "prod-https", description: "On production stacks, every public endpoint serves HTTPS: an ALB listens on 443 with a certificate and HTTP 80 only redirects; Beanstalk's 443 listener is enabled.", level: "mandatory", defaults: none, production: true },
        (resources) => checkHttps(resources),
    ),
    resourcePolicy<RetentionConfig>(
        {
            name: "prod-log-retention",
            description: "On production stacks, CloudWatch log groups and Beanstalk's streamed logs have a retention set.",
            level: "mandatory",
            defaults: DEFAULT_RETENTION,
            production: true,
            schema: { minDays: { type: "integer", minimum: 1, default: DEFAULT_RETENTION.minDays, description: "The least retention in days" } },
        },
        (r, config) => checkLogRetention(r, config),
    ),
    stackPolicy<SecretsConfig>(
        {
            name: "no-plain-secrets",
            description: "No secret-looking name in any target's plain environment, and no plain input carries the value of a secret input of the same stack.",
            level: "mandatory",
            defaults: DEFAULT_SECRETS,
            schema: {
                allowedNames: { type: "array", items: { type: "string" }, default: [...DEFAULT_SECRETS.allowedNames], description: "Secret-looking names that hold no secret" },
                minSecretLength: { type: "integer", minimum: 1, default: DEFAULT_SECRETS.minSecretLength, description: "Shorter secret values are not looked for" },
            },
        },
        (resources, config) => checkNoPlainSecrets(resources, config),
    ),
    resourcePolicy(
        { name: "registry-hardening", description: "ECR repositories scan on push and have immutable tags; Artifact Registry Docker repositories have immutable tags.", level: "mandatory", defaults: none },
        (r) => checkRegistryHardening(r),
    ),
    resourcePolicy(
        { name: "iam-least-privilege", description: "No IAM policy (role policies, managed policies, a role's inline policies) allows Action * on Resource *.", level: "mandatory", defaults: none },
        (r) => checkLeastPrivilege(r),
    ),
    stackPolicy(
        { name: "signed-images-only", description: "With onedigest:image.signedBy set, the stack builds nothing and pulls only images pinned by digest, and signedBy is { key } or { identity, issuer }.", level: "mandatory", defaults: none },
        (resources, _config, stack) => checkSignedImages(resources, stack),
    ),
    resourcePolicy(
        { name: "ecs-circuit-breaker", description: "ECS services roll a failing deployment back by themselves (deployment circuit breaker with rollback).", level: "advisory", defaults: none },
        (r) => checkCircuitBreaker(r),
    ),
    resourcePolicy(
        { name: "alb-drop-invalid-headers", description: "Application load balancers drop invalid header fields.", level: "advisory", defaults: none },
        (r) => checkDropInvalidHeaders(r),
    ),
    resourcePolicy(
        { name: "prod-alb-deletion-protection", description: "On production stacks, application load balancers have deletion protection.", level: "advisory", defaults: none, production: true },
        (r) => checkAlbDeletionProtection(r),
    ),
];
