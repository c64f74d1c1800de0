/**
 * ECS: `aws:ecs/cluster:Cluster`, `aws:ecs/taskDefinition:TaskDefinition` and `aws:ecs/service:Service`.
 *
 * Every task definition is a revision of its family: registering one takes the family's next
 * revision, and deleting it deregisters it — the revision stays, INACTIVE (ECS API
 * RegisterTaskDefinition / DeregisterTaskDefinition). A service keeps the list of its deployments,
 * one per task definition it was given, so a test sees what rolled out.
 *
 * CreateCluster with the name of an ACTIVE cluster is not refused: ECS returns that cluster, and
 * the provider adopts it as its own (hashicorp/terraform-provider-aws#38875, "creating
 * aws_ecs_cluster imports existing cluster automatically if it already exists"). Two stacks that
 * name one cluster then share it; the fake does the same, and records who adopted it.
 */
import { type ForceNew, type Op, type Props, type ResourceModule, type Rule } from "../framework";
import { arn, refuse, regionOf, required, str, type Call } from "./common";
import { TARGET_GROUPS, type TargetGroupRecord } from "./elbv2";

const CLUSTER = "internal/service/ecs/cluster.go";
const TASK_DEFINITION = "internal/service/ecs/task_definition.go";
const SERVICE = "internal/service/ecs/service.go";
const API = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference";

export const RULES = {
    clusterContainsServices: {
        rule: "a cluster with active services cannot be deleted (the provider retries for 10 minutes, then fails)",
        error: {
            status: 400,
            code: "ClusterContainsServicesException",
            message: "You can't delete a cluster that contains services. First, update the service to reduce its desired task count to 0, and then delete the service.",
        },
        source: `${API}/API_DeleteCluster.html (Errors: ClusterContainsServicesException); ${CLUSTER} resourceClusterDelete`,
    },
    clusterNotFound: {
        rule: "a service is made in an existing cluster",
        error: { status: 400, code: "ClusterNotFoundException", message: "The specified cluster wasn't found. You can view your available clusters with ListClusters." },
        source: `${API}/API_CreateService.html (Errors: ClusterNotFoundException)`,
    },
    serviceName: {
        rule: "a service name is unique within its cluster while the service is ACTIVE or DRAINING",
        error: { status: 400, code: "InvalidParameterException", message: "Creation of service was not idempotent." },
        source: `${API}/API_CreateService.html (serviceName: "Service names must be unique within a cluster")`,
    },
    inactiveTaskDefinition: {
        rule: "a service cannot be created with, or updated to, an INACTIVE (deregistered) task definition",
        error: { status: 400, code: "ClientException", message: "TaskDefinition is inactive" },
        source: `${API}/API_DeregisterTaskDefinition.html ("you can't create new services with INACTIVE task definition revisions", nor update a service to one)`,
    },
    targetGroupWithoutLoadBalancer: {
        rule: "a service's target group must be associated with a load balancer (a listener forwarding to it)",
        error: { status: 400, code: "InvalidParameterException", message: "The target group with targetGroupArn {arn} does not have an associated load balancer." },
        source: "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-service-load-balancers.html",
    },
} as const satisfies Record<string, Rule>;

export const CLUSTER_FORCE_NEW: readonly ForceNew[] = [{ field: "name", source: `${CLUSTER}:125` }];

/** Every argument of a task definition but tags, skipDestroy and trackLatest forces a new revision. */
export const TASK_DEFINITION_FORCE_NEW: readonly ForceNew[] = [
    { field: "containerDefinitions", source: `${TASK_DEFINITION}:83` },
    { field: "cpu", source: `${TASK_DEFINITION}:114` },
    { field: "enableFaultInjection", source: `${TASK_DEFINITION}:120` },
    { field: "ephemeralStorage", source: `${TASK_DEFINITION}:126` },
    { field: "executionRoleArn", source: `${TASK_DEFINITION}:141` },
    { field: "family", source: `${TASK_DEFINITION}:147` },
    { field: "ipcMode", source: `${TASK_DEFINITION}:175` },
    { field: "memory", source: `${TASK_DEFINITION}:181` },
    { field: "networkMode", source: `${TASK_DEFINITION}:187` },
    { field: "pidMode", source: `${TASK_DEFINITION}:193` },
    { field: "placementConstraints", source: `${TASK_DEFINITION}:199` },
    { field: "proxyConfiguration", source: `${TASK_DEFINITION}:221` },
    { field: "requiresCompatibilities", source: `${TASK_DEFINITION}:248` },
    { field: "runtimePlatform", source: `${TASK_DEFINITION}:266` },
    { field: "taskRoleArn", source: `${TASK_DEFINITION}:294` },
    { field: "volumes", source: `${TASK_DEFINITION}:305` },
];

