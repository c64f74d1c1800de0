/**
 * `aws-ecs-express`: Amazon ECS Express Mode. From the image, an execution role and an
 * infrastructure role, ECS makes a Fargate service behind an HTTPS load balancer on an AWS-provided
 * domain, with autoscaling, a certificate, and canary deployments that roll back on alarm (AWS ECS
 * developer guide, "Resources created by Amazon ECS Express Mode services" and "Updating an Express
 * service"). No domain, certificate or load balancer of the user's.
 *
 * Shares with the other AWS targets of a stack (providers/awsShared.ts): the ECR repository and
 * the one push of the image, and the SECRET_KEY secret.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { LOG_RETENTION_DAYS, assumeRolePolicy, findRetained, requireAwsRegion, sharedEcr, sharedSecretKey, type Retained } from "./awsShared";
import { FARGATE_SIZES } from "./awsEcs";
import { LIMITS, type NameRule } from "./names";
import { TargetComponent, plainEnv, scopedName } from "./shared";
import type { TargetArgs, TargetModule } from "./types";
import { ConfigError, PROJECT, setCommand } from "../validate";

const KEY = `${PROJECT}:ecsExpress`;

/**
 * Express service names: up to 255 letters, numbers, underscores and hyphens, unique within the
 * cluster (AWS ECS API reference, CreateExpressGatewayService, `serviceName`).
 */
export const EXPRESS_SERVICE_NAME: NameRule = { max: 255 };

/** What AWS names its managed policy for the infrastructure role (AWS ECS developer guide, "Amazon ECS infrastructure IAM role"). */
export const INFRASTRUCTURE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSInfrastructureRoleforExpressGatewayServices";

/** CPU units Express takes: powers of 2 from 256 to 4096 (the `cpu` argument of aws.ecs.ExpressGatewayService). */
export const EXPRESS_CPUS = [256, 512, 1024, 2048, 4096] as const;
/** Memory Express takes: 512 to 8192 MiB (the `memory` argument), within Fargate's sizes for the CPU. */
const MEMORY_RANGE = [512, 8192] as const;

/** The metrics Express scales on (ECS API reference, ExpressGatewayScalingTarget, `autoScalingMetric`). */
export const SCALING_METRICS = ["AVERAGE_CPU", "AVERAGE_MEMORY", "REQUEST_COUNT_PER_TARGET"] as const;
export type ScalingMetric = (typeof SCALING_METRICS)[number];

/** Memory sizes for `cpu` that both Fargate and Express take. */
export function expressMemorySizes(cpu: number): number[] {
    return (FARGATE_SIZES[cpu] ?? []).filter((m) => m >= MEMORY_RANGE[0] && m <= MEMORY_RANGE[1]);
}

export interface EcsExpressSettings {
    readonly region: string;
    /** Fargate CPU units. @default 256 */
    readonly cpu: number;
    /** MiB, valid for `cpu`. @default 512 */
    readonly memory: number;
    /** @default 2 */
    readonly minTasks: number;
    /** @default 4 */
    readonly maxTasks: number;
    /** @default "AVERAGE_CPU" */
    readonly scalingMetric: ScalingMetric;
    /** Percent for CPU and memory; requests per task for REQUEST_COUNT_PER_TARGET. @default 60 */
    readonly scalingTarget: number;
    /** Subnets for the tasks and the load balancer, with `securityGroupIds`; the default VPC's when unset. */
    readonly subnetIds?: readonly string[];
    readonly securityGroupIds?: readonly string[];
    /** @default 30 */
    readonly logRetentionDays: number;
    /** Images kept in ECR (when this target creates the shared repository). @default 20 */
    readonly keepImages: number;
    /** What an earlier `pulumi destroy` of this production stack left to adopt (`prepare`). */
    readonly retained?: Retained;
}

/** Sorted `{ name, value }` pairs: the order Express echoes back, so the list never shows as a diff. */
export function environment(env: Readonly<Record<string, string>>): Array<{ name: string; value: string }> {
    return Object.keys(env)
        .sort()
        .map((name) => ({ name, value: env[name] }));
}

