/**
 * Application Auto Scaling: `aws:appautoscaling/target:Target` (an ECS service's desired count
 * between bounds) and `aws:appautoscaling/policy:Policy` (target tracking on it).
 */
import { type ForceNew, type Op, type Props, type ResourceModule, type Rule } from "../framework";
import { ACCOUNT_ID, arn, autoName, hexId, refuse, regionOf, required, type Call } from "./common";
import { SERVICES, type ServiceRecord } from "./ecs";

const TARGET = "internal/service/appautoscaling/target.go";
const POLICY = "internal/service/appautoscaling/policy.go";

export const RULES = {
    ecsServiceMissing: {
        rule: "an ECS scalable target names an existing service (the provider retries this error for its propagation timeout, then fails)",
        error: { status: 400, code: "ValidationException", message: "ECS service doesn't exist: {resourceId}" },
        source: `${TARGET} registerScalableTarget (retries ValidationException "ECS service doesn't exist"); https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html (Errors: ValidationException)`,
    },
    targetMissing: {
        rule: "a scaling policy needs its scalable target",
        error: { status: 400, code: "ObjectNotFoundException", message: "No scalable target registered for service namespace: {namespace}, resource ID: {resourceId}, scalable dimension: {dimension}" },
        source: "https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScalingPolicy.html (Errors: ObjectNotFoundException: the scalable target must be registered first)",
    },
} as const satisfies Record<string, Rule>;

export const TARGET_FORCE_NEW: readonly ForceNew[] = [
    { field: "resourceId", source: `${TARGET}:60` },
    { field: "scalableDimension", source: `${TARGET}:70` },
    { field: "serviceNamespace", source: `${TARGET}:75` },
];
export const POLICY_FORCE_NEW: readonly ForceNew[] = [
    { field: "name", source: `${POLICY}:54` },
    { field: "resourceId", source: `${POLICY}:66` },
    { field: "scalableDimension", source: `${POLICY}:71` },
    { field: "serviceNamespace", source: `${POLICY}:76` },
];

export const TARGETS = "appautoscaling.targets";
export const POLICIES = "appautoscaling.policies";

export interface TargetRecord extends Props {
    key: string;
    resourceId: string;
    minCapacity: number;
    maxCapacity: number;
}

function targetKey(region: string, inputs: Props): string {
    return `${region}/${String(inputs.serviceNamespace)}/${String(inputs.resourceId)}/${String(inputs.scalableDimension)}`;
}

function ecsServiceExists(op: Op, region: string, resourceId: string): boolean {
    // resourceId: service/<cluster name>/<service name>
    const [, clusterName, serviceName] = resourceId.split("/");
    return Object.values(op.db.table<ServiceRecord>(SERVICES)).some((s) => s.region === region && s.status === "ACTIVE" && s.name === serviceName && s.clusterArn.endsWith(`:cluster/${clusterName}`));
}

function register(op: Op, region: string, inputs: Props, call: Call): TargetRecord {
    const resourceId = required(inputs, "resourceId", "aws:appautoscaling/target:Target");
    if (inputs.serviceNamespace === "ecs" && !ecsServiceExists(op, region, resourceId)) throw refuse(RULES.ecsServiceMissing, call, { resourceId });
    const record: TargetRecord = { key: targetKey(region, inputs), resourceId, minCapacity: Number(inputs.minCapacity), maxCapacity: Number(inputs.maxCapacity) };
    op.db.table<TargetRecord>(TARGETS)[record.key] = record;
    return record;
}

export const target: ResourceModule = {
    type: "aws:appautoscaling/target:Target",
    forceNew: TARGET_FORCE_NEW,
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const record = register(op, region, inputs, { subject: `Application AutoScaling Target (${String(inputs.resourceId)})`, service: "Application Auto Scaling", operation: "RegisterScalableTarget" });
        return {
            id: record.resourceId,
            outs: {
                ...inputs,
                arn: arn("application-autoscaling", region, `scalable-target/${hexId(16)}`),
                region,
                // The service-linked role Application Auto Scaling uses for ECS (its documentation: "Service-linked roles for Application Auto Scaling").
                roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService`,
                tags: inputs.tags ?? {},
                tagsAll: inputs.tags ?? {},
            },
        };
    },
    read(op, _id, state) {
        return op.db.table(TARGETS)[targetKey(regionOf(op, state), state)] ? state : undefined;
    },
    update(op, id, olds, news) {
        register(op, regionOf(op, news), news, { subject: `Application AutoScaling Target (${id})`, service: "Application Auto Scaling", operation: "RegisterScalableTarget" });
        return { ...olds, ...news };
    },
    delete(op, _id, state) {
        const key = targetKey(regionOf(op, state), state);
        delete op.db.table(TARGETS)[key];
        // Deregistering a target deletes its scaling policies (API DeregisterScalableTarget).
        for (const [k, p] of Object.entries(op.db.table(POLICIES))) if (p.targetKey === key) delete op.db.table(POLICIES)[k];
    },
};

export const policy: ResourceModule = {
    type: "aws:appautoscaling/policy:Policy",
    forceNew: POLICY_FORCE_NEW,
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const name = typeof inputs.name === "string" ? inputs.name : autoName(op);
        const key = targetKey(region, inputs);
        if (!op.db.table(TARGETS)[key]) {
            throw refuse(RULES.targetMissing, { subject: `Application Auto Scaling Scaling Policy (${name})`, service: "Application Auto Scaling", operation: "PutScalingPolicy" }, {
                namespace: String(inputs.serviceNamespace),
                resourceId: String(inputs.resourceId),
                dimension: String(inputs.scalableDimension),
            });
        }
        op.db.table(POLICIES)[`${key}/${name}`] = { name, targetKey: key, policyType: inputs.policyType ?? "StepScaling" };
        const policyArn = arn("autoscaling", region, `scalingPolicy:${hexId(16)}:resource/${String(inputs.serviceNamespace)}/${String(inputs.resourceId)}:policyName/${name}`);
        return { id: name, outs: { ...inputs, alarmArns: [], arn: policyArn, name, policyType: inputs.policyType ?? "StepScaling", region } };
    },
    read(op, id, state) {
        return op.db.table(POLICIES)[`${targetKey(regionOf(op, state), state)}/${id}`] ? state : undefined;
    },
    update(op, id, olds, news) {
        const key = targetKey(regionOf(op, news), news);
        op.db.table(POLICIES)[`${key}/${id}`] = { name: id, targetKey: key, policyType: news.policyType ?? "StepScaling" };
        return { ...olds, ...news };
    },
    delete(op, id, state) {
        delete op.db.table(POLICIES)[`${targetKey(regionOf(op, state), state)}/${id}`];
    },
};
