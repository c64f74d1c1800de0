/**
 * ECS Express Mode: `aws:ecs/expressGatewayService:ExpressGatewayService`, in its own table
 * (`ecs.expressServices`, by service ARN). A record keeps the service's revisions, one per
 * configuration ECS deployed (create, then every update that changed what runs), so a test sees what
 * rolled out; the last one is what runs. The endpoint Express makes is the form its services show,
 * `https://<two letters of the name>-<32 hex>.ecs.<region>.on.aws`, the same for the service's life.
 *
 * The service runs in the `default` cluster unless told otherwise; Express makes that cluster when
 * it is missing (AWS ECS developer guide, "Resources created by Amazon ECS Express Mode services"),
 * so the fake needs no record of it. The load balancer, certificate, security groups and scaling it
 * makes are not modelled: the program neither names nor reads them.
 *
 * ForceNew lines are of `express_gateway_service.go` at {@link SERVICE_COMMIT} (read with the search
 * tools' file reader; the newest stored copy).
 */
import { type ForceNew, type Op, type Props, type ResourceModule, type Rule } from "../framework";
import { arn, hexId, refuse, regionOf, required, str, type Call } from "./common";
import { CLUSTERS, SERVICES as ECS_SERVICES, type ClusterRecord, type ServiceRecord as EcsServiceRecord } from "./ecs";
import { ROLES, type RoleRecord } from "./iam";

const SERVICE = "internal/service/ecs/express_gateway_service.go";
/** The commit of hashicorp/terraform-provider-aws whose SERVICE the lines below are from. */
export const SERVICE_COMMIT = "43678040cd655d46d0c37bc486f971ddf5dc67f1";
const API = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference";
const GUIDE = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide";

/** AWS's managed policy the infrastructure role needs (AWS ECS developer guide, "Amazon ECS infrastructure IAM role"). */
export const EXPRESS_INFRASTRUCTURE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSInfrastructureRoleforExpressGatewayServices";

export const RULES = {
    serviceName: {
        rule: "a service name is unique within its cluster; before CreateExpressGatewayService the provider asks DescribeServices for the name and refuses it in any status the answer has, INACTIVE (a deleted service ECS still lists) included",
        error: { status: 0, code: "provider", message: "Resource Already Exists: Express Gateway Service {name} already exists in cluster {cluster}" },
        source: `${API}/API_CreateExpressGatewayService.html (serviceName: "must be unique within the specified cluster"); ${SERVICE} Create and checkExpressGatewayServiceExists at ${SERVICE_COMMIT}; INACTIVE names refused: hashicorp/terraform-provider-aws#47438, #47743 (fixed later by #48098); ${API}/API_DeleteService.html (INACTIVE services can still be viewed with DescribeServices)`,
    },
    infrastructureRoleTrust: {
        rule: "ECS must be able to assume the infrastructure role: its trust policy names ecs.amazonaws.com (the provider retries the refusal for its IAM propagation timeout, then fails)",
        error: { status: 400, code: "AccessDeniedException", message: "Cannot assume role {arn}" },
        source: `${GUIDE}/infrastructure_IAM_role.html (the trust policy: Principal Service ecs.amazonaws.com); ${SERVICE} retryExpressGatewayServiceCreate (retries AccessDeniedException "Cannot assume role")`,
    },
    clusterNotFound: {
        rule: "a service is made in the default cluster (Express makes it when missing) or in an existing one",
        error: { status: 400, code: "ClusterNotFoundException", message: "The specified cluster wasn't found. You can view your available clusters with ListClusters." },
        source: `${API}/API_CreateExpressGatewayService.html (Errors: ClusterNotFoundException); ${GUIDE}/express-service-work.html (the default cluster, "if it does not already exist")`,
    },
    twoSubnets: {
        rule: "a network configuration names at least two subnets",
        error: { status: 400, code: "InvalidParameterException", message: "At least 2 subnets must be specified when using network configuration." },
        source: "the networkConfigurations.subnets argument of aws.ecs.ExpressGatewayService in @pulumi/aws 7.48.0 (types/input.d.ts: \"At least 2 subnets must be specified when using network configuration\")",
    },
} as const satisfies Record<string, Rule>;