/**
 * The container's SECRET_KEY: read from Secrets Manager by ECS when a task starts, never in its
 * environment. By version (`<arn>:<json-key>:<version-stage>:<version-id>`, AWS ECS developer guide,
 * "Pass Secrets Manager secrets through Amazon ECS environment variables"), so a rotated key is a new
 * service revision that rolls out: a task reads its key only when it starts.
 */
export function secretKeyRef(secretArn: string, versionId: string): { name: string; valueFrom: string } {
    return { name: "SECRET_KEY", valueFrom: `${secretArn}:::${versionId}` };
}

/**
 * The execution role's one policy: pull from this repository (the token call cannot be scoped to a
 * resource), write to this log group, read this secret. Nothing else: what AWS's
 * AmazonECSTaskExecutionRolePolicy grants, narrowed to this deployment's own resources.
 */
export function executionPolicy(args: { repositoryArn: string; logGroupArn: string; secretArn: string }): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
            { Effect: "Allow", Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], Resource: [args.repositoryArn] },
            { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${args.logGroupArn}:log-stream:*`] },
            { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [args.secretArn] },
        ],
    });
}

/**
 * The service's public URL from its ingress paths: the PUBLIC endpoint, which Express reports with
 * its scheme (`https://xx-<32 hex>.ecs.<region>.on.aws`); a bare host is given `https://`.
 */
export function endpointUrl(paths: ReadonlyArray<{ accessType?: string; endpoint?: string }> | undefined): string {
    const path = (paths ?? []).find((p) => p.accessType === "PUBLIC" && p.endpoint) ?? (paths ?? []).find((p) => p.endpoint);
    if (!path?.endpoint) throw new Error("aws-ecs-express: the Express service reports no ingress endpoint");
    const url = /^[a-z]+:\/\//i.test(path.endpoint) ? path.endpoint : `https://${path.endpoint}`;
    return url.replace(/\/+$/, "");
}

const SUBNETS_EXAMPLE = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"];
const GROUPS_EXAMPLE = ["sg-0123456789abcdef0"];

function networkError(field: string, value: unknown, allowed: string, example: unknown): never {
    throw new ConfigError([{ key: `${KEY}.${field}`, value, allowed, fix: setCommand(`${KEY}.${field}`, example) }]);
}

/**
 * The network Express will use, checked before any resource: the configured subnets must span two
 * availability zones of one VPC; without them Express uses the region's default VPC, which must be
 * there.
 */
export async function checkNetwork(s: Pick<EcsExpressSettings, "region" | "subnetIds">): Promise<void> {
    if (s.subnetIds) {
        const subnets = await Promise.all(s.subnetIds.map((id) => aws.ec2.getSubnet({ id })));
        const vpcs = new Set(subnets.map((n) => n.vpcId));
        if (vpcs.size > 1) networkError("subnetIds", s.subnetIds, `subnets of one VPC (these are in ${[...vpcs].sort().join(", ")})`, SUBNETS_EXAMPLE);
        const zones = new Set(subnets.map((n) => n.availabilityZone));
        if (zones.size < 2) networkError("subnetIds", s.subnetIds, `subnets in at least two availability zones (these are all in ${subnets[0].availabilityZone})`, SUBNETS_EXAMPLE);
        return;
    }
    const vpcs = await aws.ec2.getVpcs({ filters: [{ name: "is-default", values: ["true"] }] });
    if (vpcs.ids.length === 0) {
        throw new ConfigError([
            {
                key: `${KEY}.subnetIds`,
                value: undefined,
                allowed: `subnets in two availability zones with their security groups (this account has no default VPC in ${s.region}, which Express uses otherwise)`,
                fix: `${setCommand(`${KEY}.subnetIds`, SUBNETS_EXAMPLE)} && ${setCommand(`${KEY}.securityGroupIds`, GROUPS_EXAMPLE)}`,
            },
        ]);
    }
}

export class EcsExpressService extends TargetComponent {
    constructor(name: string, args: TargetArgs<EcsExpressSettings>, opts?: pulumi.ComponentResourceOptions) {
        super("onedigest:aws:EcsExpressService", name, {}, opts);
        const { app, image, settings: s, shared } = args;
        const child = { parent: this };

        const ecr = sharedEcr(shared, app, image, s.keepImages, s.retained);
        const secretKey = sharedSecretKey(shared, app, s.retained);

        const logPrefix = "/onedigest/";
        const logGroup = new aws.cloudwatch.LogGroup(
            `${name}-logs`,
            { name: `${logPrefix}${scopedName(app, { max: LIMITS.logGroup.max - logPrefix.length }, "express")}`, retentionInDays: s.logRetentionDays },
            child,
        );

        // What ECS uses to start a task: pull the image, write its logs, read its SECRET_KEY.
        const executionRole = new aws.iam.Role(
            `${name}-execution-role`,
            { name: scopedName(app, LIMITS.iamRole, "express-execution"), assumeRolePolicy: assumeRolePolicy("ecs-tasks.amazonaws.com") },
            child,
        );
        const executionGrant = new aws.iam.RolePolicy(
            `${name}-execution-access`,
            {
                role: executionRole.id,
                policy: pulumi
                    .all([ecr.repository.arn, logGroup.arn, secretKey.secret.arn])
                    .apply(([repositoryArn, logGroupArn, secretArn]) => executionPolicy({ repositoryArn, logGroupArn, secretArn })),
            },
            child,
        );
        // What ECS uses to make and remove the load balancer, certificate, security groups and scaling.
        const infrastructureRole = new aws.iam.Role(
            `${name}-infrastructure-role`,
            { name: scopedName(app, LIMITS.iamRole, "express-infrastructure"), assumeRolePolicy: assumeRolePolicy("ecs.amazonaws.com") },
            child,
        );
        const infrastructureGrant = new aws.iam.RolePolicyAttachment(`${name}-infrastructure-policy`, { role: infrastructureRole.name, policyArn: INFRASTRUCTURE_POLICY }, child);

        const network =
            s.subnetIds && s.securityGroupIds ? { networkConfigurations: [{ subnets: [...s.subnetIds], securityGroups: [...s.securityGroupIds] }] } : {};
        const service = new aws.ecs.ExpressGatewayService(
            `${name}-service`,
            {
                serviceName: scopedName(app, EXPRESS_SERVICE_NAME),
                executionRoleArn: executionRole.arn,
                infrastructureRoleArn: infrastructureRole.arn,
                cpu: String(s.cpu),
                memory: String(s.memory),
                healthCheckPath: app.healthPath,
                primaryContainer: {
                    image: ecr.pushed.ref,
                    containerPort: app.port,
                    // Behind Express's load balancer (one proxy), which serves HTTPS only: the app
                    // redirects nothing (docs/configuration.md, `aws-ecs-express`).
                    environments: image.imageId.apply((imageId) => environment(plainEnv(app, { port: true, proxies: 1, imageId, frontEndHttps: true }))),
                    secrets: pulumi.all([secretKey.secret.arn, secretKey.versionId]).apply(([arn, versionId]) => [secretKeyRef(arn, versionId)]),
                    awsLogsConfigurations: [{ logGroup: logGroup.name, logStreamPrefix: "app" }],
                },
                scalingTargets: [{ autoScalingMetric: s.scalingMetric, autoScalingTargetValue: s.scalingTarget, minTaskCount: s.minTasks, maxTaskCount: s.maxTasks }],
                ...network,
                // `pulumi up` ends when the canary deployment has finished, and fails when it rolled back.
                waitForSteadyState: true,
            },
            // The provider's docs: without the policies as dependencies they may be removed first,
            // and the service's deletion then sticks in DRAINING.
            { ...child, dependsOn: [executionGrant, infrastructureGrant, ...ecr.pushed.resources] },
        );

        this.publish({
            url: service.ingressPaths.apply((paths) => endpointUrl(paths)),
            image: ecr.pushed.ref,
            imageId: image.imageId,
        });
    }
}

export const awsEcsExpress: TargetModule<EcsExpressSettings> = {
    kind: "aws-ecs-express",
    settingsKey: "ecsExpress",
    // Express tasks run on X86_64 (AWS ECS developer guide, Express Mode task definition defaults);
    // the pinned provider has no setting for another architecture.
    platforms: ["linux/amd64"],
    parse(r, ctx) {
        r.rejectUnknown(["cpu", "memory", "minTasks", "maxTasks", "scalingMetric", "scalingTarget", "subnetIds", "securityGroupIds", "logRetentionDays", "keepImages"]);
        const region = requireAwsRegion(r, ctx.providerConfig("aws", "region"));
        let cpu = r.requiredInteger("cpu", 256, 4096, 256);
        if (!(EXPRESS_CPUS as readonly number[]).includes(cpu)) {
            r.fail("cpu", cpu, `CPU units Express takes: one of ${EXPRESS_CPUS.join(", ")}`, 256);
            cpu = 256;
        }
        const memory = r.requiredInteger("memory", MEMORY_RANGE[0], MEMORY_RANGE[1], 512);
        const sizes = expressMemorySizes(cpu);
        // Only a memory within Express's range is checked against the cpu (one problem per value).
        if (memory === r.record.memory && !sizes.includes(memory)) r.fail("memory", memory, `a memory size for cpu ${cpu}: one of ${sizes.join(", ")}`, sizes[0]);
        const minTasks = r.requiredInteger("minTasks", 1, 1000, 2);
        const maxTasks = r.requiredInteger("maxTasks", 1, 1000, 4);
        if (minTasks > maxTasks) r.fail("minTasks", minTasks, `at most maxTasks (${maxTasks})`, maxTasks);
        const scalingMetric = r.oneOf("scalingMetric", SCALING_METRICS, "AVERAGE_CPU") ?? "AVERAGE_CPU";
        const scalingTarget =
            scalingMetric === "REQUEST_COUNT_PER_TARGET" ? r.requiredInteger("scalingTarget", 1, 100000, 1000) : r.requiredInteger("scalingTarget", 10, 95, 60);
        const subnetIds = r.stringList("subnetIds", SUBNETS_EXAMPLE[0], { pattern: /^subnet-[0-9a-f]{8,17}$/, allowed: "a subnet ID (subnet-…)" });
        const securityGroupIds = r.stringList("securityGroupIds", GROUPS_EXAMPLE[0], { pattern: /^sg-[0-9a-f]{8,17}$/, allowed: "a security group ID (sg-…)" });
        if (Array.isArray(r.record.subnetIds) && r.record.subnetIds.length < 2) r.fail("subnetIds", subnetIds, "at least two subnets in different availability zones (Express's load balancer needs two)", SUBNETS_EXAMPLE);
        // Both or neither: a list Express fills in itself would differ from the stack's on every preview.
        if (r.has("subnetIds") && !r.has("securityGroupIds")) r.fail("securityGroupIds", undefined, "the tasks' security groups in the VPC of subnetIds, set together with subnetIds", GROUPS_EXAMPLE);
        else if (r.has("securityGroupIds") && !r.has("subnetIds")) r.fail("subnetIds", undefined, "the subnets of those security groups' VPC, set together with securityGroupIds", SUBNETS_EXAMPLE);
        if (securityGroupIds && securityGroupIds.length === 0) r.fail("securityGroupIds", securityGroupIds, "at least one security group ID", GROUPS_EXAMPLE);
        return {
            region,
            cpu,
            memory,
            minTasks,
            maxTasks,
            scalingMetric,
            scalingTarget,
            subnetIds,
            securityGroupIds,
            logRetentionDays: r.numberOneOf("logRetentionDays", LOG_RETENTION_DAYS, 30) ?? 30,
            keepImages: r.requiredInteger("keepImages", 1, 1000, 20),
        };
    },
    async prepare(s, ctx) {
        const [, retained] = await Promise.all([checkNetwork(s), findRetained(ctx.app)]);
        return { ...s, retained };
    },
    deploy: (name, args, opts) => new EcsExpressService(name, args, opts),
};