export const SERVICE_FORCE_NEW: readonly ForceNew[] = [
    { field: "cluster", source: `${SERVICE}:612` },
    { field: "iamRole", source: `${SERVICE}:800` },
    { field: "launchType", source: `${SERVICE}:806` },
    { field: "name", source: `${SERVICE}:869` },
    { field: "schedulingStrategy", source: `${SERVICE}:958` },
];

export const CLUSTERS = "ecs.clusters";
export const TASK_DEFINITIONS = "ecs.taskDefinitions";
export const SERVICES = "ecs.services";

export interface ClusterRecord extends Props {
    arn: string;
    name: string;
    region: string;
    status: "ACTIVE" | "INACTIVE";
    /** The URNs of every resource that created (or adopted) it. */
    owners: string[];
}
export interface TaskDefinitionRecord extends Props {
    arn: string;
    family: string;
    revision: number;
    region: string;
    status: "ACTIVE" | "INACTIVE";
    containerDefinitions: unknown;
    registeredAt: string;
    deregisteredAt?: string;
}
export interface Deployment extends Props {
    taskDefinition: string;
    at: string;
}
export interface ServiceRecord extends Props {
    arn: string;
    name: string;
    clusterArn: string;
    region: string;
    status: "ACTIVE" | "DRAINING" | "INACTIVE";
    taskDefinition: string;
    desiredCount: number;
    deployments: Deployment[];
    /** The CloudWatch alarms its deployments watch (deploymentConfiguration.alarms), as last set. */
    alarms?: unknown;
}

function ecsCall(operation: string, subject: string): Call {
    return { subject, service: "ECS", operation };
}

export const cluster: ResourceModule = {
    type: "aws:ecs/cluster:Cluster",
    forceNew: CLUSTER_FORCE_NEW,
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const name = required(inputs, "name", "aws:ecs/cluster:Cluster");
        const clusterArn = arn("ecs", region, `cluster/${name}`);
        const table = op.db.table<ClusterRecord>(CLUSTERS);
        const existing = table[clusterArn];
        if (existing?.status === "ACTIVE") existing.owners.push(op.urn);
        else table[clusterArn] = { arn: clusterArn, name, region, status: "ACTIVE", owners: [op.urn] };
        return { id: clusterArn, outs: { ...inputs, arn: clusterArn, name, region, settings: inputs.settings ?? [], tags: inputs.tags ?? {}, tagsAll: inputs.tags ?? {} } };
    },
    read(op, id, state) {
        return op.db.table<ClusterRecord>(CLUSTERS)[id]?.status === "ACTIVE" ? state : undefined;
    },
    update(_op, _id, olds, news) {
        return { ...olds, ...news };
    },
    delete(op, id) {
        const record = op.db.table<ClusterRecord>(CLUSTERS)[id];
        if (!record || record.status !== "ACTIVE") return;
        const active = Object.values(op.db.table<ServiceRecord>(SERVICES)).some((s) => s.clusterArn === id && s.status !== "INACTIVE");
        if (active) throw refuse(RULES.clusterContainsServices, ecsCall("DeleteCluster", `ECS Cluster (${id})`));
        record.status = "INACTIVE";
    },
};

export const taskDefinition: ResourceModule = {
    type: "aws:ecs/taskDefinition:TaskDefinition",
    forceNew: TASK_DEFINITION_FORCE_NEW,
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const family = required(inputs, "family", "aws:ecs/taskDefinition:TaskDefinition");
        const table = op.db.table<TaskDefinitionRecord>(TASK_DEFINITIONS);
        const revision = 1 + Math.max(0, ...Object.values(table).filter((t) => t.region === region && t.family === family).map((t) => t.revision));
        const familyArn = arn("ecs", region, `task-definition/${family}`);
        const tdArn = `${familyArn}:${revision}`;
        const containerDefinitions = typeof inputs.containerDefinitions === "string" ? (JSON.parse(inputs.containerDefinitions) as unknown) : inputs.containerDefinitions;
        table[tdArn] = { arn: tdArn, family, revision, region, status: "ACTIVE", containerDefinitions, registeredAt: new Date(op.now()).toISOString() };
        return {
            id: family,
            outs: {
                ...inputs,
                arn: tdArn,
                arnWithoutRevision: familyArn,
                enableFaultInjection: inputs.enableFaultInjection ?? false,
                family,
                region,
                revision,
                skipDestroy: inputs.skipDestroy ?? false,
                tags: inputs.tags ?? {},
                tagsAll: inputs.tags ?? {},
                trackLatest: inputs.trackLatest ?? false,
            },
        };
    },
    read(op, _id, state) {
        // An INACTIVE revision is gone as far as the provider is concerned (TASK_DEFINITION: resourceTaskDefinitionRead).
        return op.db.table<TaskDefinitionRecord>(TASK_DEFINITIONS)[String(state.arn)]?.status === "ACTIVE" ? state : undefined;
    },
    update(_op, _id, olds, news) {
        return { ...olds, ...news };
    },
    delete(op, _id, state) {
        const record = op.db.table<TaskDefinitionRecord>(TASK_DEFINITIONS)[String(state.arn)];
        if (!record || state.skipDestroy === true) return;
        record.status = "INACTIVE";
        record.deregisteredAt = new Date(op.now()).toISOString();
    },
};