/** What the fake does that is no refusal: the state a call leaves the service in, with its source. */
export const STATES = {
    drainingWithoutPolicy: {
        rule: "a service deleted while its infrastructure role no longer holds the Express policy stays DRAINING: ECS cannot take its load balancer and the rest down. The provider's delete returns once the service is DRAINING, so `pulumi destroy` succeeds and leaves it",
        source: `the Note of aws.ecs.ExpressGatewayService (ecs/expressGatewayService.d.ts in @pulumi/aws 7.48.0: "set dependsOn to the related aws.iam.RolePolicy or aws.iam.RolePolicyAttachment … Otherwise, the policy may be destroyed too soon and the ECS service will then get stuck in the DRAINING state"); ${SERVICE} waitExpressGatewayServiceInactive (Target: INACTIVE, DRAINING)`,
    },
    scalingOnlyNotSent: {
        rule: "an update that changes only the scaling target is not sent to ECS: the provider's update leaves scaling_target out of the changes it looks for; the state takes the new values, ECS keeps the old",
        source: `${SERVICE} Update (fwflex.Diff with WithIgnoredField("scaling_target")) at ${SERVICE_COMMIT}`,
    },
} as const;

export const SERVICE_FORCE_NEW: readonly ForceNew[] = [
    { field: "infrastructureRoleArn", source: `${SERVICE}:96 (stringplanmodifier.RequiresReplace)` },
    { field: "serviceName", source: `${SERVICE}:115 (stringplanmodifier.RequiresReplaceIfConfigured)` },
];

export const EXPRESS_SERVICES = "ecs.expressServices";

/** What one deployment of the service ran. */
export interface Revision extends Props {
    arn: string;
    at: string;
    image: string;
    environment: Array<{ name: string; value: string }>;
    secrets: Array<{ name: string; valueFrom: string }>;
    cpu: string;
    memory: string;
    healthCheckPath: string;
    executionRoleArn: string;
    taskRoleArn: string;
    containerPort: number;
    logs: Props[];
    network: Props;
    scaling: Props;
}

export interface ExpressServiceRecord extends Props {
    arn: string;
    name: string;
    cluster: string;
    region: string;
    status: "ACTIVE" | "DRAINING" | "INACTIVE";
    infrastructureRoleArn: string;
    endpoint: string;
    revisions: Revision[];
    /** The scaling ECS applies (what the last update that was sent said). */
    scaling: Props;
}

function call(operation: string, subject: string): Call {
    return { subject, service: "ECS", operation };
}

const roleName = (roleArn: string): string => roleArn.slice(roleArn.lastIndexOf("/") + 1);

/** The one element of a list input (the SDK sends single blocks as one-element lists), or the object itself. */
function block(value: unknown): Props {
    if (Array.isArray(value)) return (value[0] as Props | undefined) ?? {};
    return typeof value === "object" && value !== null ? (value as Props) : {};
}

function list<T>(value: unknown): T[] {
    return Array.isArray(value) ? (value as T[]) : [];
}

/** The configuration a deployment runs, from the service's inputs. */
function revisionOf(op: Op, serviceArn: string, inputs: Props): Revision {
    const container = block(inputs.primaryContainer);
    return {
        arn: `${serviceArn.replace(":service/", ":service-revision/")}/${hexId(8)}`,
        at: new Date(op.now()).toISOString(),
        image: required(container, "image", "aws:ecs/expressGatewayService:ExpressGatewayService primaryContainer"),
        environment: list(container.environments),
        secrets: list(container.secrets),
        cpu: str(inputs, "cpu") ?? "1024",
        memory: str(inputs, "memory") ?? "2048",
        healthCheckPath: str(inputs, "healthCheckPath") ?? "/ping",
        executionRoleArn: required(inputs, "executionRoleArn", "aws:ecs/expressGatewayService:ExpressGatewayService"),
        taskRoleArn: str(inputs, "taskRoleArn") ?? "",
        containerPort: typeof container.containerPort === "number" ? container.containerPort : 80,
        logs: list(container.awsLogsConfigurations),
        network: block(inputs.networkConfigurations),
        scaling: block(inputs.scalingTargets),
    };
}

/** Whether two revisions run the same configuration (a new deployment otherwise). */
function sameConfiguration(a: Revision, b: Revision): boolean {
    const { arn: _a, at: _at, scaling: _s, ...left } = a;
    const { arn: _b, at: _bt, scaling: _t, ...right } = b;
    return JSON.stringify(left) === JSON.stringify(right);
}

function checkNetwork(inputs: Props, subject: string): void {
    const network = block(inputs.networkConfigurations);
    if (Object.keys(network).length > 0 && list(network.subnets).length < 2) throw refuse(RULES.twoSubnets, call("CreateExpressGatewayService", subject));
}