function activeTaskDefinition(op: Op, tdArn: string, call: Call): void {
    if (op.db.table<TaskDefinitionRecord>(TASK_DEFINITIONS)[tdArn]?.status !== "ACTIVE") throw refuse(RULES.inactiveTaskDefinition, call);
}

function checkTargetGroups(op: Op, inputs: Props, call: Call): void {
    const groups = op.db.table<TargetGroupRecord>(TARGET_GROUPS);
    for (const lb of Array.isArray(inputs.loadBalancers) ? (inputs.loadBalancers as Props[]) : []) {
        const tgArn = str(lb, "targetGroupArn");
        if (tgArn && !(groups[tgArn]?.loadBalancerArns.length > 0)) throw refuse(RULES.targetGroupWithoutLoadBalancer, call, { arn: tgArn });
    }
}

export const service: ResourceModule = {
    type: "aws:ecs/service:Service",
    forceNew: SERVICE_FORCE_NEW,
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const name = required(inputs, "name", "aws:ecs/service:Service");
        const call = ecsCall("CreateService", `ECS Service (${name})`);
        const clusterRef = str(inputs, "cluster") ?? "default";
        const clusters = op.db.table<ClusterRecord>(CLUSTERS);
        const clusterRecord = clusters[clusterRef] ?? Object.values(clusters).find((c) => c.region === region && c.name === clusterRef);
        if (!clusterRecord || clusterRecord.status !== "ACTIVE") throw refuse(RULES.clusterNotFound, call);
        const services = op.db.table<ServiceRecord>(SERVICES);
        const serviceArn = arn("ecs", region, `service/${clusterRecord.name}/${name}`);
        if (services[serviceArn] && services[serviceArn].status !== "INACTIVE") throw refuse(RULES.serviceName, call);
        const td = required(inputs, "taskDefinition", "aws:ecs/service:Service");
        activeTaskDefinition(op, td, call);
        checkTargetGroups(op, inputs, call);
        const desiredCount = typeof inputs.desiredCount === "number" ? inputs.desiredCount : 0;
        services[serviceArn] = {
            arn: serviceArn,
            name,
            clusterArn: clusterRecord.arn,
            region,
            status: "ACTIVE",
            taskDefinition: td,
            desiredCount,
            deployments: [{ taskDefinition: td, at: new Date(op.now()).toISOString() }],
            ...(inputs.alarms ? { alarms: inputs.alarms } : {}),
        };
        return { id: serviceArn, outs: serviceOutputs(inputs, services[serviceArn]) };
    },
    read(op, id, state) {
        const record = op.db.table<ServiceRecord>(SERVICES)[id];
        return record && record.status === "ACTIVE" ? { ...state, ...serviceOutputs(state, record) } : undefined;
    },
    update(op, id, olds, news) {
        const record = op.db.table<ServiceRecord>(SERVICES)[id];
        const call = ecsCall("UpdateService", `ECS Service (${record.name})`);
        const td = required(news, "taskDefinition", "aws:ecs/service:Service");
        activeTaskDefinition(op, td, call);
        checkTargetGroups(op, news, call);
        if (td !== record.taskDefinition || news.forceNewDeployment === true) record.deployments.push({ taskDefinition: td, at: new Date(op.now()).toISOString() });
        record.taskDefinition = td;
        if (typeof news.desiredCount === "number") record.desiredCount = news.desiredCount;
        if (news.alarms) record.alarms = news.alarms;
        else delete record.alarms;
        return serviceOutputs({ ...olds, ...news }, record);
    },
    delete(op, id) {
        // The provider scales the service to 0, deletes it and waits until it is INACTIVE (SERVICE: resourceServiceDelete).
        const record = op.db.table<ServiceRecord>(SERVICES)[id];
        if (record) record.status = "INACTIVE";
    },
};

function serviceOutputs(inputs: Props, record: ServiceRecord): Props {
    return {
        ...inputs,
        arn: record.arn,
        cluster: record.clusterArn,
        desiredCount: record.desiredCount,
        iamRole: inputs.iamRole ?? "",
        name: record.name,
        platformVersion: inputs.platformVersion ?? "LATEST",
        region: record.region,
        schedulingStrategy: inputs.schedulingStrategy ?? "REPLICA",
        tags: inputs.tags ?? {},
        tagsAll: inputs.tags ?? {},
        taskDefinition: record.taskDefinition,
        triggers: inputs.triggers ?? {},
    };
}