function outputs(inputs: Props, record: ExpressServiceRecord): Props {
    const current = record.revisions[record.revisions.length - 1];
    return {
        ...inputs,
        cluster: record.cluster,
        cpu: current.cpu,
        currentDeployment: `${record.arn.replace(":service/", ":service-deployment/")}/${current.arn.slice(current.arn.lastIndexOf("/") + 1)}`,
        healthCheckPath: current.healthCheckPath,
        infrastructureRoleArn: record.infrastructureRoleArn,
        ingressPaths: [{ accessType: "PUBLIC", endpoint: record.endpoint }],
        memory: current.memory,
        region: record.region,
        serviceArn: record.arn,
        serviceName: record.name,
        serviceRevisionArn: current.arn,
        tags: inputs.tags ?? {},
        tagsAll: inputs.tags ?? {},
        waitForSteadyState: inputs.waitForSteadyState ?? false,
    };
}

export const expressGatewayService: ResourceModule = {
    type: "aws:ecs/expressGatewayService:ExpressGatewayService",
    forceNew: SERVICE_FORCE_NEW,
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const name = str(inputs, "serviceName") ?? `eg-${hexId(4)}`;
        const clusterRef = str(inputs, "cluster") ?? "default";
        const cluster = clusterRef.slice(clusterRef.lastIndexOf("/") + 1);
        const subject = `ECS Express Gateway Service (${name})`;
        const serviceArn = arn("ecs", region, `service/${cluster}/${name}`);
        const listed =
            Object.values(op.db.table<ExpressServiceRecord>(EXPRESS_SERVICES)).some((s) => s.arn === serviceArn) ||
            Object.values(op.db.table<EcsServiceRecord>(ECS_SERVICES)).some((s) => s.arn === serviceArn);
        if (listed) throw refuse(RULES.serviceName, call("DescribeServices", subject), { name, cluster });
        const clusterKnown = cluster === "default" || Object.values(op.db.table<ClusterRecord>(CLUSTERS)).some((c) => c.status === "ACTIVE" && c.region === region && (c.name === cluster || c.arn === clusterRef));
        if (!clusterKnown) throw refuse(RULES.clusterNotFound, call("CreateExpressGatewayService", subject));
        const infrastructureRoleArn = required(inputs, "infrastructureRoleArn", "aws:ecs/expressGatewayService:ExpressGatewayService");
        const role = op.db.table<RoleRecord>(ROLES)[roleName(infrastructureRoleArn)];
        if (!role || !role.assumeRolePolicy.includes('"ecs.amazonaws.com"')) throw refuse(RULES.infrastructureRoleTrust, call("CreateExpressGatewayService", subject), { arn: infrastructureRoleArn });
        checkNetwork(inputs, subject);
        const revision = revisionOf(op, serviceArn, inputs);
        const record: ExpressServiceRecord = {
            arn: serviceArn,
            name,
            cluster,
            region,
            status: "ACTIVE",
            infrastructureRoleArn,
            endpoint: `https://${name.slice(0, 2).toLowerCase()}-${hexId(16)}.ecs.${region}.on.aws`,
            revisions: [revision],
            scaling: revision.scaling,
        };
        op.db.table<ExpressServiceRecord>(EXPRESS_SERVICES)[serviceArn] = record;
        return { id: serviceArn, outs: outputs(inputs, record) };
    },
    read(op, id, state) {
        const record = op.db.table<ExpressServiceRecord>(EXPRESS_SERVICES)[id];
        // DRAINING and INACTIVE services are gone as far as the provider is concerned (SERVICE: Read).
        return record?.status === "ACTIVE" ? { ...state, ...outputs(state, record) } : undefined;
    },
    update(op, id, olds, news) {
        const record = op.db.table<ExpressServiceRecord>(EXPRESS_SERVICES)[id];
        const subject = `ECS Express Gateway Service (${record.name})`;
        checkNetwork(news, subject);
        const next = revisionOf(op, record.arn, news);
        const current = record.revisions[record.revisions.length - 1];
        if (!sameConfiguration(current, next)) {
            // UpdateExpressGatewayService: a new revision, deployed as a canary; the scaling goes with it.
            record.revisions.push(next);
            record.scaling = next.scaling;
        }
        return outputs({ ...olds, ...news }, record);
    },
    delete(op, id) {
        const record = op.db.table<ExpressServiceRecord>(EXPRESS_SERVICES)[id];
        if (!record || record.status !== "ACTIVE") return;
        const role = op.db.table<RoleRecord>(ROLES)[roleName(record.infrastructureRoleArn)];
        record.status = role?.attached.includes(EXPRESS_INFRASTRUCTURE_POLICY) ? "INACTIVE" : "DRAINING";
    },
};
